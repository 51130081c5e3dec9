"""`monitor learn`: the classifier measured against the rules on the same labels (stratified k-fold
cross-validation, pooled predictions), and trained on all of them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.scoring.learned import LearnedModel, dense_features


@dataclass
class Figures:
    precision: float
    recall: float
    f1: float

    def line(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


@dataclass
class Evaluation:
    labels: int
    complaints: int
    rules: Figures
    model: Figures
    folds: int

    @property
    def better(self) -> bool:
        return self.model.f1 > self.rules.f1


class NotEnoughLabels(Exception):
    pass


def _figures(truth: np.ndarray, predicted: np.ndarray) -> Figures:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(truth, predicted, average="binary", zero_division=0)
    return Figures(float(p), float(r), float(f))


def evaluate(texts: list[str], labels: list[bool], rules_scorer, folds: int = 5, min_labels: int = 40,
             fit=LearnedModel.fit) -> tuple[Evaluation, np.ndarray]:
    """Cross-validated figures of the model and of the rules alone; also returns the rules' features.

    ``fit(texts, dense, labels)`` trains one fold's model; a test passes its own to see what each fold
    was trained on and asked about."""
    from sklearn.model_selection import StratifiedKFold

    truth = np.array(labels, dtype=bool)
    complaints = int(truth.sum())
    if len(truth) < min_labels or min(complaints, len(truth) - complaints) < folds:
        raise NotEnoughLabels(f"{len(truth)} label(s), {complaints} complaint(s): learning needs at least "
                              f"{min_labels} labels with {folds} or more of each kind")
    scores = rules_scorer.score_many([(t, 0) for t in texts])
    dense = dense_features(scores)
    rules_pred = np.array([s.is_complaint for s in scores], dtype=bool)
    predicted = np.zeros(len(truth), dtype=bool)
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(texts, truth):
        model = fit([texts[i] for i in train], dense[train], truth[train].tolist())
        predicted[test] = model.probabilities([texts[i] for i in test], dense[test]) >= 0.5
    return Evaluation(len(truth), complaints, _figures(truth, rules_pred), _figures(truth, predicted), folds), dense


def learn(texts: list[str], labels: list[bool], rules_scorer, folds: int = 5,
          min_labels: int = 40) -> tuple[Evaluation, LearnedModel | None]:
    evaluation, dense = evaluate(texts, labels, rules_scorer, folds, min_labels)
    return evaluation, LearnedModel.fit(texts, dense, labels)
