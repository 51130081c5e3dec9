"""One learning run, from the labels in the store to a stored (and maybe active) model: shared by
`monitor learn` and the service's scheduled retraining."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from monitor.scoring.scorer import ComplaintScorer
from monitor.scoring.training import Evaluation, learn

log = logging.getLogger(__name__)


@dataclass
class LearningOutcome:
    evaluation: Evaluation
    version: int | None     # the stored model (None on a dry run)
    activated: bool

    def report(self) -> str:
        e = self.evaluation
        lines = [f"{e.labels} labels ({e.complaints} complaints, {e.representative} chosen blind to the detector), "
                 f"{e.folds}-fold cross-validation:",
                 f"  rules alone     {e.rules.line()}",
                 f"  learned model   {e.model.line()}  (threshold {e.threshold:.2f})",
                 f"  gain per fold   {e.gain:+.3f} F1, spread {e.spread:.3f}: "
                 + ("more than chance" if e.better else "not enough to trust it over the rules")]
        if e.curve:
            lines.append("learning curve (labels: rules F1 / model F1): " + ", ".join(
                f"{n}: {r:.3f} / {m:.3f}" for n, r, m in e.curve))
            lines.append(_curve_hint(e.curve))
        if self.version is None:
            lines.append("dry run: nothing stored")
        elif self.activated:
            lines.append(f"model {self.version} stored and active: every instance scores with it now")
        else:
            lines.append(f"model {self.version} stored but not active: it does not beat the rules by more than "
                         "its fold-to-fold spread")
        return "\n".join(lines)


def _curve_hint(curve: list[tuple[int, float, float]]) -> str:
    if len(curve) < 2:
        return "too few labels for a curve: label more (`monitor labels next`)"
    (n0, _, m0), (n1, _, m1) = curve[-2], curve[-1]
    if m1 - m0 > 0.01:
        return f"still rising ({m0:.3f} at {n0} labels, {m1:.3f} at {n1}): more labels should help"
    return f"flattening ({m0:.3f} at {n0} labels, {m1:.3f} at {n1}): more labels of the same kind help little"


def run_learning(labels_repo, models_repo, scoring, topics, folds: int = 5, min_labels: int = 40,
                 dry_run: bool = False) -> LearningOutcome:
    records = list(labels_repo.newest())
    texts, truth = [r["text"] for r in records], [bool(r["complaint"]) for r in records]
    evaluation, model = learn(texts, truth, ComplaintScorer(scoring, topics), folds, min_labels,
                              representative=[bool(r.get("representative")) for r in records], curve=True)
    if dry_run:
        return LearningOutcome(evaluation, None, False)
    figures = {"rules": vars(evaluation.rules), "model": vars(evaluation.model), "folds": folds,
               "complaints": evaluation.complaints, "fold_gains": evaluation.fold_gains,
               "threshold": evaluation.threshold, "representative": evaluation.representative,
               "curve": [list(point) for point in evaluation.curve]}
    before = models_repo.active_figures()
    version = models_repo.save(model.to_bytes(), evaluation.labels, max(r["id"] for r in records),
                               evaluation.rules.f1, evaluation.model.f1, figures, activate=evaluation.better)
    if evaluation.better:
        was = (f"model {before['id']} (F1 {before['model_f1']:.3f} on {before['labels']} labels)" if before
               else f"the rules alone (F1 {evaluation.rules.f1:.3f} on these labels)")
        log.warning("activated learned model %d: F1 %.3f on %d labels (gain %+.3f per fold, spread %.3f), "
                    "replacing %s", version, evaluation.model.f1, evaluation.labels, evaluation.gain,
                    evaluation.spread, was)
    else:
        log.info("learned model %d from %d labels: F1 %.3f vs rules %.3f (gain %+.3f, spread %.3f): not "
                 "activated", version, evaluation.labels, evaluation.model.f1, evaluation.rules.f1,
                 evaluation.gain, evaluation.spread)
    return LearningOutcome(evaluation, version, evaluation.better)


def retrain_if_new_labels(labels_repo, models_repo, scoring, topics,
                          at_least: int | None = 1) -> LearningOutcome | None:
    """The scheduled runs: only when at least ``at_least`` labels (None: scoring.retrain_after_labels) came in
    since the last model was trained."""
    from monitor.scoring.training import NotEnoughLabels

    wanted = at_least if at_least is not None else scoring.retrain_after_labels
    if models_repo.labels_since(models_repo.last_trained_on()) < wanted:
        return None
    try:
        return run_learning(labels_repo, models_repo, scoring, topics)
    except NotEnoughLabels as exc:
        log.info("not retraining yet: %s", exc)
        return None
