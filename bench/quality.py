"""Complaint detection quality: the detector against raw VADER on a labeled set.

    python bench/quality.py                 # all posts, and the dev / held-out halves
    python bench/quality.py --errors dev    # list what the detector gets wrong in the dev half

Raw VADER counts a post as a complaint when its compound score is <= -0.05.
The held-out split is fixed (each post's split is stored with it) and tuning never reads it: rules are
changed by looking at the dev split's mistakes only. Targets: held-out F1 >= 0.85 and a dev/held-out gap
under 0.08; the exit status is 1 when either is missed.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.scoring import ComplaintScorer  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "data" / "complaints_eval.jsonl"
HELDOUT_TARGET = 0.85
GAP_TARGET = 0.08


def prf(pairs: list[tuple[bool, bool]]) -> tuple[float, float, float]:
    tp = sum(1 for truth, pred in pairs if truth and pred)
    fp = sum(1 for truth, pred in pairs if not truth and pred)
    fn = sum(1 for truth, pred in pairs if truth and not pred)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(path: Path) -> list[dict]:
    scorer = ComplaintScorer()
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        score = scorer.score(item["text"])
        item["detector"] = score.is_complaint
        item["vader"] = score.compound <= -0.05
        item["score"] = score
        rows.append(item)
    return rows


def report(rows: list[dict]) -> dict[str, float]:
    figures = {}
    print(f"{'subset':<10} {'posts':>5}  {'method':<9} {'precision':>9} {'recall':>7} {'F1':>6}")
    for subset in ("all", "dev", "heldout"):
        chosen = [r for r in rows if subset == "all" or r["split"] == subset]
        for method in ("detector", "vader"):
            p, r, f = prf([(x["complaint"], x[method]) for x in chosen])
            figures[f"{subset}.{method}.f1"] = f
            print(f"{subset:<10} {len(chosen):>5}  {method:<9} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    for field in ("domain", "case"):
        accuracy_by(rows, field)
    ratio = (
        figures["heldout.detector.f1"] / figures["heldout.vader.f1"] if figures["heldout.vader.f1"] else float("inf")
    )
    gap = figures["dev.detector.f1"] - figures["heldout.detector.f1"]
    figures["gap"] = gap
    print(f"\nheld-out F1 {figures['heldout.detector.f1']:.3f} (target >= {HELDOUT_TARGET}), raw VADER "
          f"{figures['heldout.vader.f1']:.3f} (x{ratio:.2f}); dev/held-out gap {gap:.3f} (target < {GAP_TARGET})")
    return figures


def accuracy_by(rows: list[dict], field: str) -> None:
    print(f"\naccuracy by {field} (detector / raw VADER):")
    groups = defaultdict(list)
    for r in rows:
        groups[r.get(field, "?")].append(r)
    for name, items in sorted(groups.items()):
        det = sum(r["detector"] == r["complaint"] for r in items) / len(items)
        vad = sum(r["vader"] == r["complaint"] for r in items) / len(items)
        print(f"  {name:<20} {len(items):>4} posts  {det:6.1%}  {vad:6.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--set", type=Path, default=DEFAULT_SET, help="labeled JSON lines: text, complaint, case, split, domain"
    )
    parser.add_argument("--errors", choices=("dev", "heldout", "all"), help="list the detector's mistakes")
    args = parser.parse_args()
    rows = evaluate(args.set)
    figures = report(rows)
    if args.errors:
        print(f"\nmistakes ({args.errors}):")
        for r in rows:
            if (args.errors == "all" or r["split"] == args.errors) and r["detector"] != r["complaint"]:
                s = r["score"]
                why = ", ".join(f"{x['rule']}:{x.get('match', x.get('score'))}" for x in s.reasons)
                verdict = "FN" if r["complaint"] else "FP"
                print(f"  {verdict} conf={s.confidence:.2f} [{r['case']}] {r['text']}\n       {why}")
    learned_on_dev(rows)
    return 0 if figures["heldout.detector.f1"] >= HELDOUT_TARGET and figures["gap"] < GAP_TARGET else 1


def learned_on_dev(rows: list[dict]) -> None:
    """What `monitor learn` adds, measured on labels the rules were never tuned on: 5-fold cross-validation
    within the held-out half (each fold's model learns from the other four fifths). A model trained on the dev
    half would learn to copy rules that were tuned on those very posts."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from monitor.scoring.learned import LearnedModel, dense_features

    held = [r for r in rows if r["split"] == "heldout"]
    texts, truth = [r["text"] for r in held], np.array([r["complaint"] for r in held])
    dense = dense_features([r["score"] for r in held])
    rules = np.array([r["detector"] for r in held])
    predicted = np.zeros(len(held), dtype=bool)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, truth):
        model = LearnedModel.fit([texts[i] for i in train], dense[train], truth[train].tolist())
        predicted[test] = model.probabilities([texts[i] for i in test], dense[test]) >= 0.5
    rp, rr, rf = prf(list(zip(truth, rules, strict=True)))
    p, rec, f = prf(list(zip(truth, predicted, strict=True)))
    print(f"\nlearned model, 5-fold cross-validation within the held-out half ({len(held)} posts, 4/5 as labels):")
    print(f"  rules alone     P {rp:.3f}  R {rr:.3f}  F1 {rf:.3f}")
    print(f"  rules + model   P {p:.3f}  R {rec:.3f}  F1 {f:.3f}")
    label_efficiency(texts, truth, dense, rules, [r["score"] for r in held])


CHECKPOINTS = (50, 100, 200, 300, 500)
ROUND = 20


def label_efficiency(texts, truth, dense, rules, scores, folds: int = 5) -> None:
    """A team labelling with `monitor labels next` (start from 20 random labels, then 20 a round: three in four
    nearest the model's boundary, one in four at random) against one labelling random posts, each fold of the
    held-out half kept aside as the test set. Prints F1 on the test folds at each number of labels."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    curves = {"queue": {n: [] for n in CHECKPOINTS}, "random": {n: [] for n in CHECKPOINTS}}
    rules_f1 = []
    for fold, (pool, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=1).split(texts, truth)):
        rules_f1.append(prf(list(zip(truth[test], rules[test], strict=True)))[2])
        for strategy in curves:
            for n, f1 in _simulate(strategy, pool, test, texts, truth, dense, np.random.RandomState(fold),
                                   scores).items():
                curves[strategy][n].append(f1)
    print(f"\nlabel efficiency ({folds} folds of the held-out half; the rules score "
          f"{sum(rules_f1) / len(rules_f1):.3f} on the test folds):")
    print(f"  {'labels':<20}" + "".join(f"{n:>7}" for n in CHECKPOINTS))
    for strategy, points in curves.items():
        name = "queue (labels next)" if strategy == "queue" else "random picks"
        print(f"  {name:<20}" + "".join(f"{sum(v) / len(v):>7.3f}" if v else f"{'-':>7}" for v in points.values()))


class _KnownRules:
    """The rules' scores of the benchmark's posts, computed once (the queue asks about the same posts each round)."""

    def __init__(self, texts, scores) -> None:
        from monitor.scoring import ComplaintScorer

        self.config = ComplaintScorer().config
        self.by_text = dict(zip(texts, scores, strict=True))

    def score_many(self, items):
        return [self.by_text[item[0]] for item in items]


def _simulate(strategy, pool, test, texts, truth, dense, rng, scores) -> dict[int, float]:
    """Labels added a round at a time; the queue's rounds are what `monitor labels next` picks (the same code)."""
    import random

    import numpy as np

    from monitor.scoring.label_queue import pick_for_labelling
    from monitor.scoring.learned import BlendedScorer, LearnedModel

    rules = _KnownRules(texts, scores)

    def fit(chosen):
        return LearnedModel.fit([texts[i] for i in chosen], dense[chosen], truth[chosen].tolist())

    def f1(model) -> float:
        predicted = model.probabilities([texts[i] for i in test], dense[test]) >= 0.5
        return prf(list(zip(truth[test], predicted, strict=True)))[2]

    order = [int(i) for i in rng.permutation(pool)]
    labelled, rest = order[:ROUND], order[ROUND:]
    picker = random.Random(int(rng.randint(1 << 30)))  # noqa: S311 - a benchmark's sampling
    result: dict[int, float] = {}
    while rest and len(labelled) < max(CHECKPOINTS):
        if strategy == "queue" and len(set(truth[labelled])) == 2:
            model = fit(np.array(labelled))
            candidates = [{"mention_id": i, "text": texts[i], "brand": "", "source": ""} for i in rest]
            picks = pick_for_labelling(candidates, BlendedScorer(rules, model), model.threshold, ROUND,
                                       [texts[i] for i in labelled], picker)
            chosen = [p.mention_id for p in picks] or rest[:ROUND]
        else:
            chosen = rest[:ROUND]
        labelled += chosen
        taken = set(chosen)
        rest = [i for i in rest if i not in taken]
        for n in CHECKPOINTS:
            if len(labelled) - len(chosen) < n <= len(labelled):
                result[n] = f1(fit(np.array(labelled[:n])))
    return result


if __name__ == "__main__":
    sys.exit(main())
