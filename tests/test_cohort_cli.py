"""`rectoplan cohort` end to end: outputs, counts, the report (HTML numbers = JSON numbers), input errors."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from rectoplan.cli import main
from rectoplan.synthetic import random_cases

pytest.importorskip("polars")

from rectoplan.cohort.columns import flatten_contract
from tests.test_cohort_equivalence import write_csv
from tests.test_cohort_validation import MUTATIONS


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [flatten_contract(c) for c in random_cases(300, seed=41)]
    for i in range(0, 60, 3):
        MUTATIONS[i](rows[i])
    path = tmp_path_factory.mktemp("cli") / "cohort.csv"
    write_csv(rows, path)
    return path


@pytest.fixture(scope="module")
def run_outputs(small_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("out")
    code = main(["cohort", str(small_csv), "-o", str(out)])
    return {"code": code, "out": out}


def test_writes_results_errors_explanations_and_report(
    run_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_outputs["out"]
    assert run_outputs["code"] == 0
    results = pq.read_table(out / "results.parquet")
    errors = pq.read_table(out / "errors.parquet")
    assert results.num_rows + errors.num_rows == 300
    assert errors.num_rows > 0 and errors.column_names == ["row", "id", "message", "problems"]
    assert sorted(results.column("row").to_pylist() + errors.column("row").to_pylist()) == list(range(1, 301))
    assert pq.read_table(out / "explanations.parquet").num_rows > 0
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["records"] == 300 and report["counts"]["errors"] == errors.num_rows


def _counts_from_results(results: Any, column: str) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for text in results.column(column).to_pylist():
        counts.update(text.split())
    return counts


def test_report_numbers_match_the_result_table_and_the_html(run_outputs: dict[str, Any]) -> None:
    out = run_outputs["out"]
    report = json.loads((out / "report.json").read_text())
    results = pq.read_table(out / "results.parquet")
    assert report["tests_needed"] == dict(_counts_from_results(results, "tests_needed"))
    offered = _counts_from_results(results, "options")
    assert {o: v["offered"] for o, v in report["options"].items() if v["offered"]} == dict(offered)
    assert sum(report["intent"].values()) == results.num_rows
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    drawn: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for chart, label, count in re.findall(r"data-chart='([^']+)' data-label='([^']*)' data-count='(\d+)'", html):
        drawn[chart][label] = int(count)
    assert drawn["intent"] == report["intent"]
    assert drawn["tests_needed"] == dict(list(report["tests_needed"].items())[:40])
    assert drawn["offered"] == dict(
        list({o: n for o, n in sorted(offered.items(), key=lambda kv: (-kv[1], kv[0]))}.items())[:40]
    )
    assert drawn["errors_by_field"] == dict(list(report["errors_by_field"].items())[:40])


def test_input_errors_exit_2_with_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cohort", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no such file" in captured.err
    (tmp_path / "typo.csv").write_text("id,agee,met_liver_count\na,60,2\n")
    assert main(["cohort", str(tmp_path / "typo.csv"), "-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "'agee'" in captured.err and "did you mean 'age'" in captured.err
    (tmp_path / "cases.xlsx").write_text("")
    assert main(["cohort", str(tmp_path / "cases.xlsx"), "-o", str(tmp_path / "out")]) == 2
    assert ".csv" in capsys.readouterr().err


def test_unknown_columns_can_be_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "extra.csv").write_text("id,registry_code,met_liver_count,age\na,X1,2,60\nb,X2,0,61\n")
    assert main(["cohort", str(tmp_path / "extra.csv"), "-o", str(tmp_path / "out"), "--ignore-unknown-columns"]) == 0
    captured = capsys.readouterr()
    assert "2 records, 1 evaluated, 1 rejected" in captured.out
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    errors = pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()
    assert errors[0]["row"] == 2 and errors[0]["message"].startswith("met_liver_count: found 0")


def test_every_row_bad_still_writes_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.csv").write_text("id,age\na,60\nb,\n")  # neither has metastases or a recurrence
    assert main(["cohort", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "out"), "--engine", "duckdb"]) == 0
    assert pq.read_table(tmp_path / "out" / "results.parquet").num_rows == 0
    assert pq.read_table(tmp_path / "out" / "errors.parquet").num_rows == 2


def test_reference_engine_from_the_command_line(
    small_csv: Path, run_outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cohort", str(small_csv), "-o", str(tmp_path), "--engine", "python"]) == 0
    reference = pq.read_table(tmp_path / "results.parquet").to_pylist()
    assert reference == pq.read_table(run_outputs["out"] / "results.parquet").to_pylist()


@pytest.mark.parametrize("engine", ["polars", "duckdb", "python"])
def test_a_csv_row_with_the_wrong_number_of_fields_is_an_error_row(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "id,met_liver_count,met_liver_resectability,age",
        "a,2,resectable,60",
        "b,2,resectable,61,EXTRA",  # one field too many: never silently truncated
        "c,3,unresectable,62",
        "d,2",  # too few: never silently padded with unknowns
        "e,1,resectable,63",
    ]
    (tmp_path / "ragged.csv").write_text("\n".join(lines) + "\n")
    assert main(["cohort", str(tmp_path / "ragged.csv"), "-o", str(tmp_path / "out"), "--engine", engine]) == 0
    assert "5 records, 3 evaluated, 2 rejected" in capsys.readouterr().out
    results = pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    assert [(r["row"], r["id"]) for r in results] == [(1, "a"), (3, "c"), (5, "e")]
    errors = pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()
    assert [(e["row"], e["message"]) for e in errors] == [
        (2, "line 3: found 5 field(s); expected 4, one per header column"),
        (4, "line 5: found 2 field(s); expected 4, one per header column"),
    ]
    assert [e["id"] for e in errors] == ["b", "d"]  # the id of a broken line is kept when it can be read


def test_a_corrupt_parquet_file_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    assert main(["cohort", str(tmp_path / "broken.parquet"), "-o", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "found an unreadable Parquet file" in captured.err and "expected a Parquet file" in captured.err


def test_a_deeply_nested_json_line_is_an_error_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['{"id": "a", "met_liver_count": 2, "met_liver_resectability": "resectable"}', "[" * 5000 + "]" * 5000]
    (tmp_path / "deep.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["cohort", str(tmp_path / "deep.jsonl"), "-o", str(tmp_path / "out")]) == 0
    assert "2 records, 1 evaluated, 1 rejected" in capsys.readouterr().out
    (error,) = pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()
    assert error["row"] == 2 and error["message"].startswith("line 2: found invalid JSON (maximum recursion depth")


@pytest.mark.parametrize("engine", ["polars", "duckdb", "python"])
def test_an_id_with_a_control_character_is_an_error_row(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"id": "ok-1", "met_liver_count": 2, "met_liver_resectability": "resectable"},
        {"id": "bad\u001b[2J", "met_liver_count": 2, "met_liver_resectability": "resectable"},
        {"id": "Müller 3", "met_liver_count": 2, "met_liver_resectability": "resectable"},
    ]
    (tmp_path / "ids.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["cohort", str(tmp_path / "ids.jsonl"), "-o", str(tmp_path / "out"), "--engine", engine]) == 0
    assert "3 records, 2 evaluated, 1 rejected" in capsys.readouterr().out
    (error,) = pq.read_table(tmp_path / "out" / "errors.parquet").to_pylist()
    assert error["row"] == 2 and "without control characters" in error["message"]
    assert [r["id"] for r in pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()] == ["ok-1", "Müller 3"]
