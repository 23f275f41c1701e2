"""Latency of one recommendation, in process: prints p50/p99 over generated cases (never asserts).

Two figures, as the core issue asks:
  1. `recommend` on an already validated case (targets: p50 < 100 µs, p99 < 300 µs), without and with
     'what would change the plan';
  2. JSON text in -> JSON text out, validation and serialisation included (target: p99 < 1 ms).
Run: .venv/bin/python bench/recommend.py [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from rectoplan.api import recommend_json, validate_case
from rectoplan.core.engine import recommend
from rectoplan.kb.loader import default_knowledge
from rectoplan.synthetic import random_cases


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    mean = statistics.fmean(ordered) / 1000
    return f"p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   mean {mean:8.1f} µs"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    kb = default_knowledge()
    raw = random_cases(n, seed=42)
    texts = [json.dumps(c) for c in raw]
    cases = [validate_case(c, kb) for c in raw]
    for case in cases[:200]:  # warm up
        recommend(case, kb, what_if=False)

    print(f"rectoplan {kb.version}: {len(kb.options)} options, {n} generated cases, Python {sys.version.split()[0]}")
    for label, what_if in (("recommend(case), no what-if", False), ("recommend(case), with what-if", True)):
        times = []
        for case in cases:
            t0 = time.perf_counter_ns()
            recommend(case, kb, what_if=what_if)
            times.append(time.perf_counter_ns() - t0)
        print(f"{label:<34} {percentiles(times)}")
    for label, what_if in (
        ("JSON in -> JSON out, no what-if", False),
        ("JSON in -> JSON out, with what-if", True),
    ):
        times = []
        for text in texts:
            t0 = time.perf_counter_ns()
            recommend_json(text, kb, what_if=what_if)
            times.append(time.perf_counter_ns() - t0)
        print(f"{label:<34} {percentiles(times)}")


if __name__ == "__main__":
    main()
