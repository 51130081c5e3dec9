"""Which stored posts the team should label next: mostly the ones the detector is least sure about (nearest
its decision boundary), which teach a model the most per label, mixed with a fixed share of random picks,
which keep the labelled set a fair sample for honest figures and for tuning the model's threshold. A post
that says the same as one already labelled or already picked (a retweet, a copy with another handle or
link) is not asked again."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

RANDOM_EVERY = 4  # one pick in four is random
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\d+")
_WORD = re.compile(r"[a-z']+")


def near_duplicate_key(text: str) -> str:
    """The words of a post without links, @handles, #tags and numbers: equal for copies of one post."""
    return " ".join(_WORD.findall(_NOISE.sub(" ", text.lower().replace("’", "'")))[:30])


@dataclass
class Pick:
    mention_id: int
    text: str
    brand: str
    source: str
    complaint: bool
    confidence: float
    kind: str  # "uncertain" or "random"
    why: str
    url: str | None = None

    def as_json(self) -> dict:
        return {"mention_id": self.mention_id, "text": self.text, "brand": self.brand, "source": self.source,
                "verdict": "complaint" if self.complaint else "not", "confidence": round(self.confidence, 4),
                "pick": self.kind, "why": self.why, "url": self.url}


def pick_for_labelling(candidates: list[dict], scorer, threshold: float, count: int, labelled_texts,
                       rng: random.Random | None = None) -> list[Pick]:
    """``candidates``: unlabelled stored mentions (mention_id, text, brand, source). ``threshold``: the
    confidence at which ``scorer`` calls a post a complaint. The picks, most useful first: every
    RANDOM_EVERY-th at random, the others the most uncertain left."""
    rng = rng or random.Random()  # noqa: S311 - sampling posts, not secrets
    seen = {near_duplicate_key(t) for t in labelled_texts}
    unique = []
    for c in candidates:
        key = near_duplicate_key(c["text"])
        if key and key not in seen:
            seen.add(key)
            unique.append(c)
    scores = scorer.score_many([(c["text"], 0) for c in unique]) if unique else []
    scored = list(zip(unique, scores, strict=True))
    by_doubt = sorted(scored, key=lambda cs: (abs(cs[1].confidence - threshold), -cs[0]["mention_id"]))
    pool = list(scored)
    rng.shuffle(pool)
    taken: set[int] = set()
    picks: list[Pick] = []
    while len(picks) < min(count, len(scored)):
        random_turn = (len(picks) + 1) % RANDOM_EVERY == 0
        source = pool if random_turn else by_doubt
        candidate, score = next((cs for cs in source if cs[0]["mention_id"] not in taken), (None, None))
        if candidate is None:
            break
        taken.add(candidate["mention_id"])
        picks.append(_pick(candidate, score, threshold, "random" if random_turn else "uncertain"))
    return picks


def _pick(candidate: dict, score, threshold: float, kind: str) -> Pick:
    if kind == "random":
        why = f"random pick (one in {RANDOM_EVERY}): keeps the labelled set a fair sample for honest figures"
    else:
        why = (f"the detector is unsure: confidence {score.confidence:.2f} against its threshold {threshold:.2f}")
    return Pick(candidate["mention_id"], candidate["text"], candidate["brand"], candidate["source"],
                score.is_complaint, score.confidence, kind, why, candidate.get("url"))
