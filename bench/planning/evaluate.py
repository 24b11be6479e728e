"""Full wait-predictor evaluation report (markdown on stdout).

    .venv/bin/python bench/planning/evaluate.py                    # 5 scenarios
    .venv/bin/python bench/planning/evaluate.py --with-patience    # + variants with walk-aways
    .venv/bin/python bench/planning/evaluate.py --train-days 40 --test-days 100 --seed 7
    .venv/bin/python bench/planning/evaluate.py stationary lognormal swing --oracle 400

See ``onestop/planning/evaluation.py`` for the predictors and the scoring.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onestop.planning.evaluation import (  # noqa: E402
    evaluate_scenario,
    format_report,
    scenarios,
    with_patience,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("--train-days", type=int, default=40)
    parser.add_argument("--test-days", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--with-patience",
        action="store_true",
        help="also run lognormal, swing and lunch with 30-minute exponential patience",
    )
    parser.add_argument(
        "--oracle",
        type=int,
        default=0,
        metavar="SAMPLES",
        help="add the Monte Carlo conditional-mean bound (one group, constant counters, "
        "no walk-aways) with this many draws per citizen",
    )
    args = parser.parse_args()
    table = scenarios()
    names = args.scenarios or list(table)
    unknown = set(names) - set(table)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    chosen = [table[name] for name in names]
    if args.with_patience:
        chosen += [with_patience(table[n]) for n in ("lognormal", "swing", "lunch") if n in names]
    results = []
    t0 = time.perf_counter()
    for scenario in chosen:
        results.append(
            evaluate_scenario(
                scenario,
                args.train_days,
                args.test_days,
                args.seed,
                args.workers,
                oracle_samples=args.oracle,
            )
        )
    print(
        f"# Wait-predictor evaluation ({args.train_days} training days, "
        f"{args.test_days} test days, seed {args.seed})\n"
    )
    print(format_report(results))
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
