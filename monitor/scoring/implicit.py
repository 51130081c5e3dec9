"""Cues for complaints that carry no negative word, and for posts whose negative words are not a complaint.

Most missed complaints state a failure as fact ("the screen goes black when I reverse"), set a time or a
number against an expectation ("3rd week in a row", "76,000 miles and it needs a new gearbox"), accuse
without swearing ("ripping us off", "how can you allow this") or ask a question that implies a fault
("how come ...?", "what's the delay?"). These rules describe those shapes; the scorer adds them to the
lexicon's. The second half lists what disarms a post: a brand's own apology, a contest entry, a question
about how to complain, planned maintenance.
"""
from __future__ import annotations

_TIME = "{minutes|mins|min|hours|hrs|hour|hr|days|day|nights|night|weeks|week|months|month|years|year}"
_ORDINAL = "{2nd|3rd|4th|5th|6th|7th|second|third|fourth|fifth|sixth|seventh|nth}"

# rule name -> (weight, label shown to agents, patterns); same pattern language as the lexicon.
IMPLICIT_RULES: dict[str, tuple[float, str, list[str]]] = {
    "failure": (0.8, "failure stated as fact", [
        "{goes|went|turns|turned|going|gone} {black|blank|dark|dead|grey|white|off by itself}",
        "{vanished|disappeared|wiped|erased|corrupt|corrupted|disappearing|vanishing}",
        "{leaks|leaking|leaked|leak|rust|rusting|rusted|clunk|clunks|clunking|rattling|rattles|rattle|squeaking|squeaks|flickering|flickers}", "{knocking|grinding|buzzing|clicking|banging} {noise|noises|sound|sounds}", "doing {it|this|that} again",
        "{drains|draining|shakes|shaking|vibrates|peeling|shrunk|shrank|bobbled|faded|breaks|breaking|burnt|burned|scalding|scalded|pooling|flooding|flooded}",
        "{someone|somebody} else's", "{doesn't|don't|does not|didn't|never} exist", "{lost|losing} {my|our|all}",
        "{blocked|froze|suspended|closed|cancelled|deactivated|restricted|capped|cut off} my",
        "{put|placed|slapped} a {hold|block|freeze|restriction|stop|flag} on my", "and now {the|my|it|it's|nothing|everything|they|we|i|i'm|our}",
        "since {the|my|it|they|you} * {updated|changed|moved|came|went|started|switched|installed|fitted|upgraded}", "{logging|logged|kicking|kicked|locking|locked} * {out|off}", "{logging|logged|kicking|kicked|locking|locked} * * {out|off}", "{gave|given|sold|let} {my|our} {seat|room|table|slot|booking|spot|place} {away|to}",
        "{came|come|coming|fell|falls|falling} {off|apart|loose|out}", "limp mode", "{warning|engine|fault} light",
        "error code", "{says|said|say|shows|show|showing|showed|reads|saying} {invalid|error|expired|unavailable|nothing|0|zero|declined}",
        "{returns|returned|shows|showing|show|gives|giving} {nothing|0|zero|blank|empty|a 403|a 404|403|404}",
        "{kicking|kicked|kicks|logging|logs|throws|throwing|booting|boots} {me|us|everyone|people|players} {out|off}", "logs me out",
        "{not|isn't|aren't|wasn't|weren't|never} {working|recognised|recognized|unlocking|connecting|syncing|displaying|updating|accepting|completing|posting|posted|showing up}",
        "{stopped|stops} {being|accepting|recognising|recognizing|showing|posting|completing}",
        "{no|any} record of", "{disconnection|eviction|debt|final demand|collection|bailiff|bailiffs} {letter|letters|notice|warning|threat}", "{an|a|the} {empty|blank}", "{itself|by itself|on its own|themselves}", "{reset|resets|went|dropped|back} to {0|zero|nothing}",
        "{after|since} the {latest|last|new|recent|} {update|patch|upgrade|service|repair|install|installation|migration}", "no option to", "{not|isn't|wasn't|no longer} {in|on|showing in|showing on} my account",
        "{nobody|no one|noone} {came|called|rang|turned up|showed up|contacted|turned}", "without {a word|me asking|asking|telling|notice|warning|consent}", "without {my|our|any|your} {permission|consent|knowledge|agreement|approval}",
        "{no|not a} {letter|email|text|notice|call|warning} {no|nothing|or}", "{same|wrong} {reading|bill|amount|size|one}", "{lag|latency|ping} {spikes|spike}", "{drops|dropped|dropping} to",
        "{been|was|is|got} {banned|suspended|flagged|locked} for",
    ]),
    "expectation": (0.8, "expectation breached", [
        "# " + _TIME + " in a row", _ORDINAL + " {time|week|night|day|visit|month|weekend|year} {in a row|running}",
        "# " + _TIME + " running", _ORDINAL + " {time|visit|engineer|call|email}", "in a row now",
        "position {still|now|} #", "for # {minutes|mins|min|hours|hrs|hr}", "# " + _TIME + " in {the|a} {queue|chat|line|hold}", "# " + _TIME + " in {the|a} * {queue|chat|line|hold}", "# " + _TIME + " in {the|a} * * {queue|chat|line|hold}", "# {different|separate} {dates|times|delivery}",
        "{was|were|been} {promised|supposed|meant|due|booked|scheduled|confirmed|expected} {for|on|by|to be|to arrive}",
        _ORDINAL + " * in # " + _TIME, _ORDINAL + " * * in # " + _TIME,
        "should {have|'ve} {had|been|arrived|got|received|come|landed}", "{slot|window} {was|is}",
        "# {months|weeks|days} old", "after {only|just|} # {months|weeks|days|uses|washes|wears|miles}",
        "{only|just} # {months|weeks|days} {old|ago|in|after}", "# 000 miles", "# k miles",
        "even {though|tho|tho'|though}", "despite {paying|having|ordering|booking|being|me|us}",
        "when {i|we} {have|had|paid|was|were|did|literally|never|already|bought|ordered}",
        "{in progress|processing|pending|in review|under review|being prepared|awaiting|on its way|arriving tomorrow|dispatched} {for|since|in}",
        "{months|weeks|days|hours} {later|on}", "the day after", "{that|this} was # * ago", "{that|this} was # ago", "{still|yet} {awaiting|pending|processing|in review|in progress}",
    ]),
    "accusation": (0.9, "accusation", [
        "{ripping|rip|ripped|rips|ripping} * off", "{how can|how could|how do|how dare|how does} {you|they|anyone|a company}",
        "how can * {allow|justify|charge|call}", "{can|could} you justify", "not {cool|ok|okay|on|right|fair|acceptable}", "boo",
        "{this is|that's|thats|it's|its|is} {theft|robbery|daylight robbery|criminal|a scam|fraud|extortion|a con}",
        "{having|taking} {a laugh|the mick|the mickey|the piss|us for|me for}", "{you|they|you guys|u} {really|clearly|obviously|just|} {don't|couldn't} care",
        "funny how", "so you {just|are just|'re just}", "{not|isn't|is not} a beta", "{treat|treating|treated|treats} {customers|us|people|me|your}",
        "{greed|greedy|cash grab|money grab|cashgrab|shrinkflation|shrinking}", "{you|they} {should|ought to} be ashamed",
        "{loyalty|customers} means nothing", "{don't|do not|doesn't} {want|value|respect|deserve} {my|our|your} {business|custom|customers|money}", "{for|to} {a|the} {new|loyal|existing} customer", "nothing says",
    ]),
    "help_request": (0.5, "asks for help with a problem", [
        "{please|kindly|pls} {assist|advise|expedite|respond|sort}", "{can|could|will|would} {you|someone|somebody|u|anyone} {please|pls|} {expedite|assist|call|ring|contact|reverse|check|sort|look into|get back}",
        "{need|needs|needed} {help|assistance|someone|somebody|support|this sorted|it sorted} {with|urgently|asap|now|please|today|before}",
        "{urgent|urgently|asap}", "{way to|how do i|how can i|can i|can you|could you} {recover|restore|retrieve|undo|get back}", "{sent|dm'd|dmed|dm|emailed} {you|a dm|a message|an email|the details}", "can {i|we} get {my|a|one|it} {refunded|back|replaced|fixed}",
    ]),
    "left_in_the_dark": (0.8, "no one can say when or why", [
        "{nobody|no one|noone} {can|could|will|would|is able to|seems able to} {tell|explain|say|give|confirm|answer}",
        "{can't|cannot|couldn't|won't|wouldn't|unable to|refuse to|refused to|refusing to} {tell|say|explain|confirm|give} "
        "{me|us|} {when|why|how long|a date|a reason|a timeline|an answer|anything}",
        "no {date|timeline|timeframe|time frame|end date|reason given}", "{has|have|had} no idea {when|why|how long}",
        "{nobody|no one|noone} knows {when|why|anything|what}", "{different|conflicting} {answers|answer|story|stories}",
    ]),
    "unreachable": (0.9, "cannot reach a person", [
        "{how|where} do {i|we|you} {get hold of|reach|contact|talk to|speak to|get through to|get} {a|an|someone|anyone|somebody|actual|real} {real|actual|human|person|someone|body|out|}",
        "{actual|real|live} {human|person|people|agent}", "{chatbot|bot|menu|ivr|automated} {keeps|just|loops|closes|ends|hangs|sends|tells}",
    ]),
    "fault_question": (0.85, "question implying a fault", [
        "how come", "{what's|what is|whats} the {delay|hold up|holdup|problem|issue|deal|point}",
        "{what's|what is|whats} {going on|happening|up} with", "what happened to {my|the|our|all}", "{where's|where is|where are} {my|our|the}",
        "is something {up|wrong|going on}", "is {this|it|that} normal", "how can {my|the|this|it|a|an|our|your} *", "{anyone|anybody|someone} there", "{hello|helloo|hellooo|hi} {anyone|anybody}",
        "why {does|did|do|has|have|is|was|are|were} * {say|says|show|shows|still|never|not|charging|taking|being|cut|changed}",
        "why {is|are|does|has|did|was} {my|our|this|everything|nothing}", "{so|and} {you|u} {just|will} *",
    ]),
}

# A brand's own reply quotes the problem it answers; it is never the customer's complaint.
BRAND_VOICE_PHRASES = [
    "{dm|message|pm} us", "{we're|we are|we're so|we're really|we are really|we're very} {sorry|aware|investigating|looking|on it|working}",
    "{we|we'd|we'll} {apologise|apologize|apologies}", "apologies {to|for} {everyone|all|anyone|the|any}", "sorry to hear", "{our|the} {team|engineers|teams} {are|is|will}",
    "we'll {look|check|get|be|arrange|make|contact|post|update|chase|pass}", "thanks for your patience", "we {expect|aim} to",
]
# A contest entry "waiting for the result" or a "fingers crossed" is hope, not a grievance.
HOPE_PHRASES = [
    "{entered|enter|entering} * {competition|giveaway|contest|comp|draw|raffle|challenge|sweepstakes}",
    "{entered|enter|entering} * * {competition|giveaway|contest|comp|draw|raffle|challenge|sweepstakes}",
    "{entered|enter|entering} * * * {competition|giveaway|contest|comp|draw|raffle|challenge|sweepstakes}",
    "{fingers|fingers are} crossed", "pick me", "{waiting|wait} {for|on} the result", "{excited|can't wait}",
]
# Asking how to complain, give feedback or claim is a question about a process, not a complaint yet.
PROCESS_PHRASES = [
    "{how|where} {do|can|should|would} {i|we|one} {make|file|lodge|raise|escalate|submit|send|find|leave|report|give}",
    "{what's|what is|whats} {your|the} {complaints|complaint|claims|feedback} {procedure|process|policy|address|form}",
    "{how|where} to {complain|make|file|escalate|report}", "{just|only} want to know the process", "where's {my|the} {nearest|closest|local}",
    "as {planned|scheduled|expected|advertised}", "{usually|normally|typically|generally} {take|takes|arrive|arrives|ship|ships}", "{planned|scheduled} {maintenance|downtime|works|outage}",
    "hell {frozen|freezes|froze} over",
]

# Words that put a post in a customer's dealings with a company. Generic grumbles ("smh", "no idea",
# "frozen", "another") count as complaint evidence only in that context.
SERVICE_NOUNS = frozenset(
    "order orders ordered delivery delivered parcel package tracking courier refund refunded account app website "
    "site checkout bill billed billing charge charged payment card subscription plan contract booking booked "
    "flight flights bag luggage gate ticket tickets support helpline chat agent engineer dealer service servers "
    "server store branch customer customers driver box sim router broadband signal wifi meter tariff warranty "
    "recall update patch game login password claim reservation seat seats staff manager".split()
)
SECOND_PERSON = frozenset({"you", "your", "you're", "you've", "you'll", "yourselves", "y'all", "ya"})
# Rules whose wording is common outside any dealings with a company.
GENERIC_RULES = frozenset({"repeat"})
GENERIC_PHRASES = frozenset({"is frozen", "no idea", "no clue", "stuck in", "no date", "no timeline",
                             "no timeframe", "no time frame"})
GENERIC_HEADS = frozenset({"smh", "wtf", "ffs", "frozen", "nightmare", "mess", "chaos", "joke", "hate", "always",
                           "waiting", "why"})
