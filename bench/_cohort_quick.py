"""Quick A/B timing of the Polars Parquet cohort run (registry shape): wall and CPU per run, and the phases.

    .venv/bin/python bench/_cohort_quick.py [--repeat 7] [--path /tmp/rectoplan-bench/cohort-registry-1000000.parquet]

A development aid for the cohort engine's speed work: prints each run's wall and CPU seconds and the
phase timings of the best run. `bench/cohort.py` remains the benchmark of record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from rectoplan.cohort.run import run_cohort
from rectoplan.kb.loader import default_knowledge

DEFAULT = Path("/tmp/rectoplan-bench/cohort-registry-1000000.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--path", type=Path, default=DEFAULT)
    parser.add_argument("--engine", default="polars")
    args = parser.parse_args(argv)
    kb = default_knowledge()
    runs = []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = run_cohort(args.path, kb, args.engine)
        runs.append((time.perf_counter() - start, time.process_time() - cpu, result.timings))
    walls = [w for w, _, _ in runs]
    cpus = [c for _, c, _ in runs]
    best = min(runs, key=lambda r: r[0])
    steps = ", ".join(f"{k} {v:.3f}" for k, v in best[2].items())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"wall best {min(walls):.3f} median {statistics.median(walls):.3f}; CPU best {min(cpus):.2f} "
        f"median {statistics.median(cpus):.2f}; first {walls[0]:.3f}; load average {load}  [{steps}]"
    )
    print("walls", " ".join(f"{w:.3f}" for w in walls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
