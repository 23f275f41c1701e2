"""Cohort benchmark: cases per second for each way of applying the rules to a generated cohort.

    .venv/bin/python bench/cohort.py [--cases 1000000] [--sample 20000] [--data DIR] [--skip-engines]

Generates (once, cached in --data) a cohort of --cases synthetic cases (`rectoplan.synthetic.random_cases`)
as Parquet and as JSON lines of flattened rows, then times, in the same run:

- the embedded default (Polars) and DuckDB, from Parquet and from JSON lines to the result table in
  memory (read + validate + evaluate + build the result texts);
- writing the outputs (results.parquet, errors, explanations, report) separately;
- the per-case loop (edge validator + `rectoplan.core.engine`, what `--engine python` does);
- the same core rules in zen-engine (GoRules JDM decision graph) and in `rule-engine` (rule expressions).

The per-case loop and the two rule engines are timed on a --sample of the cohort and scaled (they are
100 to 1000 times slower); both rule-engine ports are checked against the engine on that sample, so the
comparison is between equal work. Figures are printed, never asserted (targets live here, not in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.readers import arrow_type
from rectoplan.kb.loader import default_knowledge
from rectoplan.synthetic import random_cases

CHUNK = 50_000


def generate(n: int, folder: Path) -> tuple[Path, Path]:
    """The cohort as Parquet and JSON lines (cached: generating a million cases takes a minute or two)."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, jsonl = folder / f"cohort-{n}.parquet", folder / f"cohort-{n}.jsonl"
    if parquet.exists() and jsonl.exists():
        return parquet, jsonl
    schema = pa.schema([(c.name, arrow_type(c.kind)) for c in COLUMNS])
    start = time.perf_counter()
    with pq.ParquetWriter(parquet, schema) as writer, jsonl.open("w", encoding="utf-8") as lines:
        for first in range(0, n, CHUNK):
            rows = [flatten_contract(c) for c in random_cases(min(CHUNK, n - first), seed=first // CHUNK)]
            for i, row in enumerate(rows):  # unique ids across chunks
                row["id"] = f"case-{first + i}"
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            lines.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    print(f"generated {n:,} cases in {time.perf_counter() - start:.1f} s -> {parquet.name}, {jsonl.name}")
    return parquet, jsonl


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} cases/s  ({seconds:7.3f} s for {n:,})"


def time_engine(path: Path, engine: str, repeat: int) -> tuple[float, Any]:
    from rectoplan.cohort.run import run_cohort

    kb = default_knowledge()
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_cohort(path, kb, engine)
        best = min(best, time.perf_counter() - start)
    return best, result


def time_per_case(rows: list[dict[str, Any]]) -> float:
    from rectoplan.cohort.columns import validate_row
    from rectoplan.cohort.reference import evaluate

    kb = default_knowledge()
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    start = time.perf_counter()
    for row in rows:
        evaluate(validate_row(row, drugs, procedures), kb)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="cases for the slow paths (scaled)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "rectoplan-bench")
    parser.add_argument("--repeat", type=int, default=2, help="best of N for the embedded engines")
    parser.add_argument("--skip-engines", action="store_true", help="skip zen-engine and rule-engine")
    args = parser.parse_args(argv)
    parquet, jsonl = generate(args.cases, args.data)
    kb = default_knowledge()
    print(
        f"knowledge {kb.version}: {len(kb.options)} options, "
        f"{sum(len(o.gates) for o in kb.options)} option gates; {os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    results: dict[str, float] = {}
    for engine in ("polars", "duckdb"):
        for path in (parquet, jsonl):
            seconds, result = time_engine(path, engine, args.repeat)
            label = f"{engine:7s} {path.suffix[1:]:8s}"
            results[label] = args.cases / seconds
            steps = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
            print(f"{label} {_rate(args.cases, seconds)}   [{steps}]")
    from rectoplan.cohort.output import write_outputs

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_outputs(result, Path(out), str(jsonl))
        print(f"writing results.parquet, errors, explanations and report: {time.perf_counter() - start:.2f} s")
    sample = [json.loads(line) for line, _ in zip(jsonl.open(encoding="utf-8"), range(args.sample), strict=False)]
    seconds = time_per_case(sample)
    results["per-case loop"] = len(sample) / seconds
    print(
        f"per-case loop    {_rate(len(sample), seconds)}  -> {args.cases / results['per-case loop']:,.0f} s "
        f"for {args.cases:,}"
    )
    if not args.skip_engines:
        from bench.cohort_engines import time_rule_engine, time_zen

        for name, timer in (("zen-engine", time_zen), ("rule-engine", time_rule_engine)):
            try:
                seconds, count, agree = timer(sample, kb)
            except ModuleNotFoundError as exc:
                print(f"{name:16s} not installed ({exc.name}); pip install zen-engine rule-engine")
                continue
            results[name] = count / seconds
            print(
                f"{name:16s} {_rate(count, seconds)}  -> {args.cases / results[name]:,.0f} s for "
                f"{args.cases:,}; agrees with the engine on {agree}/{count} cases"
            )
    best = results.get("polars  parquet ")
    if best:
        for other in ("per-case loop", "zen-engine", "rule-engine"):
            if other in results:
                print(f"embedded default (Parquet) vs {other}: {best / results[other]:,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
