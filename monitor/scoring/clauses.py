"""Clause-level cues a phrase list cannot express: who failed, what was expected, and who the post is for.

- A thing that "won't start", "doesn't know the bypass", "wouldn't accept my top up": a negated verb whose
  subject is a product or service rather than the writer.
- An expected event that did not happen: "hasn't arrived", "never refunded".
- A swap: "ordered black trainers, received pink sandals", "paid for 12C and got put in 31E".
- The context: a post addressed to someone (a leading @handle, "you", "your") or about dealings with a
  company; without it, generic grumbles are discounted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.scoring import implicit as im
from monitor.scoring import lexicon as lx
from monitor.scoring.phrases import Match

_HANDLE = re.compile(r"(?:^|\s)@\w")
_LEADING_HANDLE = re.compile(r"^\s*(?:\.?@\w+\s*)+")
_HANDLES = re.compile(r"@(\w+)")

# rule -> (weight, label shown to agents)
STRUCTURAL_RULES = {
    "negated_event": (0.6, "expected thing did not happen"), "thing_failed": (0.6, "something does not work"),
    "swap": (0.7, "got something other than ordered"), "acted_ago": (0.5, "acted a while ago, still waiting"),
    "persisting": (0.45, "a state that should have changed"), "quoted_status": (0.35, "quotes a status or message"),
    "writer_blocked": (0.6, "the writer cannot do something"), "rhetorical": (0.6, "a rhetorical question"),
    "to_brand": (0.4, "a statement written to the brand"),
}


def _match(rule: str, start: int = 0, end: int = 0) -> Match:
    return Match(rule, start, end, STRUCTURAL_RULES[rule][0])


def structural_cues(text: str, tokens: list[str], masked: set[int], context: PostContext, compound: float,
                    lexical: bool) -> list[Match]:
    """Every clause-level cue in the post; the statement-to-the-brand prior only beside another sign."""
    cues = negated_events(tokens, masked) + thing_failures(tokens, masked, context.handles) + \
        swaps(tokens, masked) + acted_long_ago(tokens, masked) + persisting(tokens, masked) + \
        writer_blocked(tokens, masked) + quoted_status(text, context.addressed) + rhetorical(text)
    if lexical or cues or compound <= -0.05:
        cues += to_brand_statement(tokens, context, compound)
    return cues


PEOPLE = frozenset({"i", "we", "you", "he", "she", "they", "i'm", "we're", "people", "u", "kids", "son", "daughter",
                    "wife", "husband", "mum", "dad", "friend", "friends", "family", "who", "that", "which"})
THING_NEGATORS = frozenset({"won't", "wouldn't", "doesn't", "didn't", "isn't", "can't", "couldn't", "never", "hasn't",
                            "aren't"})
# Verbs after a negator that say nothing about a failure.
NOT_FAILURES = frozenset({"be", "have", "matter", "like", "want", "need", "mind", "care", "think", "seem", "know",
                          "look", "disappoint", "lie", "stop", "wait", "hurt", "help", "get", "go", "take", "last",
                          "cost", "believe"})
EXPECTED = frozenset({"ordered", "booked", "bought", "paid", "asked", "requested", "pre", "preordered", "chose",
                      "selected", "picked", "reserved"})
RECEIVED = frozenset({"got", "received", "sent", "given", "delivered", "gave", "put", "brought", "served"})
RECEIVED_OBJECT = frozenset({"a", "an", "the", "someone", "only", "just", "set", "put", "one", "two", "half", "nothing",
                             "chicken", "it's", "someone's", "my"})


@dataclass(frozen=True, slots=True)
class PostContext:
    addressed: bool  # a leading @handle: a reply or a post written to the brand
    customer: bool   # addressed, second person, or a word from dealings with a company
    handles: frozenset[str]  # @handles in the post: people or brands, never the failing thing


def post_context(text: str, tokens: list[str]) -> PostContext:
    addressed = bool(_LEADING_HANDLE.match(text))
    customer = addressed or bool(_HANDLE.search(text)) or any(
        t in im.SECOND_PERSON or t in im.SERVICE_NOUNS for t in tokens)
    return PostContext(addressed, customer, frozenset(h.lower() for h in _HANDLES.findall(text)))


def negated_events(tokens: list[str], masked: set[int]) -> list[Match]:
    """'hasn't arrived', 'never refunded': a negator before an event or a past participle."""
    found: list[Match] = []
    if lx.NEGATED_EVENT_AUX.isdisjoint(tokens):  # most posts: one C-level pass instead of a Python loop
        return found
    for i, token in enumerate(tokens[:-1]):
        if token not in lx.NEGATED_EVENT_AUX or i in masked:
            continue
        j = i + 1
        while j < len(tokens) - 1 and tokens[j] in lx.EVENT_SKIP:
            j += 1
        verb = tokens[j]
        if verb in lx.NOT_EVENTS or j in masked:
            continue
        if verb in lx.EVENT_VERBS or (verb.endswith("ed") and len(verb) > 4):
            found.append(_match("negated_event", i, j + 1))
    return found


def thing_failures(tokens: list[str], masked: set[int], handles: frozenset[str]) -> list[Match]:
    """'car won't start', 'sat nav doesn't know': a negated verb whose subject is not a person."""
    found: list[Match] = []
    if THING_NEGATORS.isdisjoint(tokens):
        return found
    for i in range(1, len(tokens) - 1):
        if tokens[i] not in THING_NEGATORS or i in masked:
            continue
        subject = tokens[i - 1]
        j = i + 1
        while j < len(tokens) - 1 and tokens[j] in ("still", "even", "always", "ever", "actually", "properly"):
            j += 1
        verb = tokens[j]
        if (subject in PEOPLE or subject in handles or subject in lx.NEGATORS or verb in NOT_FAILURES or j in masked
                or not verb.isalpha()):
            continue
        found.append(_match("thing_failed", i - 1, j + 1))
    return found


def swaps(tokens: list[str], masked: set[int]) -> list[Match]:
    """'ordered X ... got/received Y': what came is named next to what was ordered."""
    if EXPECTED.isdisjoint(tokens):
        return []
    for i, token in enumerate(tokens):
        if token not in EXPECTED or i in masked:
            continue
        for j in range(i + 2, min(len(tokens) - 1, i + 10)):
            if tokens[j] in RECEIVED and tokens[j + 1] in RECEIVED_OBJECT and j not in masked:
                return [_match("swap", i, j + 2)]
    return []


ACTED = frozenset({"returned", "reported", "requested", "asked", "cancelled", "submitted", "ordered", "paid", "sent",
                   "emailed", "applied", "booked", "raised", "logged", "called", "rang", "phoned", "complained",
                   "claimed", "chased", "posted", "filed", "opened", "bought", "moved", "closed", "switched"})
TIME_REFERENCE = frozenset({"ago", "since", "last", "january", "february", "march", "april", "may", "june", "july",
                            "august", "september", "sept", "october", "november", "december", "jan", "feb", "mar",
                            "apr", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "monday", "tuesday", "wednesday",
                            "thursday", "friday", "saturday", "sunday", "weeks", "months"})
TURNS = frozenset({"but", "yet", "still", "now", "and"})
PERSISTS_NOT = frozenset({"love", "loving", "the", "best", "works", "working", "going", "great", "good", "use",
                          "using", "recommend", "got", "have", "my", "a", "an", "worth", "free", "available", "on",
                          "in", "there", "here", "prefer", "enjoy", "happy", "think", "thinks", "believe", "believes",
                          "deciding", "thinking", "choosing", "hoping",
                          "planning", "looking", "can't", "remember"})
_RHETORICAL = re.compile(r"(?:^|[.!?,]\s*)(?:really|seriously|srsly|why|how|what|again)\s*\?+", re.IGNORECASE)
# "I can't" + a verb: the writer is blocked from doing something, unless the verb is one of these.
CAN_DO_ANYWAY = frozenset({"wait", "believe", "recommend", "stop", "thank", "praise", "decide", "choose", "complain",
                           "fault", "imagine", "live", "say", "tell", "remember", "help", "go", "get", "be", "see",
                           "think", "find", "afford", "sleep", "lie"})
_QUOTED_STATUS = re.compile(r"['\"‘“][^'\"’”]{3,40}['\"’”]")


def acted_long_ago(tokens: list[str], masked: set[int]) -> list[Match]:
    """'returned it on the 2nd', 'reported the leak 3 weeks ago': the writer acted a while back and is still here."""
    if ACTED.isdisjoint(tokens):
        return []
    for i, token in enumerate(tokens):
        if token in ACTED and i not in masked:
            window = tokens[i + 1:i + 9]
            hit = next((k for k, t in enumerate(window) if t in TIME_REFERENCE), None)
            if hit is not None:
                return [_match("acted_ago", i, i + 2 + hit)]
    return []


def persisting(tokens: list[str], masked: set[int]) -> list[Match]:
    """'still shows', 'still nothing', 'still awaiting agent': a state that should have changed."""
    if "still" not in tokens:
        return []
    for i, token in enumerate(tokens[:-1]):
        if token == "still" and i not in masked and tokens[i + 1] not in PERSISTS_NOT:
            return [_match("persisting", i, i + 2)]
    return []


def quoted_status(text: str, addressed: bool) -> list[Match]:
    """A post to the brand quoting a status or a message ('processing', "unable to process request")."""
    if addressed and _QUOTED_STATUS.search(text.replace("'s ", " ").replace("'t ", " ").replace("'m ", " ")):
        return [_match("quoted_status")]
    return []


INFO_OPENERS = frozenset({"do", "does", "can", "could", "is", "are", "will", "would", "when", "what", "which", "how",
                          "who", "should", "may", "any", "anyone", "hi", "hey", "hello"})


def to_brand_statement(tokens: list[str], context: PostContext, compound: float) -> list[Match]:
    """A statement written to the brand, not cheerful and not a question for information: a weak prior that a
    further cue turns into a complaint."""
    if not context.addressed or compound >= 0.3:
        return []
    words = [t for t in tokens if t not in context.handles]
    if len(words) < 6 or words[0] in INFO_OPENERS:
        return []
    return [_match("to_brand")]


def writer_blocked(tokens: list[str], masked: set[int]) -> list[Match]:
    """'I can't equip it', 'we couldn't board': the writer is kept from doing something."""
    if "can't" not in tokens and "couldn't" not in tokens:
        return []
    for i in range(len(tokens) - 2):
        if tokens[i] in ("i", "we") and tokens[i + 1] in ("can't", "couldn't") and i + 1 not in masked:
            verb = tokens[i + 2]
            if verb not in CAN_DO_ANYWAY and verb.isalpha():
                return [_match("writer_blocked", i, i + 3)]
    return []


def rhetorical(text: str) -> list[Match]:
    """'really?', 'seriously?', 'why?' standing alone: a question nobody expects answered."""
    return [_match("rhetorical")] if "?" in text and _RHETORICAL.search(text) else []
