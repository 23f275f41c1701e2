"""Latency of one recommendation, in process: prints p50/p99 over generated cases (never asserts).

Figures, as the core issue asks:
  1. `recommend` on an already validated case (targets: p50 < 100 µs, p99 < 300 µs), without and with
     'what would change the plan';
  2. JSON text in -> JSON text out, validation and serialisation included (target: p99 < 1 ms).
The engine caches option outcomes per knowledge base (`rectoplan.core._cache`), so each figure is given
twice: "first sight" (a fresh knowledge base meeting these cases) and "steady state" (after N other
cases, JSON with what-if, as in a service). Most of the slowest calls meet option outcomes not seen
before (each is built once, then cached) or a collection of the cyclic garbage collector, whose pauses
grow with what the caches hold; `--gc` prints, per figure, how many calls overlapped a collection.
A calibration line tells how fast this machine runs plain Python, to compare figures across machines.
`--cpu` times each call by the CPU time of its thread instead of the wall clock: on a machine shared with
other work, a call that waited for a core then counts only what it ran (collections included), which
makes two versions comparable in the same minute; the figures of docs/benchmarks.md are wall time.
Run: .venv/bin/python bench/recommend.py [N] [--gc] [--cpu]
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
from rectoplan.kb.loader import load_knowledge, settle_collector
from rectoplan.synthetic import random_cases


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    p999 = ordered[int(len(ordered) * 0.999)] / 1000  # what a rarer, longer collection costs shows here
    mean = statistics.fmean(ordered) / 1000
    return f"p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   p99.9 {p999:8.1f} µs   mean {mean:8.1f} µs"


COLLECTIONS: list[int] = []  # generation of each collection started (with --gc)


def _count_collections(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        COLLECTIONS.append(info["generation"])


CLOCK = [time.perf_counter_ns]  # with --cpu: time.thread_time_ns


def timed(fn: Callable[[Any], Any], items: list[Any]) -> tuple[list[int], str]:
    times = []
    during: list[int] = []  # with --gc: the deepest generation collected during each call, or -1
    clock = CLOCK[0]
    for item in items:
        del COLLECTIONS[:]
        t0 = clock()
        fn(item)
        times.append(clock() - t0)
        during.append(max(COLLECTIONS, default=-1))
    note = ""
    if _count_collections in gc.callbacks:
        slowest = sorted(range(len(times)), key=times.__getitem__)[-max(1, len(times) // 100) :]
        calls = [sum(1 for g in during if g == n) for n in range(3)]
        overlapping = sum(1 for i in slowest if during[i] >= 0)
        note = f"calls during a collection of generation 0/1/2: {calls}; of the 1% slowest: {overlapping}"
    return times, note


def measure(kb: KnowledgeBase, cases: list[Case], texts: list[str]) -> list[tuple[str, tuple[list[int], str]]]:
    return [
        ("recommend(case), no what-if", timed(lambda c: recommend(c, kb, what_if=False), cases)),
        ("recommend(case), with what-if", timed(lambda c: recommend(c, kb, what_if=True), cases)),
        ("JSON in -> JSON out, no what-if", timed(lambda t: recommend_json(t, kb, what_if=False), texts)),
        ("JSON in -> JSON out, with what-if", timed(lambda t: recommend_json(t, kb, what_if=True), texts)),
    ]


def main() -> None:
    args = [a for a in sys.argv[1:] if a not in ("--gc", "--cpu")]
    n = int(args[0]) if args else 10_000
    if "--gc" in sys.argv:
        gc.callbacks.append(_count_collections)
    if "--cpu" in sys.argv:
        CLOCK[0] = time.thread_time_ns
    raw = random_cases(n, seed=42)
    warm = random_cases(n, seed=7)
    calibration = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(
        f"{n} generated cases, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
        f"calibration: sum(range(1000)) = {calibration:.1f} µs (about 8-10 µs on a current desktop)"
        + (", clock: thread CPU time" if CLOCK[0] is time.thread_time_ns else "")
    )
    for state in ("first sight", "steady state"):
        kb = load_knowledge()  # a fresh knowledge base: empty caches
        cases = [validate_case(c, kb) for c in raw]
        texts = [json.dumps(c) for c in raw]
        settle_collector()  # as `default_knowledge` does for the CLI and the service: the knowledge base and
        # the inputs leave the cyclic collector's walk, which runs less often (see its docstring)
        if state == "steady state":
            for c in warm:
                recommend_json(json.dumps(c), kb)
        print(f"-- {state} ({len(kb.options)} options, knowledge {kb.version})")
        for label, (times, note) in measure(kb, cases, texts):
            print(f"   {label:<34} {percentiles(times)}")
            if note:
                print(f"      {note}")


if __name__ == "__main__":
    main()
