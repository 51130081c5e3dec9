"""What `make mutate` found, per module: mutants tried, killed, survived (and not covered by any test).

    python bench/mutation_report.py              # after `mutmut run`, from the project root
    python bench/mutation_report.py --survivors  # also name each surviving mutant (`mutmut show NAME` diffs it)

Reads the results mutmut keeps beside each mutated file (mutants/**/*.py.meta). Modules none of whose mutants
were run (outside MUTATE) are left out. Exit status 1 when any mutant survived.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parent.parent


def results(mutants: Path) -> dict[str, dict[str, str]]:
    """module -> mutant name -> status, for the modules that had mutants run."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        statuses = {name: status_by_exit_code[code] for name, code in codes.items()}
        if any(status != "not checked" for status in statuses.values()):
            module = str(meta.relative_to(mutants))[: -len(".py.meta")].replace("/", ".")
            found[module] = {name: s for name, s in statuses.items() if s != "not checked"}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--survivors", action="store_true", help="list each surviving mutant")
    parser.add_argument("--dir", type=Path, default=ROOT / "mutants", help="mutmut's working directory")
    args = parser.parse_args()
    by_module = results(args.dir)
    if not by_module:
        print(f"no mutation results under {args.dir}: run `make mutate` first")
        return 1
    print(f"{'module':<34} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} {'other':>5}")
    total: Counter = Counter()
    for module, statuses in by_module.items():
        counts = Counter(statuses.values())
        other = len(statuses) - counts["killed"] - counts["survived"] - counts["no tests"]
        print(f"{module:<34} {len(statuses):>7} {counts['killed']:>6} {counts['survived']:>8} "
              f"{counts['no tests']:>8} {other:>5}")
        total.update(counts)
        total["mutants"] += len(statuses)
    print(f"{'all':<34} {total['mutants']:>7} {total['killed']:>6} {total['survived']:>8} {total['no tests']:>8}")
    if args.survivors:
        for statuses in by_module.values():
            for name, status in sorted(statuses.items()):
                if status == "survived":
                    print(f"survived: {name}")
    return 1 if total["survived"] else 0


if __name__ == "__main__":
    sys.exit(main())
