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
        lines = [f"{e.labels} labels ({e.complaints} complaints), {e.folds}-fold cross-validation:",
                 f"  rules alone     {e.rules.line()}",
                 f"  learned model   {e.model.line()}"]
        if self.version is None:
            lines.append("dry run: nothing stored")
        elif self.activated:
            lines.append(f"model {self.version} stored and active: every instance scores with it now")
        else:
            lines.append(f"model {self.version} stored but not active: it does not beat the rules")
        return "\n".join(lines)


def run_learning(labels_repo, models_repo, scoring, topics, folds: int = 5, min_labels: int = 40,
                 dry_run: bool = False) -> LearningOutcome:
    records = list(labels_repo.newest())
    texts, truth = [r["text"] for r in records], [bool(r["complaint"]) for r in records]
    evaluation, model = learn(texts, truth, ComplaintScorer(scoring, topics), folds, min_labels)
    if dry_run:
        return LearningOutcome(evaluation, None, False)
    figures = {"rules": vars(evaluation.rules), "model": vars(evaluation.model), "folds": folds,
               "complaints": evaluation.complaints}
    version = models_repo.save(model.to_bytes(), evaluation.labels, max(r["id"] for r in records),
                               evaluation.rules.f1, evaluation.model.f1, figures, activate=evaluation.better)
    log.info("learned model %d from %d labels: F1 %.3f vs rules %.3f%s", version, evaluation.labels,
             evaluation.model.f1, evaluation.rules.f1, " (active)" if evaluation.better else " (not better)")
    return LearningOutcome(evaluation, version, evaluation.better)


def retrain_if_new_labels(labels_repo, models_repo, scoring, topics) -> LearningOutcome | None:
    """The scheduled run: only when labels came in since the last model was trained."""
    from monitor.scoring.training import NotEnoughLabels

    if models_repo.newest_label_id() <= models_repo.last_trained_on():
        return None
    try:
        return run_learning(labels_repo, models_repo, scoring, topics)
    except NotEnoughLabels as exc:
        log.info("not retraining yet: %s", exc)
        return None
