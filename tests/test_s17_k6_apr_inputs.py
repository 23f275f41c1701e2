"""Stop 17 (K6): an abdominoperineal resection (APR) with the primary 'in place' or with 'no stoma' is a
contradictory record, refused with the same precise problem (field, found, expected) by the case JSON
validator and by every cohort engine.

An APR removes the rectum and the anus and leaves a permanent end colostomy (the knowledge base's source
statpearls-apr). Stop 16 wrote the JSON check and left it out because the cohort's column-wise row checks
(`compile/case_columns.Normalizer`) could not read an operation from the list stage: the same row would have
been an error in JSON and a result in a cohort. Here the row checks read the APR bit of the list stage's
`prior.surgeries` words (which the Arrow list stage of native lists writes too), so such a row goes to the
Python validator and comes out as an error row. Consistent records (a resected primary, a stoma, either
unrecorded) still pass, and the generators never draw the contradiction.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import write_rows

APR = "abdominoperineal_resection"
BASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "k6-apr",
    "age": 61,
    "ecog": 1,
    "primary": {"status": "resected", "stoma": True},
    "metastases": [{"site": "liver", "count": 1, "resectability": "resectable"}],
    "biomarkers": {"kras": "mutant", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"},
    "prior": {"pelvic_radiation": True, "surgeries": [APR, "total_mesorectal_excision"]},
    "health": {"fit_for_intensive_therapy": True, "days_since_major_surgery": 400},
}
STATUS_FOUND = f"'in_place' while prior.surgeries lists {APR!r}"
STOMA_FOUND = f"false while prior.surgeries lists {APR!r}"

# (status, stoma, surgeries) -> the problem paths expected ([] = valid)
RECORDS: list[tuple[str | None, bool | None, list[str], list[str]]] = [
    ("in_place", True, [APR], ["primary.status"]),
    ("in_place", None, [APR, "total_mesorectal_excision"], ["primary.status"]),
    ("resected", False, [APR], ["primary.stoma"]),
    (None, False, ["total_mesorectal_excision", APR], ["primary.stoma"]),
    ("in_place", False, [APR], ["primary.status", "primary.stoma"]),
    # consistent: a resected (or unrecorded) primary, a stoma (or none recorded), or no APR at all
    ("resected", True, [APR], []),
    ("resected", None, [APR], []),
    (None, None, [APR], []),
    (None, True, [APR], []),
    ("in_place", False, ["low_anterior_resection"], []),
    ("in_place", False, [], []),
    ("resected", False, ["low_anterior_resection", "total_mesorectal_excision"], []),
]


def record(status: str | None, stoma: bool | None, surgeries: list[str], ident: str = "k6-apr") -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    out["id"] = ident
    out["primary"] = {k: v for k, v in (("status", status), ("stoma", stoma)) if v is not None}
    out["prior"]["surgeries"] = list(surgeries)
    return out


def problems_of(data: dict[str, Any], kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    try:
        validate_case(data, kb)
    except CaseError as exc:
        return [(p.path, p.found, p.expected) for p in exc.problems]
    return []


# --- the case JSON ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "stoma", "surgeries", "paths"), RECORDS)
def test_json_refuses_exactly_the_contradictory_records(
    status: str | None, stoma: bool | None, surgeries: list[str], paths: list[str], kb: KnowledgeBase
) -> None:
    problems = problems_of(record(status, stoma, surgeries), kb)
    assert [p[0] for p in problems] == paths


def test_json_problems_say_field_found_and_expected(kb: KnowledgeBase) -> None:
    (status, stoma) = problems_of(record("in_place", False, [APR]), kb)
    assert status[:2] == ("primary.status", STATUS_FOUND)
    assert "'resected'" in status[2] and "removes the rectal primary" in status[2]
    assert stoma[:2] == ("primary.stoma", STOMA_FOUND)
    assert "true or absent" in stoma[2] and "permanent colostomy" in stoma[2]


def test_contract_1_record_with_primary_in_place_after_apr_is_refused(kb: KnowledgeBase) -> None:
    data = record("in_place", None, [APR])
    data["format"] = "rectoplan.case/1"
    assert [p[0] for p in problems_of(data, kb)] == ["primary.status"]


# --- the cohort: every engine refuses the same rows with the same words -----------------------------------
def _rows() -> list[dict[str, Any]]:
    from rectoplan.cohort.columns import flatten_contract

    return [flatten_contract(record(s, m, g, f"r{i}")) for i, (s, m, g, _) in enumerate(RECORDS)]


def _write(rows: list[dict[str, Any]], folder: Path, fmt: str) -> Path:
    return write_rows(rows, folder / f"rows.{fmt}", ("prior_surgeries",))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cohort_engines_refuse_the_same_rows_as_json(fmt: str, kb: KnowledgeBase, tmp_path: Path) -> None:
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    from rectoplan import run_cohort

    path = _write(_rows(), tmp_path, fmt)
    expected_errors = {i + 1: paths for i, (*_, paths) in enumerate(RECORDS) if paths}
    outcomes = {}
    for engine in ("python", "polars", "duckdb"):
        run = run_cohort(path, engine=engine, kb=kb)
        assert run.records == len(RECORDS)
        errors = {e.row: e.problems for e in run.errors}
        assert {row: [p.split(":", 1)[0] for p in problems] for row, problems in errors.items()} == {
            row: [p.replace(".", "_") for p in paths] for row, paths in expected_errors.items()
        }, engine
        assert run.results is not None
        evaluated = run.results.to_pylist()
        assert [r["row"] for r in evaluated] == [i + 1 for i, (*_, paths) in enumerate(RECORDS) if not paths]
        outcomes[engine] = (errors, evaluated)
    assert outcomes["polars"] == outcomes["python"] == outcomes["duckdb"]
    # the cohort's words are the validator's, with the columns named (in its words too: review 14, F13)
    (expected,) = [p[2] for p in problems_of(record("in_place", True, [APR]), kb)]
    message = f"primary_status: found {STATUS_FOUND}; expected {expected}"
    for path in ("prior.surgeries", "primary.status"):
        message = message.replace(path, path.replace(".", "_"))
    assert outcomes["polars"][0][1] == (message,)


@pytest.mark.spark
def test_spark_refuses_the_same_rows(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Spark (local mode; marked `spark`, as tests/test_cohort_spark.py) gives the embedded engines' rows."""
    pytest.importorskip("pyspark")
    from rectoplan.cohort.run import run_cohort
    from rectoplan.cohort.spark_run import spark_session

    path = _write(_rows(), tmp_path, "csv")
    on_spark = run_cohort(path, kb, "spark", spark=spark_session("local[2]"))
    local = run_cohort(path, kb, "polars")
    assert on_spark.results is not None and local.results is not None
    assert on_spark.results.to_pylist() == local.results.to_pylist()
    assert [(e.row, e.problems) for e in on_spark.errors] == [(e.row, e.problems) for e in local.errors]
    assert sorted(e.row for e in on_spark.errors) == [i + 1 for i, (*_, paths) in enumerate(RECORDS) if paths]


def test_column_wise_checks_leave_only_the_contradictory_rows_to_python(kb: KnowledgeBase) -> None:
    """`_clean` is false exactly for the contradictory rows (the consistent APR rows stay column-wise)."""
    pl = pytest.importorskip("polars")
    from rectoplan.compile.case_columns import RawType
    from rectoplan.compile.plan import input_stages
    from rectoplan.compile.polars_expr import stage_exprs

    rows = _rows()
    names = sorted({k for r in rows for k in r})
    cells = {n: [None if r.get(n) is None else _cell(r[n]) for r in rows] for n in names}
    frame = pl.DataFrame(cells, schema=dict.fromkeys(names, pl.String))
    for stage in input_stages(kb, {n: RawType("text") for n in names}):
        frame = frame.with_columns(stage_exprs(stage))
    assert frame["_clean"].to_list() == [not paths for *_, paths in RECORDS]


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, list) else str(value)
