"""Latency of one recommendation, in process: prints p50/p99 over generated cases (never asserts).

Figures, as the core issue asks:
  1. `recommend` on an already validated case (targets: p50 < 100 µs, p99 < 300 µs), without and with
     'what would change the plan';
  2. JSON text in -> JSON text out, validation and serialisation included (target: p99 < 1 ms).
The engine caches option outcomes per knowledge base (`rectoplan.core._cache`), so each figure is given
twice: "first sight" (a fresh knowledge base meeting these cases) and "steady state" (after another
10,000 cases, as in a service).
A calibration line tells how fast this machine runs plain Python, to compare figures across machines.
Run: .venv/bin/python bench/recommend.py [N]
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

from rectoplan.api import recommend_json, validate_case
from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import random_cases


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    mean = statistics.fmean(ordered) / 1000
    return f"p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   mean {mean:8.1f} µs"


def timed(fn: Callable[[Any], Any], items: list[Any]) -> list[int]:
    times = []
    for item in items:
        t0 = time.perf_counter_ns()
        fn(item)
        times.append(time.perf_counter_ns() - t0)
    return times


def measure(kb: KnowledgeBase, cases: list[Case], texts: list[str]) -> list[tuple[str, list[int]]]:
    return [
        ("recommend(case), no what-if", timed(lambda c: recommend(c, kb, what_if=False), cases)),
        ("recommend(case), with what-if", timed(lambda c: recommend(c, kb, what_if=True), cases)),
        ("JSON in -> JSON out, no what-if", timed(lambda t: recommend_json(t, kb, what_if=False), texts)),
        ("JSON in -> JSON out, with what-if", timed(lambda t: recommend_json(t, kb, what_if=True), texts)),
    ]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    raw = random_cases(n, seed=42)
    warm = random_cases(n, seed=7)
    calibration = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(
        f"{n} generated cases, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
        f"calibration: sum(range(1000)) = {calibration:.1f} µs (about 8-10 µs on a current desktop)"
    )
    for state in ("first sight", "steady state"):
        kb = load_knowledge()  # a fresh knowledge base: empty caches
        cases = [validate_case(c, kb) for c in raw]
        texts = [json.dumps(c) for c in raw]
        gc.collect()  # as `default_knowledge` does for the CLI and the service: the knowledge base and the
        gc.freeze()  # inputs leave the cyclic collector's walk (see its docstring)
        if state == "steady state":
            for c in warm:
                recommend_json(json.dumps(c), kb)
        print(f"-- {state} ({len(kb.options)} options, knowledge {kb.version})")
        for label, times in measure(kb, cases, texts):
            print(f"   {label:<34} {percentiles(times)}")


if __name__ == "__main__":
    main()
