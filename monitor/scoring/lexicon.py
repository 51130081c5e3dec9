"""Default complaint lexicon.

Patterns are matched on word tokens (lower case, contractions normalised):
``*`` is any one token, ``#`` a number or a number word, ``{a|b}`` one of the
listed tokens. Each rule carries a weight of evidence; the scorer adds the
evidence up (capped per rule) and turns it into a confidence.
"""
from __future__ import annotations

NUMBER_WORDS = frozenset(
    "a an one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "several few couple many multiple".split()
)

_TIME = "{minutes|mins|min|hours|hrs|hour|hr|days|day|weeks|week|months|month}"
_WEEKDAY = ("{monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|last|christmas|easter|january|february|"
            "march|april|may|june|july|august|september|october|november|december}")
_NEG_AUX = "{don't|doesn't|didn't|won't|isn't|wasn't|aren't|can't|couldn't|not|never|haven't|hasn't}"

# rule name -> (weight, label shown to agents, patterns)
COMPLAINT_RULES: dict[str, tuple[float, str, list[str]]] = {
    "waiting": (0.9, "waiting", [
        "still waiting", "{been|keep|kept|am|i'm} waiting", "waiting {for|on} {my|a|the|an|our|your|over}",
        "on hold", "hold music", "in a queue", "# " + _TIME + " {and|later|now|on|without|with|waiting|for|to|late|overdue|behind|delayed}",
        "# " + _TIME + " {still|no|nothing}", "still {no|not|nothing|haven't|hasn't|isn't|can't|broken|down|charging|missing|stuck|unresolved|pending}",
        "yet to {receive|hear|get|arrive|see}", "no {update|updates|eta|tracking|news}", "since " + _WEEKDAY,
        "how long {do|does|until|till|before|will|should|is|are|must}", "{when|where} {is|are} my",
        "{when|where} is {the|our|my} {order|package|parcel|refund|delivery|money}", "{when|where's} my",
        "over # " + _TIME, "more than # " + _TIME, "{day|week|month} #", "# " + _TIME + " {ago|overdue|behind}",
        "{tracking|status|app|website|site|page|account|system|order} {says|shows|still|stuck|keeps|hasn't|shown}", "for # " + _TIME + " now", "{days|weeks|months} later",
        "{never|not} {arrived|came|showed|delivered|received|shipped}", "{hasn't|haven't|didn't|hasnt|havent} {arrived|come|shown|received|shipped|been}",
        "{late|delayed} again", "{is|are|was|were|always|arrived|running|still} late", "{been|it's|its|has been} {weeks|days|months|ages|forever}",
        "any {update|news|word} {on|about|regarding|re}", "been trying {to|for}", "delayed {again|by|for}", "still not", "since #", "when will {my|i|we|the|you|it}",
        "{it's|it|is|isn't} not here", "not {here|back|received|arrived|delivered|refunded|fixed|resolved} {yet|}", "never {arrives|comes|shows|turned|turns}",
    ]),
    "no_reply": (1.0, "no reply", [
        "{no|zero} {reply|response|answer|responses|replies|callback|call|word}", "{nobody|no one|noone} {answers|replies|responds|picks|is|cares|helps|gets}",
        "{never|not} {heard|replied|responded|answered|got} back", "never {heard|replied|responded|answered}",
        "{ignored|ignoring|ignore} {me|my|us|our|your|people|customers|everyone|complaints|emails}", "{been|being|was|were|got|get} ignored", "left on {read|seen}", "{ghosted|ghosting}",
        "{can't|cannot|unable|impossible} {to|} {reach|contact|get}", "{can't|cannot} get {through|hold|anyone|a}",
        "{emails|email|tickets|ticket|dms|dm|calls|messages} {ignored|unanswered}", "{no|zero} {help|support|communication}",
        "{hung|hangs|hanging} up", "not a single {reply|response|word|answer|call}", "{emailed|called|messaged|phoned|chased|contacted|rang|tweeted|dmed|written|wrote} {to|} * # times",
        "{emailed|called|messaged|phoned|chased|contacted|rang|tweeted|dmed|written|wrote} * * # times", "{rings|rang|ringing} out", "is {anyone|anybody} {there|home|working|reading}",
        "{nobody|no one|noone} {at|from|in} * {will|would|can|could|seems|knows|know}", "{nobody|no one|noone} {at|from|in} * * {will|would|can|could|seems|knows|know}", "{disconnects|disconnected|cut off|cuts off}", "disconnected me", "never called back", "{never|didn't|not} {call|called|get|got|write|wrote} back", "transferred # times", "{still|no} {no|} reply",
    ]),
    "billing": (0.9, "billing problem", [
        "charged {me|us|my|} {twice|double|again|two|three|for|after|without}", "charged twice", "charged {me|us} {a|an}", "charged {me|us|} # {for|to|extra|more|on|when}", "double {charged|charge|billed}",
        "{overcharged|overcharging|overcharge}", "{want|need|demand|where's|waiting|still|no|requesting|requested|owe} {my|a|me|} refund",
        "refund {me|my|still|never|yet|please|pls}", "my money back", "hidden {fee|fees|charges}", "{unauthorized|unauthorised} {charge|charges|payment|transaction}",
        "still being {charged|billed}", "billed {twice|again|after|me|for}", "{took|taking|stole|stealing} my money", "{scam|scammed|scamming|scammers}",
        "{rip|ripped|ripping} off", "ripoff", "{charging|charged} me for", "i {never|didn't} {made|make|agreed|authorised|authorized|order|ordered|signed|asked|requested|request}",
        "{fee|fees|charge|charges} i {never|didn't}", "{already|had already|'d already} paid", "after i paid", "{won't|wouldn't|refuse to|refusing to} {return|refund|give back|pay back|reimburse}",
        "{surprise|extra|added|sneaky|junk} {fee|fees|charge|charges|surcharge}", "{price|bill|fee|fees|subscription} {went|gone|goes|has gone|keeps going} up",
    ]),
    "cancel": (0.8, "cancellation / churn", [
        "cancel {my|the|our|this|it}", "{cancelling|canceling|closing|deleting} my", "{close|delete|cancel} my {account|subscription|membership|profile}", "{close|delete|cancel} my * {account|subscription|membership|profile}", "{cancelled|canceled} my {order|account|subscription|flight|booking}",
        "{want|trying|tried|wanted|going} to cancel", "{let|letting} me cancel", "{won't|doesn't} let me {cancel|unsubscribe|leave}",
        "{switching|switch|moving|going} to {another|a different|a new|a competitor|other}", "{i'm|we're|am} leaving", "{never|not} {again|ordering|buying|using|flying|shopping|recommending|coming|renewing}",
        "done with {you|this|your|them}", "last time {i|we|i'm|i'll}", "{unsubscribe|unsubscribing}", "{lost|losing} a customer",
        "find {another|a new} {provider|bank|airline|carrier|service}", "{avoid|stay away}",
    ]),
    "broken": (1.0, "not working", [
        "{doesn't|does not|didn't|don't|won't|isn't|not|stopped|never|can't|cannot|couldn't} {work|working|works|load|loading|open|opening|start|starting|charge|charging|connect|connecting|sync|syncing|turn|update|play|playing|respond|responding|register|go}",
        "{keeps|kept|keep} {crashing|freezing|dropping|disconnecting|failing|breaking|buffering|glitching|restarting|logging|kicking|charging|timing|saying|showing|rejecting|declining}",
        "{crashed|crashes|crashing|crash}", "stopped working", "{error|errors}", "{bug|bugs|buggy|glitch|glitches|glitchy}",
        "{defective|faulty|damaged|cracked|shattered|smashed|dented|leaking|torn|ripped|mouldy|moldy|stale|expired|rotten}", "broke {after|within|on|in|down}",
        "{broken|broke}", "stuck {on|at|in}", "{can't|cannot|unable|couldn't} {to|} {log|login|sign|access|pay|check|checkout|open|use|stream|watch|call|send|book|board|withdraw|transfer}",
        "locked out", "{login|log in|sign in|redirect|boot|reboot|crash} loop", "{overheated|overheats|overheating|melted|melting|sparked|exploded|smoking}",
        "someone else's {order|parcel|package|item|bag|luggage}", "{used|opened|second hand|returned|refurbished} {item|product|one} as new", "is nowhere", "nowhere to be {seen|found}",
        "{items|item|parts|pieces|half|bits|things} {missing|absent}", "{downgraded|bumped|offloaded|denied boarding}", "wrong {item|order|size|product|colour|color|address|charge|amount}", "{missing|lost} {item|items|part|parts|package|parcel|order|bag|bags|luggage|suitcase}",
        "lost {my|our|the} {package|parcel|order|luggage|bag|bags|suitcase|data|files|money}", "{fell|falling} apart",
        "{declined|rejected} {again|my|payment}", "{buffering|lagging|laggy|frozen|freezes|unusable|unplayable}",
        "{dropped|dropping|drops} {calls|call|connection|signal}", "{declined|failed|failing|fails|failure}",
        "{spinning|loading} {wheel|screen|forever}", "{incorrect|inaccurate|wrong} {bill|balance|information|info}", "{cold|lukewarm|burnt|undercooked|raw|soggy|stale} {food|coffee|latte|drink|meal|pizza|burger|fries|tea|chips|sandwich}",
        "{was|were|is|arrived} {cold|lukewarm|burnt|undercooked|soggy|stale}", "{won't|doesn't|didn't|wouldn't} let me", "{something|it|things} {went|goes|gone} wrong",
        "{white|black|blank|grey|frozen} screen", "{a|the} {404|500|502|503|504}", "{404|500|502|503|504} {error|page|code|errors}", "out of {sync|order|service}", "{logged|kicked|signed|locked|threw} {me|us} out",
        "{snapped|soaked|ruined|spoiled|smashed|shattered|scratched|bent|ripped|stained}", "in pieces", "{were|was|is|are} missing", "missing from",
        "{the|a|an} wrong", "{was|got|been|keeps|keep|is|were|are|getting} {rejected|declined|refused|denied|blocked|suspended|frozen|cancelled|deactivated|closed}",
        "{problem|issue|fault|bug} {still|persists|remains|continues|is still|not}", "still there", "same {problem|issue|error|fault}",
        "when it {works|actually|does}", "{the|my|} {problem|issue} is", "{broke|snapped|stopped|died|failed|cracked|broken} after", "after # {uses|wears|washes}",
        "{cancelled|postponed|rescheduled|changed|moved} my", "{lost|missed} {my|our|the} {connection|flight|bag|data|progress|savings|booking|reservation|train}",
        "{didn't|doesn't|don't|won't|never} {fit|match|arrive|come|show|deliver|turn|answer|refund|honour|honor}",
        "{drops|crashes|fails|freezes|disconnects|cuts|dies|breaks|buffers|lags} {every|all|constantly|daily|randomly|again|out}",
    ]),
    "outage": (1.0, "outage", [
        "{is|are} * down", "{is|are} * * down", "down again", "down for", "{outage|outages}", "{service|site|app|website|servers|network} {is|are|} {down|unavailable|offline}",
        "{no|zero} {signal|service|internet|wifi|connection|coverage|network|broadband|data|power|tv|landline|phone line|water|hot water|heating|gas|electricity|electric|lights}", "{anyone|anybody} else {having|getting|seeing|experiencing|with|have|get}",
        "is it just me", "just me or", "{is|are|went|gone|goes|been|still} {offline|unreachable}", "is there a {problem|issue|fault|outage}", "{503|502|500|504} error", "{error|errors} {503|502|500|504}", "{not|isn't} loading", "went down",
    ]),
    "strong_negative": (0.75, "angry wording", [
        "not {happy|impressed|pleased|satisfied|ok|okay|acceptable|fair|good enough|amused|great|good}",
        "{not|isn't|wasn't|aren't|weren't|never} {very|that|really|particularly|} {helpful|useful|reliable|good|great|happy|impressed|worth}",
        "used to be {great|good|better|amazing|reliable|decent|fast|excellent|brilliant|the best|so good}", "{gone|went|going} downhill", "not what it used to be",
        "{neveragain|epicfail|customerservicefail|badservice|boycott|fail|worstservice|notimpressed|worstcustomerservice|shameonyou}",
        "{worse|worst} than", "{ruined|ruins|ruining} {my|our|the|it|everything}",
        "{worst|terrible|awful|horrible|horrendous|atrocious|abysmal|appalling|dreadful|shocking|disgusting|disgraceful|pathetic|useless|hopeless|incompetent|unacceptable|ridiculous|outrageous|unreliable|laughable|shameful|inexcusable|rubbish|garbage|trash|crap|shit|shitty|lousy|sucks|suck}",
        "{miserable|rude|dismissive|unhelpful|condescending|arrogant|clueless|shoddy|dodgy|unprofessional|joke|disgrace|shambolic|dire}",
        "{furious|livid|fuming|disgusted|infuriated|infuriating|frustrated|frustrating|annoyed|annoying|disappointed|disappointing|disappointment|angry|upset|fed}",
        "sick of", "tired of", "fed up", "{what|such} a {joke|shambles|mess|farce|nightmare|disaster}", "{shame|shame on}", "{wtf|smh|ffs}",
        "{nightmare|shambles|disaster|fiasco|mess|chaos|joke}", "{waste|wasted|wasting} {of|my|our|time|money}",
    ]),
    "poor_quality": (0.5, "poor experience", [
        "{poor|bad|slow|slower|overpriced|misleading|dishonest|greedy|sloppy|careless|confusing|unclear|false|lazy|incorrect|inaccurate|flimsy|unfair|expensive}",
        "{price|prices} {hike|hikes|increase|increases|rise|rises}", "{refuse|refused|refusing|refuses} to", "{keep|keeps|kept} {telling|asking|sending|saying|getting|being|losing|changing}",
        "{nobody|no one|noone} {told|tells|informed|explained|warned}", "{without|no} {warning|notice|explanation|reason|apology|compensation|notification}",
        "{stranded|stuck|trapped|overbooked|bumped}", "{unable|failed|failing|fail|fails} to", "{wrongly|incorrectly|mistakenly} {charged|billed|sold|sent|delivered|cancelled|blocked}",
        "{no|zero} {refund|replacement|compensation|apology|explanation|information|info|clue|idea}",
        "{didn't|never|not|without|no} {even|} {apologise|apologize|apology|sorry|apologised|apologized}", "{not|isn't|wasn't} worth", "{anymore|any more|no longer}",
        "{cramped|uncomfortable|filthy|dirty|noisy|smelly|freezing|sweltering}", "{can't|couldn't|cannot} find", "offered {nothing|no}",
    ]),
    "broken_promise": (0.6, "broken promise", [
        "{you|they} promised", "promised {me|us|a|to|it|that}", "said {they|you|it} {would|will|'d}", "told {me|us|} {it|they|you|we|i|he|she} {would|will|'d}", "{paying|pay|paid} for * and {getting|get|got}",
        "{paying|pay|paid} for * * and {getting|get|got}", "{supposed|meant} to *", "{guaranteed|guarantee}",
        "{third|fourth|fifth|sixth|3rd|4th|5th|6th} time", "# times {now|already|this|today|in}",
    ]),
    "repeat": (0.35, "keeps happening", [
        "again", "another", "every {time|single|morning|day|night|evening|week|month}", "{constantly|always|repeatedly|continually}",
    ]),
    "demand": (0.7, "asks for a fix", [
        "{fix|sort} {this|it|your|yourselves|my|the}", "{could|can|would|will} {you|someone|somebody|anyone} {help|look|check|sort|fix|advise|explain|tell}", "do better", "{please|pls|plz} {help|fix|respond|reply|sort|answer|refund|call|check|look}",
        "{help|helpp} {me|us|please|pls}", "{explain|explanation} {this|why|yourselves|please}", "{why|how} {is|does|did|do|are|can't|won't|isn't|hasn't|would|has|was|have} {it|my|this|the|your|you|there|no|nobody|no one|a}",
        "{what's|what} {going on|happened|is going|the hell|is happening}", "{someone|somebody|anyone} {please|help|from|at}",
        "{escalate|escalating|complaint|complaints|complain|complaining|compensation}", "{sue|lawyer|ombudsman|report|reporting} {you|this|them|to}",
    ]),
    "reference": (0.4, "quotes a case reference", [
        "{order|ticket|case|booking|reference|ref|complaint|claim} {number|no|} #",
    ]),
}

# "Expected event did not happen": a negator followed by one of these, or by any past participle.
NEGATED_EVENT_AUX = frozenset({"hasn't", "haven't", "didn't", "doesn't", "isn't", "wasn't", "weren't", "won't", "can't",
                               "never", "not", "couldn't", "wouldn't", "aren't"})
EVENT_VERBS = frozenset("come arrive arrived gone sent got received paid done heard seen given made taken shown left "
                        "reach work load open show respond answer reply turn move change update ship deliver".split())
EVENT_SKIP = frozenset({"been", "yet", "even", "ever", "once", "actually", "really", "properly", "be", "get", "got", "being"})
# Participles after a negator that describe the writer, not a failed service.
NOT_EVENTS = frozenset({"disappointed", "impressed", "bothered", "interested", "surprised", "convinced", "worried",
                        "failed", "crashed", "dropped", "buffered", "lagged", "broken", "stopped", "missed", "tried",
                        "used", "needed", "expected", "excited", "tested", "decided", "started", "finished", "checked"})

# Words that are negative only when nothing negates them ("not terrible", "never disappointed").
NEGATABLE_RULES = frozenset({"strong_negative", "broken"})

# Phrases that say there is no problem. Their tokens never count as complaint evidence.
NO_PROBLEM_PHRASES = [
    "no {complaints|complaint}", "{can't|cannot} complain", "{not|never} complaining", "not a complaint",
    "{no|zero|without} {issues|issue|problems|problem|hassle|hassles|fuss|delays|delay|hiccups|hitch|trouble|complaints|drama}",
    "{never|not} had {a|an|any|one} {problem|issue|issues|problems|complaint}", "nothing to complain",
    "{never|not} {disappointed|disappoints|disappoint|fails|failed|lets|let}", "never let {me|us} down", "{hassle|trouble|problem|pain|issue} free",
    "not {bad|terrible|awful|broken}", "{no|zero} {downtime|outages|lag}", "not a single {problem|issue|hiccup|complaint}",
    "{didn't|doesn't|don't|won't|never|hasn't|haven't} {break|crash|crashed|lag|fail|buffered|dropped|failed|lagged|broken|froze|stopped|crashed|missed}",
    "never looked back", "{no|not a} big deal", "no harm done", "{doesn't|didn't|won't} matter", "{can't|cannot|never} go wrong",
]

# Phrases that say a problem was solved.
RESOLVED_PHRASES = [
    "{finally|now} {arrived|works|working|fixed|resolved|here|delivered|back|sorted|came|online}",
    "thanks {for|to} {fixing|sorting|resolving|helping|getting|replying|responding|the|your|all}", "thank you {for|so|to}",
    "{issue|problem|it|everything|outage|refund|account|order|internet|service|app} {is|was|has|got|been} {fixed|resolved|sorted|processed|restored|back|refunded|replaced}",
    "{got|received} {my|the|a|full} refund", "refund {came|arrived|processed|went through|was|received}", "back {up|online|to} {now|again|normal}",
    "all {good|sorted|fixed|working|resolved} now", "{sorted|fixed|resolved|replaced|refunded} {it|my|the|everything|within|in|quickly|fast}",
    "{quick|fast|speedy|great|helpful|amazing|excellent|friendly|lovely|brilliant|prompt|awesome|fantastic|wonderful} {support|service|response|reply|help|customer|team|staff|crew|agent|delivery|shipping}",
    "used to be {terrible|awful|bad|slow|rubbish|horrible|a nightmare|unreliable|poor|hit and miss|expensive|worse}", "used to {have|get|crash|hate}", "{was|were} {broken|down|terrible|awful|slow|bad} but", "{turned|turns} out",
    "{appreciated|appreciate it|appreciate that|appreciate the}", "{now|been|have been|has been|are|is} restored", "kudos", "shoutout", "shout out", "props to", "{hats|hat} off",
]

# Sarcasm: a cheerful opener next to an event nobody is cheerful about.
SARCASM_OPENERS = frozenset(
    "great fantastic awesome wonderful perfect love loving loved thanks thank brilliant nice lovely amazing superb "
    "bravo cheers classic wow yay congrats congratulations stellar splendid excellent outstanding impressive cool".split()
)
SARCASM_EVENTS = frozenset(
    "another again delayed delay cancelled canceled crash crashed crashing outage charged nothing hold broken lost "
    "error wait waiting late losing ignoring ignored missing third 3rd fourth 4th fifth overcharged declined disconnected dropped buffering breaks patch".split()
)
SARCASM_PHRASES = [
    "thanks for nothing", "thank you for nothing", "said no one ever", "said nobody ever", "yeah right", "just what i needed",
    "so much for", "love {how|it when|when|that|waiting|being|standing|paying|sitting|getting|spending|having to}", "what a {surprise|shock|time}", "cool cool cool", "{brilliant|great|smart|genius|clever} move {guys|team|there|}", "would not recommend",
    "10 10 would not", "nothing like {a|an|being|waiting|paying}", "oh {good|great|joy|wonderful|fantastic|perfect}",
    "{just|simply} {great|perfect|brilliant|fantastic|wonderful|amazing}", "new record", "{great|perfect|brilliant|fantastic|impeccable|excellent|amazing} timing",
]
SARCASM_MARKERS = ("🙃", "👏", "🤡", "🙄")

COMPLAINT_EMOJI = frozenset("😡🤬😤😠👎😒🙄💢😩😫😞😖😣🤦😑💩🤮😾")
HAPPY_EMOJI = frozenset("😍🥰🙌👍😊😁🎉💯✨🤩💖💕💗🥳👌😃😄")

# Idioms that VADER or the lexicon would misread as negative.
INNOCENT_IDIOMS = [
    # "its fraud detection": a possessive before a compound noun, not "it's fraud" (the tokenizer reads both
    # as it's). A crime word naming a team, a tool or a report accuses nobody.
    "{fraud|theft|scam|scams|robbery|extortion} {detection|prevention|protection|team|teams|department|unit|squad|"
    "report|reports|alert|alerts|check|checks|insurance|cover|library|tool|tools|model|models|rate|rates|risk|"
    "awareness|monitoring|screening|filter|filters|investigators|investigation|specialists|research|engine}",
    "killing it", "killed it", "crushing it", "crushed it", "to die for", "dying to", "sick {beat|track|drop|deal|view}",
    "insanely good", "{ridiculously|stupidly|scary|wicked|crazy|stupid|disgustingly} {good|fast|cheap|easy}",
    "bad ass", "badass", "no cap", "{no|zero} {worries|regrets}", "not {gonna|going to} lie", "can't {wait|stop}", "can't believe how {good|cheap|fast|easy|quick|well|nice|great|lovely|smooth}",
    "{can't|cannot} {recommend|thank|praise} * enough", "{can't|cannot} {recommend|thank|praise} enough", "{beats|beat} the competition",
    "{hard|tough|heavy} to beat", "sue to {block|stop|prevent|halt|overturn}", "another {go|try|look|chance|shot|one}", "no spoilers", "late {checkout|check out|night|breakfast|lunch|dinner|opening}", "help me {choose|decide|pick|find}", "down {to earth|the road|the street|town|under}", "{price|prices|fees|bill|wait|queue} {went|came|is|are|going} down",
    "{broke|broken} {the internet|a record|records|my heart}", "{crash|crashed} course", "{error|bug} {free|bounty}",
]

CONTRAST_WORDS = frozenset({"but", "however", "although", "though", "except", "nevertheless", "anyway", "anyways"})
# Relief markers put what follows on the good side, whatever its wording.
RELIEF_WORDS = frozenset({"luckily", "fortunately", "thankfully", "glad", "phew"})
# Two-word contrast markers ("at least Streamly has ...") that move the brand to the good side.
RELIEF_BIGRAMS = frozenset({("at", "least"), ("thank", "god"), ("thank", "goodness"), ("good", "thing")})
NEGATORS = frozenset({"not", "no", "never", "isn't", "wasn't", "aren't", "weren't", "don't", "doesn't", "didn't",
                      "won't", "can't", "couldn't", "hardly", "without", "nothing", "nor", "barely"})

CONTRACTIONS = {
    "doesnt": "doesn't", "dont": "don't", "didnt": "didn't", "cant": "can't", "cannot": "can't", "wont": "won't",
    "isnt": "isn't", "wasnt": "wasn't", "arent": "aren't", "werent": "weren't", "hasnt": "hasn't", "havent": "haven't",
    "couldnt": "couldn't", "shouldnt": "shouldn't", "wouldnt": "wouldn't", "im": "i'm", "ive": "i've", "whats": "what's",
    "wheres": "where's", "thats": "that's", "its": "it's", "ur": "your", "u": "you", "pls": "please", "plz": "please",
    "cancelled": "cancelled", "canceled": "cancelled", "thx": "thanks", "ty": "thanks", "tnx": "thanks",
}
