"""`monitor learn`: the classifier measured against the rules on the same labels (stratified k-fold
cross-validation, pooled predictions), and trained on all of them."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np

from monitor.scoring.learned import LearnedModel, dense_features

MIN_TUNING = 30  # representative labels needed before the threshold moves from 0.5


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
    fold_gains: list[float] = field(default_factory=list)  # model F1 minus rules F1, fold by fold
    threshold: float = 0.5      # the model's probability threshold, tuned on the representative labels
    representative: int = 0     # labels chosen blind to the detector (random queue picks, bulk imports)
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # (labels, rules F1, model F1)

    @property
    def gain(self) -> float:
        return statistics.fmean(self.fold_gains) if self.fold_gains else self.model.f1 - self.rules.f1

    @property
    def spread(self) -> float:
        return statistics.pstdev(self.fold_gains) if len(self.fold_gains) > 1 else 0.0

    @property
    def better(self) -> bool:
        """Better than the rules by more than chance between folds: never activate a model that is not."""
        return self.model.f1 > self.rules.f1 and self.gain > 0 and self.gain > self.spread


class NotEnoughLabels(Exception):
    pass


def _figures(truth: np.ndarray, predicted: np.ndarray) -> Figures:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(truth, predicted, average="binary", zero_division=0)
    return Figures(float(p), float(r), float(f))


def tune_threshold(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The probability threshold with the best F1 on these labels (0.5 without enough of each kind); ties
    go to the one nearest 0.5."""
    complaints = int(truth.sum())
    if len(truth) < MIN_TUNING or min(complaints, len(truth) - complaints) < 5:
        return 0.5
    grid = np.round(np.arange(0.2, 0.801, 0.02), 2)
    f1 = [_figures(truth, probabilities >= t).f1 for t in grid]
    return float(max(zip(f1, -abs(grid - 0.5), grid, strict=True))[2])


def _check(truth: np.ndarray, folds: int, min_labels: int) -> None:
    complaints = int(truth.sum())
    if len(truth) < min_labels or min(complaints, len(truth) - complaints) < folds:
        raise NotEnoughLabels(f"{len(truth)} label(s), {complaints} complaint(s): learning needs at least "
                              f"{min_labels} labels with {folds} or more of each kind")


def _out_of_fold(texts, truth, dense, folds, fit) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each post's probability from the model trained without its fold, and the folds' test indices."""
    from sklearn.model_selection import StratifiedKFold

    probabilities, tests = np.zeros(len(truth)), []
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(texts, truth):
        model = fit([texts[i] for i in train], dense[train], truth[train].tolist())
        probabilities[test] = model.probabilities([texts[i] for i in test], dense[test])
        tests.append(test)
    return probabilities, tests


def evaluate(texts: list[str], labels: list[bool], rules_scorer, folds: int = 5, min_labels: int = 40,
             fit=LearnedModel.fit, representative: list[bool] | None = None,
             curve: bool = False) -> tuple[Evaluation, np.ndarray]:
    """Cross-validated figures of the model and of the rules alone; also returns the rules' features.

    Each fold's predictions use a threshold tuned on the other folds' representative labels only, so the
    figures are not flattered by the tuning. ``fit(texts, dense, labels)`` trains one fold's model; a test
    passes its own to see what each fold was trained on and asked about."""
    truth = np.array(labels, dtype=bool)
    _check(truth, folds, min_labels)
    fair = np.array(representative if representative is not None else [True] * len(truth), dtype=bool)
    scores = rules_scorer.score_many([(t, 0) for t in texts])
    dense = dense_features(scores)
    rules_pred = np.array([s.is_complaint for s in scores], dtype=bool)
    probabilities, tests = _out_of_fold(texts, truth, dense, folds, fit)
    predicted, gains = np.zeros(len(truth), dtype=bool), []
    for test in tests:
        others = np.ones(len(truth), dtype=bool)
        others[test] = False
        threshold = tune_threshold(probabilities[others & fair], truth[others & fair])
        predicted[test] = probabilities[test] >= threshold
        gains.append(_figures(truth[test], predicted[test]).f1 - _figures(truth[test], rules_pred[test]).f1)
    evaluation = Evaluation(len(truth), int(truth.sum()), _figures(truth, rules_pred), _figures(truth, predicted),
                            folds, gains, tune_threshold(probabilities[fair], truth[fair]), int(fair.sum()))
    if curve:
        evaluation.curve = _curve(texts, truth, dense, rules_pred, folds, fit, evaluation)
    return evaluation, dense


def _curve(texts, truth, dense, rules_pred, folds, fit, full: Evaluation) -> list[tuple[int, float, float]]:
    """F1 of the rules and of the model (threshold 0.5) on 25, 50 and 75% of the labels, then all of them."""
    from sklearn.model_selection import train_test_split

    points = []
    for share in (0.25, 0.5, 0.75):
        size = int(len(truth) * share)
        try:
            subset, _ = train_test_split(np.arange(len(truth)), train_size=size, stratify=truth, random_state=0)
        except ValueError:
            continue  # too few of a kind to split
        part = truth[subset]
        if min(int(part.sum()), len(part) - int(part.sum())) < folds:
            continue
        probabilities, _ = _out_of_fold([texts[i] for i in subset], part, dense[subset], folds, fit)
        points.append((size, _figures(part, rules_pred[subset]).f1, _figures(part, probabilities >= 0.5).f1))
    return points + [(full.labels, full.rules.f1, full.model.f1)]


def learn(texts: list[str], labels: list[bool], rules_scorer, folds: int = 5, min_labels: int = 40,
          representative: list[bool] | None = None, curve: bool = False) -> tuple[Evaluation, LearnedModel]:
    evaluation, dense = evaluate(texts, labels, rules_scorer, folds, min_labels, representative=representative,
                                 curve=curve)
    model = LearnedModel.fit(texts, dense, labels)
    model.threshold = evaluation.threshold
    return evaluation, model
