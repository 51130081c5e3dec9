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
    """What `monitor learn` would add: a model trained on the dev half's labels, measured on the held-out half."""
    from monitor.scoring import ComplaintScorer
    from monitor.scoring.learned import BlendedScorer, LearnedModel, dense_features

    rules = ComplaintScorer()
    dev = [r for r in rows if r["split"] == "dev"]
    held = [r for r in rows if r["split"] == "heldout"]
    model = LearnedModel.fit([r["text"] for r in dev], dense_features([r["score"] for r in dev]),
                             [r["complaint"] for r in dev])
    blended = BlendedScorer(rules, model).score_many([(r["text"], 0) for r in held])
    p, rec, f = prf([(r["complaint"], s.is_complaint) for s, r in zip(blended, held, strict=True)])
    rp, rr, rf = prf([(r["complaint"], r["detector"]) for r in held])
    print(f"\nlearned model trained on the dev half ({len(dev)} labels), on the held-out half ({len(held)} posts):")
    print(f"  rules alone     P {rp:.3f}  R {rr:.3f}  F1 {rf:.3f}")
    print(f"  rules + model   P {p:.3f}  R {rec:.3f}  F1 {f:.3f}")


if __name__ == "__main__":
    sys.exit(main())
