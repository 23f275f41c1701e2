"""`--engine spark`: the same compiled plan on PySpark (local mode) gives the same results and error rows.

One Spark session for the module (start-up takes ~15 s); marked `spark` so that a quick run can leave
it out (`-m "not spark"`). Skipped when PySpark or Java is missing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectoplan.core.knowledge import KnowledgeBase
from tests.strategies import cases, examples

pytest.importorskip("pyspark")
pytest.importorskip("polars")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)

from rectoplan.cohort.output import write_outputs
from rectoplan.cohort.run import conform, run_cohort
from tests.test_cohort_equivalence import cohort_rows, write_csv, write_parquet
from tests.test_cohort_validation import MUTATIONS

pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark() -> Any:
    from rectoplan.cohort.spark_run import spark_session

    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


COHORTS = st.lists(cases(flat=True), min_size=1, max_size=30)
BREAKS = st.lists(st.tuples(st.integers(0, 29), st.sampled_from(range(len(MUTATIONS)))), max_size=8)


def _rows(generated: list[dict[str, Any]], breaks: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Generated flat rows, some broken by the cohort validation test's mutations (row, mutation)."""
    rows = cohort_rows(generated)
    for row, mutation in breaks:
        if row < len(rows):
            MUTATIONS[mutation](rows[row])
    return rows


@settings(max_examples=examples(3))
@given(generated=COHORTS, breaks=BREAKS)
def test_spark_matches_the_embedded_engine_with_bad_rows(
    spark: Any, kb: KnowledgeBase, generated: list[dict[str, Any]], breaks: list[tuple[int, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.csv"
        write_csv(_rows(generated, breaks), path)
        on_spark = run_cohort(path, kb, "spark", spark=spark)
        local = run_cohort(path, kb, "polars")
    assert on_spark.results is not None and local.results is not None
    assert on_spark.results.to_pylist() == local.results.to_pylist()
    assert [(e.row, e.id, e.problems) for e in on_spark.errors] == [(e.row, e.id, e.problems) for e in local.errors]
    assert on_spark.evaluated + len(on_spark.errors) == on_spark.records == len(generated)


@settings(max_examples=examples(2))
@given(generated=COHORTS)
def test_spark_writes_the_result_dataset_and_report(
    spark: Any, kb: KnowledgeBase, generated: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cohort.parquet"
        write_parquet(_rows(generated, []), source)
        out = Path(tmp) / "out"
        on_spark = run_cohort(source, kb, "spark", spark=spark, outdir=out)
        write_outputs(on_spark, out, str(source))
        local = run_cohort(source, kb, "polars")
        assert local.results is not None
        stored = conform(pq.read_table(out / "results.parquet").sort_by("row"))
        report = json.loads((out / "report.json").read_text())
    assert stored.to_pylist() == local.results.to_pylist()
    assert report["engine"] == "spark" and report["counts"]["evaluated"] == len(generated)
    assert sum(report["intent"].values()) == len(generated)


def test_spark_makes_a_ragged_csv_row_an_error_row(spark: Any, kb: KnowledgeBase, tmp_path: Path) -> None:
    lines = ["id,met_liver_count,met_liver_resectability", "a,2,resectable", "b,2,resectable,EXTRA", "c,1"]
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n")
    on_spark = run_cohort(tmp_path / "ragged.csv", kb, "spark", spark=spark)
    assert on_spark.records == 3 and on_spark.evaluated == 1
    assert [(e.row, e.problems) for e in on_spark.errors] == [
        (2, ("line 3: found 4 field(s); expected 3, one per header column",)),
        (3, ("line 4: found 2 field(s); expected 3, one per header column",)),
    ]


def test_spark_rejects_an_id_with_a_control_character(spark: Any, kb: KnowledgeBase, tmp_path: Path) -> None:
    rows = [
        {"id": "ok-1", "met_liver_count": 2, "met_liver_resectability": "resectable"},
        {"id": "bad\u001b[2J", "met_liver_count": 2, "met_liver_resectability": "resectable"},
        {"id": "Müller 3", "met_liver_count": 2, "met_liver_resectability": "resectable"},
    ]
    write_parquet(rows, tmp_path / "ids.parquet")
    on_spark = run_cohort(tmp_path / "ids.parquet", kb, "spark", spark=spark)
    local = run_cohort(tmp_path / "ids.parquet", kb, "polars")
    assert on_spark.evaluated == local.evaluated == 2
    assert [(e.row, e.problems) for e in on_spark.errors] == [(e.row, e.problems) for e in local.errors]


def test_spark_leaves_a_line_progressed_during_maintenance_to_the_per_case_engine(
    spark: Any, kb: KnowledgeBase, tmp_path: Path
) -> None:
    """A line's `progressed_on` is beyond the compiled plan: the row is decided by the per-case engine."""
    line = {
        "agents": ["fluorouracil", "leucovorin", "oxaliplatin", "irinotecan", "bevacizumab"],
        "stopped_for": "progression",
        "progressed_on": ["fluorouracil", "bevacizumab"],
    }
    case = {"format": "rectoplan.case/2", "ecog": 1, "metastases": [{"site": "liver", "count": 3}]}
    rows = cohort_rows([{**case, "prior": {"systemic_lines": [line]}}])
    write_parquet(rows, tmp_path / "m.parquet")
    on_spark = run_cohort(tmp_path / "m.parquet", kb, "spark", spark=spark)
    local = run_cohort(tmp_path / "m.parquet", kb, "polars")
    assert on_spark.errors == [] and on_spark.evaluated == 1
    assert conform(on_spark.results).to_pylist() == conform(local.results).to_pylist()
