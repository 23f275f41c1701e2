"""Cohort benchmark: cases per second for each way of applying the rules to a generated cohort.

    .venv/bin/python bench/cohort.py [--cases 1000000] [--sample 20000] [--data DIR] [--skip-engines]
                                     [--shapes registry,coverage]

Generates (once, cached in --data) a cohort of --cases synthetic cases of each shape as Parquet and as JSON
lines of flattened rows, then times, in the same run:

- the embedded default (Polars) and DuckDB, from Parquet and from JSON lines to the result table in
  memory (read + validate + evaluate + build the result texts);
- writing the outputs (results.parquet, errors, explanations, report) separately;
- the per-case loop (edge validator + `rectoplan.core.engine`, what `--engine python` does);
- the same core rules in zen-engine (GoRules JDM decision graph) and in `rule-engine` (rule expressions).

It does so for two generated cohorts (--shapes): `registry` (`rectoplan.synthetic.registry_cases`: most
fields recorded, common values common, as in a registry extract) and `coverage` (`random_cases`: every value
equally likely and a fifth of every field missing, built to reach rare combinations; nearly every case has
an outcome of its own). The number of distinct outcomes is printed with each. The two rule engines run on
the first shape only.

The per-case loop and the two rule engines are timed on a --sample of the cohort and scaled (they are
100 to 1000 times slower); both rule-engine ports are checked against the engine on that sample, so the
comparison is between equal work. Figures are printed, never asserted (targets live here, not in tests).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
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
from rectoplan.synthetic import random_cases, registry_cases

CHUNK = 50_000


SHAPES = {"registry": registry_cases, "coverage": random_cases}


def generate(n: int, folder: Path, shape: str = "registry") -> tuple[Path, Path]:
    """The cohort as Parquet and JSON lines (cached: generating a million cases takes a minute or two)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"cohort-{n}" if shape == "coverage" else f"cohort-{shape}-{n}"
    parquet, jsonl = folder / f"{stem}.parquet", folder / f"{stem}.jsonl"
    if parquet.exists() and jsonl.exists():
        return parquet, jsonl
    schema = pa.schema([(c.name, arrow_type(c.kind)) for c in COLUMNS])
    start = time.perf_counter()
    with pq.ParquetWriter(parquet, schema) as writer, jsonl.open("w", encoding="utf-8") as lines:
        for first in range(0, n, CHUNK):
            rows = [flatten_contract(c) for c in SHAPES[shape](min(CHUNK, n - first), seed=first // CHUNK)]
            for i, row in enumerate(rows):  # unique ids across chunks
                row["id"] = f"case-{first + i}"
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            lines.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
    print(f"generated {n:,} cases in {time.perf_counter() - start:.1f} s -> {parquet.name}, {jsonl.name}")
    return parquet, jsonl


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} cases/s  ({seconds:7.3f} s for {n:,})"


def time_engine(path: Path, engine: str, repeat: int) -> tuple[list[float], list[float], Any]:
    """Seconds of each of `repeat` runs in one process (the first one also builds the compiled plan's
    engine expressions, which later runs reuse), the CPU seconds of each (all threads; steadier than the
    wall clock on a shared machine), and the last result."""
    from rectoplan.cohort.run import run_cohort

    kb = default_knowledge()
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run_cohort(path, kb, engine)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return times, cpu, result


def time_per_case(rows: list[dict[str, Any]]) -> float:
    from rectoplan.cohort.columns import validate_row
    from rectoplan.cohort.reference import evaluate

    kb = default_knowledge()
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    start = time.perf_counter()
    for row in rows:
        evaluate(validate_row(row, drugs, procedures), kb)
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------------------
# The same core rules in two other rule engines. Both are compiled from the knowledge base (so they track
# it as it grows): every distinct condition of the intent rules, option settings and gates, and test rules.
# Three-valued logic is kept: zen-engine expressions use numbers (true 1, unknown 0.5, false 0; AND = min,
# OR = max, NOT = 1 - x) and GoRules decision tables (hit policy "first") decide each option's status
# exactly as the engine's assess_option does; rule-engine, which is two-valued, gets two rules per condition
# ("certainly true", "certainly false") and the status logic in Python. Facts are computed beforehand with
# `case_facts` and not timed (in the engine's favour); each port is checked against the engine.


def _facts(row: dict[str, Any], kb: Any) -> dict[str, Any]:
    from rectoplan.cohort.columns import validate_row
    from rectoplan.core.engine import facts_with_intent

    facts, _ = facts_with_intent(validate_row(row, kb.vocabulary.drugs, kb.vocabulary.procedures), kb)
    return facts


def _key(fact: str) -> str:
    return fact.replace(".", "__")


def _expected(row: dict[str, Any], kb: Any) -> tuple[str, dict[str, str], list[str]]:
    from rectoplan.cohort.columns import validate_row
    from rectoplan.core.engine import assess

    a = assess(validate_row(row, kb.vocabulary.drugs, kb.vocabulary.procedures), kb)
    statuses = {}
    for o in a.outcomes:
        if o.status == "offered":
            assert o.setting is not None
            statuses[o.option.id] = f"offered:{o.option.settings.index(o.setting)}"
        elif o.status in ("excluded", "held"):
            statuses[o.option.id] = o.status
        else:
            statuses[o.option.id] = "none"
    return a.intent.id, statuses, sorted({t.test for t in a.tests})


def _conditions(kb: Any) -> tuple[dict[Any, str], list[Any]]:
    """Distinct conditions (intent rules, settings, gates, test rules), named c0, c1, ..."""
    names: dict[Any, str] = {}
    for cond in (
        [r.when for r in kb.intents]
        + [s.when for o in kb.options for s in o.settings]
        + [g.when for o in kb.options for g in o.gates]
        + [t.when for t in kb.test_rules]
    ):
        names.setdefault(cond, f"c{len(names)}")
    return names, list(names)


def _zen_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _zen(cond: Any) -> str:
    """A condition as a zen-engine expression giving 1 (true), 0.5 (unknown) or 0 (false)."""
    from rectoplan.core import conditions as c

    if isinstance(cond, c.Const):
        return "1" if cond.value else "0"
    if isinstance(cond, c.Not):
        return f"(1 - {_zen(cond.item)})"
    if isinstance(cond, (c.All, c.AnyOf)):
        return ("min([" if isinstance(cond, c.All) else "max([") + ", ".join(_zen(i) for i in cond.items) + "])"
    if isinstance(cond, c.Count):
        items = [_zen(i) for i in cond.items]
        t = "sum([" + ", ".join(f"({x} == 1 ? 1 : 0)" for x in items) + "])"
        u = "sum([" + ", ".join(f"({x} == 0.5 ? 1 : 0)" for x in items) + "])"
        op = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[cond.op]
        outcomes = [f"(({t} + {k}) {op} {cond.n})" for k in ("0", u)]
        return (
            f"({outcomes[0]} == {outcomes[1]} ? ({outcomes[0]} ? 1 : 0) : 0.5)"
            if cond.op not in ("eq", "ne")
            else f"({u} == 0 ? ({t} {op} {cond.n} ? 1 : 0) : (({cond.n} >= {t} and {cond.n} <= {t} + {u})"
            f" ? 0.5 : ({'0' if cond.op == 'eq' else '1'})))"
        )
    f, op, v = _key(cond.fact), cond.op, cond.value
    if op == "known":
        return f"({f} != null ? {1 if v else 0} : {0 if v else 1})"
    if op in ("contains", "contains_any", "contains_all"):
        members = [v] if op == "contains" else list(v)
        test = " and " if op == "contains_all" else " or "
        body = test.join(f"{_zen_value(m)} in {f}" for m in members)
    elif op in ("in", "not_in"):
        body = f"{f} in [" + ", ".join(_zen_value(x) for x in v) + "]"
        body = body if op == "in" else f"not ({body})"
    else:
        sym = {"is": "==", "is_not": "!=", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
        body = f"{f} {sym} {_zen_value(v)}"
    return f"({f} == null ? 0.5 : (({body}) ? 1 : 0))"


def zen_graph(kb: Any) -> dict[str, Any]:
    """The knowledge base as a GoRules JDM decision graph: an expression node for the conditions, then one
    decision table (hit policy first) per option, one for the intent and one expression node for tests."""
    names, conds = _conditions(kb)
    nodes: list[dict[str, Any]] = [
        {"id": "in", "type": "inputNode", "name": "case facts", "position": {"x": 0, "y": 0}}
    ]
    nodes.append(
        {
            "id": "conds",
            "type": "expressionNode",
            "name": "conditions",
            "position": {"x": 0, "y": 0},
            "content": {
                "passThrough": True,
                "expressions": [{"id": names[c], "key": names[c], "value": _zen(c)} for c in conds],
            },
        }
    )

    def table(ident: str, field: str, rows: list[tuple[dict[str, str], str]]) -> dict[str, Any]:
        columns = sorted({col for cells, _ in rows for col in cells})
        return {
            "id": ident,
            "type": "decisionTableNode",
            "name": ident,
            "position": {"x": 0, "y": 0},
            "content": {
                "hitPolicy": "first",
                "passThrough": True,
                "inputs": [{"id": col, "name": col, "field": col} for col in columns],
                "outputs": [{"id": "out", "name": field, "field": field}],
                "rules": [
                    {"_id": f"r{i}", **{col: cells.get(col, "") for col in columns}, "out": json.dumps(value)}
                    for i, (cells, value) in enumerate(rows)
                ],
            },
        }

    intent_rows = [({names[r.when]: "== 1"}, r.id) for r in kb.intents[:-1]] + [({}, kb.intents[-1].id)]
    nodes.append(table("intent", "intent", intent_rows))
    for k, o in enumerate(kb.options):
        rows: list[tuple[dict[str, str], str]] = [({names[s.when]: "!= 1" for s in o.settings}, "none")]
        rows += [({names[g.when]: "== 0"}, "none") for g in o.gates if g.effect == "requires"]
        rows += [({names[g.when]: "== 1"}, "excluded") for g in o.gates if g.effect == "excludes"]
        rows += [({names[g.when]: "== 0.5"}, "held") for g in o.gates if g.on_unknown == "hold"]
        rows += [({names[s.when]: "== 1"}, f"offered:{i}") for i, s in enumerate(o.settings)]
        nodes.append(table(f"o{k}", f"status.{o.id}", rows))
    nodes.append(
        {
            "id": "tests",
            "type": "expressionNode",
            "name": "tests",
            "position": {"x": 0, "y": 0},
            "content": {
                "passThrough": True,
                "expressions": [
                    {"id": f"t{i}", "key": f"tests.{t.id}", "value": f"{names[t.when]} == 1"}
                    for i, t in enumerate(kb.test_rules)
                ],
            },
        }
    )
    nodes.append({"id": "out", "type": "outputNode", "name": "result", "position": {"x": 0, "y": 0}})
    chain = [n["id"] for n in nodes]
    pairs = enumerate(itertools.pairwise(chain))
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": a, "targetId": b} for i, (a, b) in pairs]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def _plain(facts: dict[str, Any]) -> dict[str, Any]:
    return {_key(k): sorted(v) if isinstance(v, frozenset) else v for k, v in facts.items()}


def time_zen(rows: list[dict[str, Any]], kb: Any) -> tuple[float, int, int]:
    import zen

    decision = zen.ZenEngine().create_decision(json.dumps(zen_graph(kb)))
    contexts = [_plain(_facts(r, kb)) for r in rows]
    start = time.perf_counter()
    results = [decision.evaluate(c)["result"] for c in contexts]
    seconds = time.perf_counter() - start
    tests_of = {t.id: t.test for t in kb.test_rules}
    agree = 0
    for row, res in zip(rows, results, strict=True):
        intent, statuses, tests = _expected(row, kb)
        got_tests = sorted({tests_of[k] for k, v in res.get("tests", {}).items() if v})
        agree += (res["intent"], res["status"], got_tests) == (intent, statuses, tests)
    return seconds, len(rows), agree


def _rule_text(cond: Any, certainly: bool) -> str:
    """rule-engine text that is true when `cond` is certainly true (or certainly false)."""
    from rectoplan.core import conditions as c

    if isinstance(cond, c.Const):
        return "true" if cond.value == certainly else "false"
    if isinstance(cond, c.Not):
        return _rule_text(cond.item, not certainly)
    if isinstance(cond, (c.All, c.AnyOf)):
        joiner = " and " if isinstance(cond, c.All) == certainly else " or "
        return "(" + joiner.join(_rule_text(i, certainly) for i in cond.items) + ")"
    if isinstance(cond, c.Count):
        t = " + ".join(f"({_rule_text(i, True)} ? 1 : 0)" for i in cond.items)
        f = " + ".join(f"({_rule_text(i, False)} ? 1 : 0)" for i in cond.items)
        n, size = cond.n, len(cond.items)
        hi = f"({size} - ({f}))"  # most that can be true
        op = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[cond.op]
        if cond.op in ("ge", "gt"):
            return f"(({t}) {op} {n})" if certainly else f"(not ({hi} {op} {n}))"
        if cond.op in ("le", "lt"):
            return f"({hi} {op} {n})" if certainly else f"(not (({t}) {op} {n}))"
        exact = f"(({t}) == {n} and {hi} == {n})"
        outside = f"(({t}) > {n} or {hi} < {n})"
        return (exact if cond.op == "eq" else outside) if certainly else (outside if cond.op == "eq" else exact)
    f, op, v = _key(cond.fact), cond.op, cond.value
    if op == "known":
        return f"({f} {'!=' if v == certainly else '=='} null)"
    if op in ("contains", "contains_any", "contains_all"):
        members = [v] if op == "contains" else list(v)
        joiner = " and " if op == "contains_all" else " or "
        body = "(" + joiner.join(f"{_zen_value(m)} in {f}" for m in members) + ")"
    elif op in ("in", "not_in"):
        body = f"({f} in [" + ", ".join(_zen_value(x) for x in v) + "])"
        body = body if op == "in" else f"(not {body})"
    else:
        sym = {"is": "==", "is_not": "!=", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
        body = f"({f} {sym} {_zen_value(v)})"
    return f"({f} != null and {body if certainly else f'not {body}'})"


def time_rule_engine(rows: list[dict[str, Any]], kb: Any) -> tuple[float, int, int]:
    import rule_engine

    _, conds = _conditions(kb)
    context = rule_engine.Context(default_value=None)
    rules = {
        c: (
            rule_engine.Rule(_rule_text(c, True), context=context),
            rule_engine.Rule(_rule_text(c, False), context=context),
        )
        for c in conds
    }
    facts = [{k: tuple(v) if isinstance(v, list) else v for k, v in _plain(_facts(r, kb)).items()} for r in rows]
    start = time.perf_counter()
    outcomes = []
    for thing in facts:
        value = {}
        for cond, (yes, no) in rules.items():
            value[cond] = True if yes.matches(thing) else False if no.matches(thing) else None
        intent = next((r.id for r in kb.intents[:-1] if value[r.when] is True), kb.intents[-1].id)
        statuses = {}
        for o in kb.options:
            setting = next((i for i, s in enumerate(o.settings) if value[s.when] is True), None)
            if setting is None or any(value[g.when] is False for g in o.gates if g.effect == "requires"):
                statuses[o.id] = "none"
            elif any(value[g.when] is True for g in o.gates if g.effect == "excludes"):
                statuses[o.id] = "excluded"
            elif any(value[g.when] is None for g in o.gates if g.on_unknown == "hold"):
                statuses[o.id] = "held"
            else:
                statuses[o.id] = f"offered:{setting}"
        outcomes.append((intent, statuses, sorted({t.test for t in kb.test_rules if value[t.when] is True})))
    seconds = time.perf_counter() - start
    agree = sum(got == _expected(row, kb) for row, got in zip(rows, outcomes, strict=True))
    return seconds, len(rows), agree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="cases for the slow paths (scaled)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "rectoplan-bench")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of the embedded engines (best, median and first are printed)"
    )
    parser.add_argument("--skip-engines", action="store_true", help="skip zen-engine and rule-engine")
    parser.add_argument(
        "--rule-engine-sample", type=int, default=2_000, help="cases for rule-engine (pure Python, several ms per case)"
    )
    parser.add_argument(
        "--shapes",
        default="registry,coverage",
        help="cohorts to time, comma-separated: registry (most fields recorded, common values common) and "
        "coverage (uniform values, a fifth of every field missing: nearly every outcome distinct)",
    )
    args = parser.parse_args(argv)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if not shapes or any(s not in SHAPES for s in shapes):
        parser.error(f"--shapes: expected a comma-separated list of {', '.join(SHAPES)}")
    kb = default_knowledge()
    print(
        f"knowledge {kb.version}: {len(kb.options)} options, "
        f"{sum(len(o.gates) for o in kb.options)} option gates; {os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    for number, shape in enumerate(shapes):
        time_shape(args, kb, shape, slow_engines=number == 0 and not args.skip_engines)
    return 0


def distinct_outcomes(result: Any) -> int:
    """Distinct result rows (every result column but row and id): what the explanations are rendered for."""
    import polars as pl

    from rectoplan.compile.plan import RESULT_COLUMNS

    table = result.results.select(list(RESULT_COLUMNS))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return int(frame.select(pl.all().cast(pl.String)).n_unique())


def time_shape(args: argparse.Namespace, kb: Any, shape: str, slow_engines: bool) -> None:
    parquet, jsonl = generate(args.cases, args.data, shape)
    print(f"\n== {shape} cohort: {args.cases:,} cases ({parquet})")
    results: dict[str, float] = {}
    for engine in ("polars", "duckdb"):
        for path in (parquet, jsonl):
            times, cpu, result = time_engine(path, engine, args.repeat)
            seconds = min(times)
            label = f"{engine:7s} {path.suffix[1:]:8s}"
            results[label] = args.cases / seconds
            steps = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
            spread = (
                f"median {statistics.median(times):.3f} s, first {times[0]:.3f} s of {len(times)} runs; "
                f"CPU median {statistics.median(cpu):.2f} s"
            )
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"{label} {_rate(args.cases, seconds)}   ({spread}; load average {load}) [{steps}]")
            if engine == "polars" and path == parquet:
                print(f"distinct outcomes: {distinct_outcomes(result):,} of {result.evaluated:,} cases")
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
    if slow_engines:
        for name, timer, size in (
            ("zen-engine", time_zen, len(sample)),
            ("rule-engine", time_rule_engine, min(len(sample), args.rule_engine_sample)),
        ):
            try:
                seconds, count, agree = timer(sample[:size], kb)
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


if __name__ == "__main__":
    sys.exit(main())
