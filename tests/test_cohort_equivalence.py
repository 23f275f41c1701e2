"""The compiled cohort plan gives what the per-case engine gives, case by case, on generated cohorts.

Cohorts are lists of cases from `tests/strategies.py` (only what a flat row can carry); how much of the
knowledge base those cases reach is counted in `tests/test_safety_properties.py`.

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
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from tests.strategies import cases, examples

pytest.importorskip("polars")
pytest.importorskip("duckdb")

from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.explain import explanations
from rectoplan.cohort.readers import arrow_type
from rectoplan.cohort.run import run_cohort
from rectoplan.compile.plan import SEP


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


def cohort_rows(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Generated cases as flat rows (unique ids; courses as the JSON text of their column)."""
    rows = []
    for i, case in enumerate(cases):
        row = flatten_contract({**case, "id": f"g{i}"})
        if "prior_courses" in row:
            row["prior_courses"] = json.dumps(row["prior_courses"])
        rows.append(row)
    return rows


COHORTS = st.lists(cases(flat=True), min_size=1, max_size=30)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_compiled_plan_equals_the_per_case_engine(kb: KnowledgeBase, engine: str) -> None:
    texts = {(r["kind"], r["id"]): r["text"] for r in explanations(kb).to_pylist()}

    @settings(max_examples=examples(3))
    @given(COHORTS)
    def check(generated: list[dict[str, Any]]) -> None:
        rows = cohort_rows(generated)
        expected = [expected_row({**c, "id": f"g{i}"}, kb) for i, c in enumerate(generated)]
        with tempfile.TemporaryDirectory() as tmp:
            write_parquet(rows, Path(tmp) / "cases.parquet")
            write_csv(rows, Path(tmp) / "cases.csv")
            for fmt in ("parquet", "csv"):
                result = run_cohort(Path(tmp) / f"cases.{fmt}", kb, engine)
                assert result.errors == [] and result.results is not None
                got = result.results.to_pylist()
                assert [r["row"] for r in got] == list(range(1, len(rows) + 1))
                for i, (row, case, want) in enumerate(zip(got, generated, expected, strict=True)):
                    assert row["id"] == f"g{i}"
                    seen = cohort_row(row, kb, texts)
                    assert seen == want, (fmt, case, {k: (seen[k], want[k]) for k in seen if seen[k] != want[k]})

    check()


@settings(max_examples=examples(3))
@given(COHORTS)
def test_arrow_list_kernels_equal_the_compiled_list_folds(kb: KnowledgeBase, generated: list[dict[str, Any]]) -> None:
    """Native list columns are read by Arrow kernels by default; the compiled folds must agree exactly."""
    from rectoplan.cohort.readers import read_cohort
    from rectoplan.cohort.run import evaluate_local

    with tempfile.TemporaryDirectory() as tmp:
        write_parquet(cohort_rows(generated), Path(tmp) / "cases.parquet")
        table = read_cohort(Path(tmp) / "cases.parquet", kb).table
    fast, fast_errors = evaluate_local(table, kb, "polars")
    folds, fold_errors = evaluate_local(table, kb, "polars", fast_lists=False)
    assert fast.to_pylist() == folds.to_pylist()
    assert fast_errors == fold_errors == []


def test_a_her2_test_result_gives_the_her2_status_in_the_cohort(kb: KnowledgeBase) -> None:
    """Found by the generated cohorts: with only `her2_result` (contract 2), the per-case engine knew HER2
    while the compiled plan still asked for the HER2 test (fixed in 383708e; kept as a regression test)."""
    case = {"format": "rectoplan.case/2", "id": "h", "metastases": [{"site": "liver"}]}
    generated = [{**case, "biomarkers": {"her2_result": r}} for r in ("ihc3", "ihc0_1")]
    with tempfile.TemporaryDirectory() as tmp:
        write_parquet(cohort_rows(generated), Path(tmp) / "cases.parquet")
        result = run_cohort(Path(tmp) / "cases.parquet", kb, "polars")
    assert result.results is not None
    texts = {(r["kind"], r["id"]): r["text"] for r in explanations(kb).to_pylist()}
    for i, row in enumerate(result.results.to_pylist()):
        assert cohort_row(row, kb, texts)["tests"] == expected_row({**generated[i], "id": f"g{i}"}, kb)["tests"]
