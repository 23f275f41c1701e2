"""The compiled cohort plan gives what the per-case engine gives, case by case, on a generated cohort.

For every generated case, the recommendation of `rectoplan.core.engine.recommend(case, kb, what_if=False)`
is the reference: option ids in rank order with their strength and phase, exclusions with their reasons
and rules, held options with theirs, tests needed, the intent and the global warnings. Each embedded engine
(Polars, DuckDB) must reproduce all of it from a Parquet file (native columns) and from a CSV file (text
columns), via the result table and the explanations table. Nothing here names an option: the knowledge
base can grow without touching this test.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases

pytest.importorskip("polars")
pytest.importorskip("duckdb")

from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.explain import explanations
from rectoplan.cohort.readers import arrow_type
from rectoplan.cohort.run import run_cohort
from rectoplan.compile.plan import SEP

N = 4000


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    pq.write_table(
        pa.table({c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}), path
    )


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    names = [c.name for c in COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for r in rows:
            writer.writerow([csv_cell(r.get(n)) for n in names])


def expected_row(data: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    rec = recommend(validate_case(data, kb), kb, what_if=False)
    return {
        "options": [(o.id, o.rank, o.strength, o.phase) for o in rec.options],
        "excluded": [(e.id, list(e.reasons), list(e.rules)) for e in rec.excluded if not e.held],
        "held": [(e.id, list(e.reasons), list(e.rules)) for e in rec.excluded if e.held],
        "tests": [t.test for t in rec.tests_needed],
        "intent": rec.intent,
        "warnings": list(rec.warnings),
    }


def cohort_row(row: dict[str, Any], kb: KnowledgeBase, texts: dict[tuple[str, str], str]) -> dict[str, Any]:
    """The same projection, read only from the cohort outputs (result row + explanations)."""
    settings = {s.id: s for o in kb.options for s in o.settings}
    options = row["options"].split()
    chosen = [settings[s] for s in row["settings"].split()]

    def listed(ids: str, pairs: str, kind: str) -> list[tuple[str, list[str], list[str]]]:
        out = []
        for option in ids.split():
            rules = [p.split(SEP, 1)[1] for p in pairs.split() if p.split(SEP, 1)[0] == option]
            out.append((option, [texts[(kind, f"{option}{SEP}{r}")] for r in rules], rules))
        return out

    warnings = [texts[("caution", c)] for c in row["cautions"].split()]
    warnings += [texts[("caution_unknown", c)] for c in row["cautions_unknown"].split()]
    return {
        "options": [(o, rank, s.strength, s.phase) for rank, (o, s) in enumerate(zip(options, chosen, strict=True), 1)],
        "excluded": listed(row["excluded"], row["exclusions"], "exclusion"),
        "held": listed(row["held"], row["holds"], "hold"),
        "tests": row["tests_needed"].split(),
        "intent": row["intent"],
        "warnings": warnings,
    }


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> dict[str, Any]:
    cases = random_cases(N, seed=2024)
    rows = [flatten_contract(c) for c in cases]
    folder = tmp_path_factory.mktemp("cohort")
    write_parquet(rows, folder / "cases.parquet")
    write_csv(rows, folder / "cases.csv")
    return {"cases": cases, "folder": folder, "expected": [expected_row(c, kb) for c in cases]}


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_compiled_plan_equals_the_per_case_engine(
    cohort: dict[str, Any], kb: KnowledgeBase, engine: str, fmt: str
) -> None:
    result = run_cohort(cohort["folder"] / f"cases.{fmt}", kb, engine)
    assert result.errors == []
    rows = result.results.to_pylist()
    assert [r["row"] for r in rows] == list(range(1, N + 1))
    texts = {(r["kind"], r["id"]): r["text"] for r in explanations(kb).to_pylist()}
    mismatches = []
    for row, case, expected in zip(rows, cohort["cases"], cohort["expected"], strict=True):
        assert row["id"] == case["id"]
        got = cohort_row(row, kb, texts)
        if got != expected:
            mismatches.append((case["id"], {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}))
    assert not mismatches, f"{len(mismatches)} of {N} differ, first: {mismatches[0]}"


def test_the_cohort_exercises_the_knowledge_base(cohort: dict[str, Any], kb: KnowledgeBase) -> None:
    """The comparison above means something only if the cohort reaches most options, exclusions and holds."""
    offered = {o for e in cohort["expected"] for o, *_ in e["options"]}
    excluded = {o for e in cohort["expected"] for o, *_ in e["excluded"]}
    held = {o for e in cohort["expected"] for o, *_ in e["held"]}
    assert len(offered) >= 0.7 * len(kb.options)
    assert excluded and held
    assert len({e["intent"] for e in cohort["expected"]}) >= 2


def test_arrow_list_kernels_equal_the_compiled_list_folds(cohort: dict[str, Any], kb: KnowledgeBase) -> None:
    """Native list columns are read by Arrow kernels by default; the compiled folds must agree exactly."""
    from rectoplan.cohort.readers import read_cohort
    from rectoplan.cohort.run import evaluate_local

    table = read_cohort(cohort["folder"] / "cases.parquet", kb).table
    fast, fast_errors = evaluate_local(table, kb, "polars")
    folds, fold_errors = evaluate_local(table, kb, "polars", fast_lists=False)
    assert fast.to_pylist() == folds.to_pylist()
    assert fast_errors == fold_errors == []
