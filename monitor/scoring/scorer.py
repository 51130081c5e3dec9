"""Complaint scoring: VADER sentiment plus a complaint detector on top of it.

Raw VADER misses complaints that only state facts ("ordered on the 3rd, still
no delivery") and flags negative-but-happy posts ("I hate Mondays but love my
coffee"). The detector adds up evidence from a complaint lexicon, outage and
waiting patterns, sarcasm cues and emoji, takes evidence away for "no
complaints", solved problems and contrasts that end on a happy note, and says
which rules fired so an agent can see why a post was flagged.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.config import ScoringConfig
from monitor.model import Score
from monitor.scoring import clauses
from monitor.scoring import implicit as im
from monitor.scoring import lexicon as lx
from monitor.scoring.phrases import Match, PhraseMatcher, quoted_tokens, tokenize
from monitor.scoring.priority import reach_priority
from monitor.scoring.topics import TopicClassifier

# "/s" on its own at the end of a sentence; not the "/s" inside </script> or a URL's path.
_SARCASM_TAG = re.compile(r"(?:^|\s)/s(?=$|[\s.!?,;:)\]])")

# Weight of evidence (E) needed for confidence 0.5: confidence = E / (E + K).
EVIDENCE_HALF = 0.75
RULE_CAP = 1.5  # a rule contributes at most this many times its weight
# Without a customer context (no @handle, no "you", no order or bill), generic wording counts this much.
OFF_CONTEXT = 0.5
GENERIC_CAP = 0.5
RATING_EVIDENCE = {1: 1.2, 2: 0.8, 4: -0.5, 5: -0.8}
# A post addressed to the brand (a leading @handle) is most often a request or a grievance.
ADDRESSED = 1.25
# A question about a process masks this many tokens after it: "how do I escalate [a complaint to ...]".
PROCESS_REACH = 8

RULES = lx.COMPLAINT_RULES | im.IMPLICIT_RULES
# guard rule -> (label, weight per match, floor of the rule's total)
GUARDS = {"no_problem": ("says there is no problem", -1.5, -2.0), "resolved": ("problem solved / praise", -1.2, -2.0),
          "brand_voice": ("the brand's own reply", -1.5, -3.0), "hope": ("hoping, not complaining", -0.6, -1.2),
          "process": ("asks about a process", -0.3, -0.3), "idiom": ("", 0.0, 0.0)}


_CONTRAST_HEADS = lx.CONTRAST_WORDS | lx.RELIEF_WORDS | {first for first, _ in lx.RELIEF_BIGRAMS}


def _guarded_span(guard: Match) -> range:
    reach = PROCESS_REACH if guard.rule == "process" else 0
    return range(max(0, guard.start - reach), guard.end + reach)


def _vader_evidence(compound: float, ignore_positive: bool, ignore_negative: bool, factor: float,
                    cheer: float) -> float:
    """Negativity supports a complaint but never makes one alone; cheerfulness argues against."""
    if compound <= -0.05:
        if ignore_negative:
            return 0.0
        return factor * (0.6 if compound <= -0.6 else 0.45 if compound <= -0.3 else 0.25)
    if ignore_positive:
        return 0.0
    return cheer * (-0.7 if compound >= 0.6 else -0.35 if compound >= 0.3 else 0.0)


def _rating_evidence(rating: int | None, reasons: list[dict]) -> float:
    """A review's stars: 1-2 are the reviewer's own verdict of a bad experience; 4-5 argue against one."""
    if rating is None:
        return 0.0
    if rating <= 2 or rating >= 4:
        reasons.append({"rule": "rating", "label": f"{rating}-star review", "match": "★" * rating})
    return RATING_EVIDENCE.get(rating, 0.0)


def _is_generic(match: Match, tokens: list[str]) -> bool:
    return match.rule in im.GENERIC_RULES or tokens[match.start] in im.GENERIC_HEADS or \
        " ".join(tokens[match.start:match.end]) in im.GENERIC_PHRASES


def _speaking_guards(text: str, guards: list[Match]) -> list[Match]:
    """The guards, less the brand's words a customer quotes: those are not the brand speaking."""
    if '"' not in text and "“" not in text:
        return guards
    quoted = quoted_tokens(text)
    return [g for g in guards if g.rule != "brand_voice" or not quoted.issuperset(range(g.start, g.end))]


def _span_masked(match: Match, masked: set[int]) -> bool:
    return any(i in masked for i in range(match.start, match.end))


class ComplaintScorer:
    """Scores one post: sentiment, complaint flag with reasons, topic and priority."""

    def __init__(self, scoring: ScoringConfig | None = None, topics: dict[str, list[str]] | None = None) -> None:
        from vaderSentiment.vaderSentiment import (
            SentimentIntensityAnalyzer,  # heavy: loaded on first scorer
        )

        from monitor.config import DEFAULT_TOPICS

        self.config = scoring or ScoringConfig()
        self._vader = SentimentIntensityAnalyzer()
        self._valence = self._vader.lexicon
        structural = clauses.STRUCTURAL_RULES
        self._labels = ({name: label for name, (_, label, _) in RULES.items()}
                        | {n: lb for n, (_, lb) in structural.items()})
        self._weights = ({name: weight for name, (weight, _, _) in RULES.items()}
                         | {n: w for n, (w, _) in structural.items()})
        # One trie for cues, guards, sarcasm phrases and topic terms: a post's tokens are walked once.
        self._phrases = PhraseMatcher()
        for name, (weight, _, patterns) in RULES.items():
            for pattern in patterns:
                self._phrases.add(pattern, name, weight)
        for term, weight in self.config.extra_terms.items():
            self._phrases.add(term, "custom", weight)
        self._labels["custom"], self._weights["custom"] = "custom term", 1.0
        for rule, patterns in (("no_problem", lx.NO_PROBLEM_PHRASES), ("resolved", lx.RESOLVED_PHRASES),
                               ("idiom", lx.INNOCENT_IDIOMS + list(self.config.ignore_terms)),
                               ("brand_voice", im.BRAND_VOICE_PHRASES), ("hope", im.HOPE_PHRASES),
                               ("process", im.PROCESS_PHRASES)):
            for pattern in patterns:
                self._phrases.add(pattern, rule, GUARDS[rule][1])
        for pattern in lx.SARCASM_PHRASES:
            self._phrases.add(pattern, "sarcasm")  # sarcasm counts once, whatever matched (see _evidence)
        self._topics = TopicClassifier(topics if topics is not None else DEFAULT_TOPICS, self._phrases)

    # -- public -------------------------------------------------------------

    def score(self, text: str, reach: int = 0, rating: int | None = None) -> Score:
        vader = self._vader.polarity_scores(text)
        compound = vader["compound"]
        tokens = tokenize(text)
        found = self._phrases.find(tokens)  # cues, guards, sarcasm and topic terms in one walk
        reasons: list[dict] = []
        evidence = self._evidence(text, tokens, found, compound, reasons) + _rating_evidence(rating, reasons)
        confidence = evidence / (evidence + EVIDENCE_HALF) if evidence > 0 else 0.0
        is_complaint = confidence >= self.config.complaint_threshold
        reasons.append({"rule": "vader", "label": "VADER compound", "score": compound})
        return Score(
            compound=compound,
            positive=vader["pos"],
            neutral=vader["neu"],
            negative=vader["neg"],
            is_complaint=is_complaint,
            confidence=round(confidence, 4),
            reasons=reasons,
            topic=self._topics.pick(found),
            priority=reach_priority(confidence, compound, reach, self.config.reach_cap),
        )

    def score_many(self, items: Iterable[tuple]) -> list[Score]:
        """Items are (text, reach) or (text, reach, rating)."""
        return [self.score(*item) for item in items]

    # -- evidence -----------------------------------------------------------

    def _evidence(self, text: str, tokens: list[str], found: list[Match], compound: float,
                  reasons: list[dict]) -> float:
        guards = _speaking_guards(text, [m for m in found if m.rule in GUARDS])
        masked = {i for g in guards for i in _guarded_span(g)}
        context = clauses.post_context(text, tokens)
        cues = [m for m in found if m.rule in self._weights  # not guards, sarcasm or topic terms
                and not _span_masked(m, masked) and not self._negated(m, tokens)]
        sarcastic = self._is_sarcastic(text, tokens, [m for m in found if m.rule == "sarcasm"], masked, reasons)
        discounted, ends_on_complaint = self._contrast(tokens, cues, sarcastic, reasons)
        cues += clauses.structural_cues(text, tokens, masked, context, compound, bool(cues))

        factor = 0.25 if discounted else 1.0
        evidence = self._cue_evidence(cues, tokens, factor, context, reasons)
        kept_guards = [g for g in guards if not (sarcastic and g.rule == "resolved")]
        evidence += self._guard_evidence(kept_guards, tokens, reasons)
        evidence += self._emoji_evidence(text, sarcastic, reasons) + (1.0 if sarcastic else 0.0)
        several = len({m.rule for m in cues} - {"to_brand"}) >= 2  # cheerful words then weigh less
        return evidence + _vader_evidence(
            compound, ignore_positive=sarcastic or ends_on_complaint,
            ignore_negative=any(g.rule == "idiom" for g in guards),
            factor=factor * (1.0 if context.customer else OFF_CONTEXT), cheer=0.5 if several else 1.0)

    def _contrast(self, tokens: list[str], cues: list[Match], sarcastic: bool,
                  reasons: list[dict]) -> tuple[bool, bool]:
        """(discounted, ends_on_complaint): does a 'but' put the complaint before a happy ending, or after?"""
        contrast_at, relief = self._contrast_position(tokens)
        if contrast_at is None or not cues:
            return False, False
        if any(m.end > contrast_at for m in cues):
            return False, any(m.start > contrast_at for m in cues)
        if (relief or self._valence_sum(tokens[contrast_at + 1:]) >= 1.0) and not sarcastic:
            reasons.append({"rule": "contrast", "label": "ends on a positive note",
                            "match": " ".join(tokens[contrast_at:contrast_at + 6])})
            return True, False
        return False, False

    def _cue_evidence(self, cues: list[Match], tokens: list[str], factor: float, context: clauses.PostContext,
                      reasons: list[dict]) -> float:
        per_rule: dict[str, float] = {}
        covered: set[int] = set()
        generic = 0.0
        for m in sorted(cues, key=lambda c: (-c.weight, c.start - c.end)):  # words count once, for their strongest rule
            if any(i in covered for i in range(m.start, m.end)):
                continue
            covered.update(range(m.start, m.end))
            if not context.customer and _is_generic(m, tokens):
                # Outside a customer context generic grumbles together stay below a complaint.
                weight = max(0.0, min(m.weight * OFF_CONTEXT, GENERIC_CAP - generic))
                generic += weight
                m = Match(m.rule, m.start, m.end, weight)
            total = per_rule.get(m.rule, 0.0) + m.weight
            per_rule[m.rule] = min(total, RULE_CAP * max(self._weights[m.rule], m.weight))
            reason = {"rule": m.rule, "label": self._labels[m.rule]}
            if m.end > m.start:
                reason["match"] = " ".join(tokens[m.start:m.end])
            reasons.append(reason)
        return factor * sum(per_rule.values()) * (ADDRESSED if context.addressed else 1.0)

    def _guard_evidence(self, guards: list[Match], tokens: list[str], reasons: list[dict]) -> float:
        total: dict[str, float] = {}
        spans: set[tuple[int, int]] = set()
        for g in guards:
            label, _, floor = GUARDS[g.rule]
            if not g.weight or total.get(g.rule, 0.0) <= floor or (g.start, g.end) in spans:
                continue
            spans.add((g.start, g.end))
            total[g.rule] = max(floor, total.get(g.rule, 0.0) + g.weight)
            reasons.append({"rule": g.rule, "label": label, "match": " ".join(tokens[g.start:g.end])})
        return sum(total.values())

    def _emoji_evidence(self, text: str, sarcastic: bool, reasons: list[dict]) -> float:
        if text.isascii():  # most posts; the emoji sets are all outside ASCII
            return 0.0
        chars = set(text)
        angry = chars & lx.COMPLAINT_EMOJI
        happy = chars & lx.HAPPY_EMOJI
        evidence = 0.0
        if angry:
            evidence += min(0.8, 0.5 * len(angry))
            reasons.append({"rule": "emoji", "label": "angry emoji", "match": "".join(sorted(angry))})
        if happy and not sarcastic:
            evidence -= 0.4
        return evidence

    def _negated(self, match: Match, tokens: list[str]) -> bool:
        if match.rule not in lx.NEGATABLE_RULES or tokens[match.start] in lx.NEGATORS:
            return False
        return any(t in lx.NEGATORS for t in tokens[max(0, match.start - 3):match.start])

    def _is_sarcastic(self, text: str, tokens: list[str], hits: list[Match], masked: set[int],
                      reasons: list[dict]) -> bool:
        if hits:
            reasons.append({"rule": "sarcasm", "label": "sarcasm",
                            "match": " ".join(tokens[hits[0].start:hits[0].end])})
            return True
        marker = (None if text.isascii() else next((m for m in lx.SARCASM_MARKERS if m in text), None)) or \
            ("/s" if "/s" in text and _SARCASM_TAG.search(text) else None)
        if marker:
            reasons.append({"rule": "sarcasm", "label": "sarcasm", "match": marker})
            return True
        if lx.SARCASM_OPENERS.isdisjoint(tokens):
            return False
        for i, token in enumerate(tokens[:-1]):
            if token in lx.SARCASM_OPENERS:
                window = tokens[i + 1:i + 6]
                event = next((t for k, t in enumerate(window, i + 1)
                              if t in lx.SARCASM_EVENTS and k not in masked), None)
                if event and not any(t in lx.NEGATORS for t in window):
                    reasons.append({"rule": "sarcasm", "label": "sarcasm",
                                    "match": " ".join(tokens[i:i + 1 + window.index(event) + 1])})
                    return True
        return False

    @staticmethod
    def _contrast_position(tokens: list[str]) -> tuple[int | None, bool]:
        """Index of the last contrast marker, and whether it is a relief marker."""
        if _CONTRAST_HEADS.isdisjoint(tokens):
            return None, False
        for i in range(len(tokens) - 2, -1, -1):
            if tokens[i] in lx.RELIEF_WORDS or (tokens[i], tokens[i + 1]) in lx.RELIEF_BIGRAMS:
                return i, True
            if tokens[i] in lx.CONTRAST_WORDS:
                return i, False
        return None, False

    def _valence_sum(self, tokens: list[str]) -> float:
        total = 0.0
        for i, token in enumerate(tokens):
            value = self._valence.get(token, 0.0)
            if value and any(t in lx.NEGATORS for t in tokens[max(0, i - 3):i]):
                value = -value
            total += value
        return total
