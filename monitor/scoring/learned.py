"""A complaint classifier learned from the team's labels: logistic regression over hashed word and character
n-grams plus the rules' confidence and VADER's scores. Stored as plain arrays (no pickle: nothing executable
comes out of the database), predicted with one sparse dot product per post."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable

import numpy as np

from monitor.model import Score
from monitor.scoring.priority import reach_priority

WORD_FEATURES = CHAR_FEATURES = 1 << 16
WORD_NGRAMS, CHAR_NGRAMS = (1, 2), (3, 4)  # 5-character grams cost a third more time and added nothing measured
# The rules' evidence, so a model trained on a few labels starts from the rules' quality: their confidence and
# decision, VADER's scores, and one flag per shape that fired (the rule names, in a fixed order).
BASE_DENSE = ("rules_confidence", "rules_decision", "compound", "negative", "positive")
FORMAT = 2
GRAM_CACHE = 50_000  # word and word-pair weights kept: a few MB per scoring process


def _vectorizers():
    from sklearn.feature_extraction.text import HashingVectorizer

    words = HashingVectorizer(n_features=WORD_FEATURES, ngram_range=WORD_NGRAMS, alternate_sign=False, norm="l2",
                              token_pattern=r"(?u)\b\w[\w']*\b")  # noqa: S106 - a regex, not a secret
    chars = HashingVectorizer(n_features=CHAR_FEATURES, analyzer="char_wb", ngram_range=CHAR_NGRAMS,
                              alternate_sign=False, norm="l2")
    return words, chars


@functools.cache
def _rule_names() -> tuple[str, ...]:
    from monitor.scoring import clauses
    from monitor.scoring.scorer import GUARDS, RULES

    return tuple(sorted(set(RULES) | set(clauses.STRUCTURAL_RULES) | set(GUARDS) | {"to_brand", "sarcasm"}))


def dense_names() -> tuple[str, ...]:
    return BASE_DENSE + tuple(f"rule:{name}" for name in _rule_names())


@functools.cache
def _rule_columns() -> dict[str, int]:
    return {name: i for i, name in enumerate(_rule_names(), len(BASE_DENSE))}


def dense_features(scores: list[Score]) -> np.ndarray:
    """What the rules and VADER say about each post, as numbers the classifier weighs."""
    column = _rule_columns()
    rows = np.zeros((len(scores), len(BASE_DENSE) + len(column)), dtype=np.float64)
    for row, s in zip(rows, scores, strict=True):
        row[:len(BASE_DENSE)] = (s.confidence, float(s.is_complaint), s.compound, s.negative, s.positive)
        for reason in s.reasons:
            index = column.get(reason.get("rule"))
            if index is not None:
                row[index] = 1.0
    return rows


def _blocks(texts: list[str], dense: np.ndarray, vectorizers=None) -> list:
    """The feature blocks in their column order: hashed words, hashed characters, dense."""
    words, chars = vectorizers or _vectorizers()
    return [words.transform(texts), chars.transform(texts), dense]


def features(texts: list[str], dense: np.ndarray, vectorizers=None):
    from scipy.sparse import csr_matrix, hstack

    *hashed, dense = _blocks(texts, dense, vectorizers)
    return hstack([*hashed, csr_matrix(dense)]).tocsr()


class LearnedModel:
    def __init__(self, coef: np.ndarray, intercept: float, threshold: float = 0.5) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.threshold = float(threshold)  # the probability from which a post is a complaint
        self._vectorizers = _vectorizers()
        self._words = self._vectorizers[0].build_analyzer()  # built once: top_terms runs for every complaint
        self._weights: dict[str, float] = {}  # word or word pair -> its coefficient

    @classmethod
    def fit(cls, texts: list[str], dense: np.ndarray, labels: list[bool]) -> LearnedModel:
        from sklearn.linear_model import LogisticRegression

        # C=16: best or tied in 5-fold cross-validation on the dev split at 50 to 714 labels (C 2-16 tried).
        # liblinear: a few labels are often separable, and lbfgs then runs to max_iter; this is 5x faster.
        classifier = LogisticRegression(C=16.0, class_weight="balanced", solver="liblinear", max_iter=3000)
        classifier.fit(features(texts, dense), np.array(labels, dtype=bool))
        return cls(classifier.coef_[0], classifier.intercept_[0])

    def probabilities(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        # features(texts, dense) @ coef, block by block: stacking the sparse blocks first costs a fifth of the
        # model's time per post.
        margin, start = self.intercept, 0
        for block in _blocks(texts, dense, self._vectorizers):
            margin = margin + block @ self.coef[start:start + block.shape[1]]
            start += block.shape[1]
        return 1.0 / (1.0 + np.exp(-margin))

    def top_terms(self, text: str, limit: int = 3) -> list[str]:
        """The words and word pairs of this post that pushed hardest towards "complaint"."""
        weights = {}
        for gram in set(self._words(text)):
            weight = self._gram_weight(gram)
            if weight > 0:
                weights[gram] = weight
        return [g for g, _ in sorted(weights.items(), key=lambda kv: -kv[1])[:limit]]

    def _gram_weight(self, gram: str) -> float:
        # Most words recur from post to post: hashing each once saves a third of a complaint's model time.
        weight = self._weights.get(gram)
        if weight is None:
            from sklearn.utils import murmurhash3_32

            if len(self._weights) >= GRAM_CACHE:
                self._weights.clear()  # bounded memory; it refills with the words in use
            weight = self._weights[gram] = float(self.coef[abs(murmurhash3_32(gram, seed=0)) % WORD_FEATURES])
        return weight

    def to_bytes(self) -> bytes:
        header = json.dumps({"format": FORMAT, "word_features": WORD_FEATURES, "char_features": CHAR_FEATURES,
                             "word_ngrams": list(WORD_NGRAMS), "char_ngrams": list(CHAR_NGRAMS),
                             "dense": list(dense_names()), "intercept": self.intercept,
                             "threshold": self.threshold}).encode()
        return header + b"\n" + self.coef.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnedModel:
        header, _, body = data.partition(b"\n")
        meta = json.loads(header)
        expected = meta["word_features"] + meta["char_features"] + len(meta["dense"])
        if meta.get("format") != FORMAT or list(meta["dense"]) != list(dense_names()) or \
                (meta["word_features"], meta["char_features"]) != (WORD_FEATURES, CHAR_FEATURES) \
                or (meta.get("word_ngrams"), meta.get("char_ngrams")) != (list(WORD_NGRAMS), list(CHAR_NGRAMS)) \
                or len(body) != 4 * expected:
            raise ValueError("stored model has another layout (the detector's rules changed): run `monitor "
                             "learn` again")
        return cls(np.frombuffer(body, dtype="<f4"), meta["intercept"], meta.get("threshold", 0.5))


class BlendedScorer:
    """The rules score every post as before; the learned model then decides whether it is a complaint, and says
    how sure it is and which words weighed most."""

    def __init__(self, rules, model: LearnedModel) -> None:
        self.rules, self.model, self.config = rules, model, rules.config
        self.threshold = model.threshold

    def score(self, text: str, reach: int = 0, rating: int | None = None) -> Score:
        return self.score_many([(text, reach, rating)])[0]

    def score_many(self, items: Iterable[tuple]) -> list[Score]:
        """Items are (text, reach) or (text, reach, rating), as the rules take them."""
        items = list(items)
        scores = self.rules.score_many(items)
        if not scores:
            return scores
        probabilities = self.model.probabilities([item[0] for item in items], dense_features(scores))
        return [
            self._blend(score, float(p), item[0], item[1])
            for score, p, item in zip(scores, probabilities, items, strict=True)
        ]

    def _blend(self, score: Score, p: float, text: str, reach: int) -> Score:
        reason: dict = {"rule": "model", "label": "learned from the team's labels", "score": round(p, 4)}
        complaint = p >= self.threshold
        if complaint:
            reason["terms"] = self.model.top_terms(text)
        return Score(compound=score.compound, positive=score.positive, neutral=score.neutral,
                     negative=score.negative, is_complaint=complaint, confidence=round(p, 4),
                     reasons=[r for r in score.reasons if r["rule"] != "vader"] + [reason]
                     + [r for r in score.reasons if r["rule"] == "vader"],
                     topic=score.topic, priority=reach_priority(p, score.compound, reach, self.config.reach_cap))


def make_scorer(scoring, topics: dict | None, model_data: bytes | None):
    """The rules alone, or the rules with the active learned model."""
    from monitor.scoring.scorer import ComplaintScorer

    rules = ComplaintScorer(scoring, topics)
    return BlendedScorer(rules, LearnedModel.from_bytes(model_data)) if model_data else rules
