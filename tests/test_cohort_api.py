"""The Python API of cohort mode, `rectoplan.cohort.run_cohort`: what it returns, what it writes, its
errors, and its public surface (`__all__`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import rectoplan.cohort  # noqa: E402
from rectoplan.adapters.files import OutputError  # noqa: E402
from rectoplan.cohort import CohortRun, run_cohort  # noqa: E402
from rectoplan.cohort.columns import flatten_contract  # noqa: E402
from rectoplan.cohort.readers import InputError  # noqa: E402
from rectoplan.kb.loader import default_knowledge  # noqa: E402
from rectoplan.synthetic import random_cases  # noqa: E402
from tests.test_cohort_equivalence import write_csv  # noqa: E402
from tests.test_cohort_validation import MUTATIONS  # noqa: E402

CASES = 120


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [flatten_contract(c) for c in random_cases(CASES, seed=16)]
    for i in range(0, 30, 3):
        MUTATIONS[i](rows[i])
    path = tmp_path_factory.mktemp("api") / "cohort.csv"
    write_csv(rows, path)
    return path


def test_the_public_surface_is_declared_and_documented() -> None:
    assert rectoplan.cohort.__all__ == ["ENGINES", "CohortRun", "run_cohort"]
    for name in rectoplan.cohort.__all__:
        assert hasattr(rectoplan.cohort, name)
    assert run_cohort.__doc__ and "docs/cohort.md" in run_cohort.__doc__
    assert rectoplan.cohort.ENGINES == ("polars", "duckdb", "spark", "python")


def test_without_an_output_folder_it_evaluates_in_memory_and_writes_nothing(cohort_csv: Path) -> None:
    before = sorted(cohort_csv.parent.iterdir())
    run = run_cohort(cohort_csv)
    assert isinstance(run, CohortRun) and run.output is None
    assert sorted(cohort_csv.parent.iterdir()) == before
    assert run.results is not None and run.errors
    assert run.records == CASES == run.evaluated + len(run.errors)
    rows = run.results.column("row").to_pylist() + [e.row for e in run.errors]
    assert sorted(rows) == list(range(1, CASES + 1))
    assert run.report["counts"]["records"] == CASES and run.report["counts"]["errors"] == len(run.errors)


def test_with_an_output_folder_it_writes_what_the_cli_writes(cohort_csv: Path, tmp_path: Path) -> None:
    from rectoplan.cli import main

    run = run_cohort(cohort_csv, tmp_path / "api", engine="duckdb", kb=default_knowledge())
    assert main(["cohort", str(cohort_csv), "-o", str(tmp_path / "cli"), "--engine", "duckdb"]) == 0
    assert run.output == tmp_path / "api"
    for name in ("results.parquet", "errors.parquet", "explanations.parquet"):
        assert pq.read_table(tmp_path / "api" / name).equals(pq.read_table(tmp_path / "cli" / name)), name
    written = json.loads((tmp_path / "api" / "report.json").read_text())
    assert written == json.loads(json.dumps(run.report))
    assert pq.read_table(tmp_path / "api" / "results.parquet").to_pylist() == run.results.to_pylist()  # type: ignore[union-attr]
    assert not [p for p in (tmp_path / "api").iterdir() if p.name.startswith(".rectoplan-staging")]


def test_the_engines_agree_through_the_api(cohort_csv: Path) -> None:
    polars, python = run_cohort(cohort_csv), run_cohort(cohort_csv, engine="python")
    assert polars.results is not None and python.results is not None
    assert polars.results.to_pylist() == python.results.to_pylist()
    assert [(e.row, e.problems) for e in polars.errors] == [(e.row, e.problems) for e in python.errors]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [({"engine": "pandas"}, "engine"), ({"compare_kb": "HEAD"}, "compare_kb")],
)
def test_bad_arguments_are_input_errors_that_name_the_argument(
    cohort_csv: Path, kwargs: dict[str, Any], path: str
) -> None:
    with pytest.raises(InputError) as caught:
        run_cohort(cohort_csv, **kwargs)
    (problem,) = caught.value.problems
    assert problem.path == path


def test_an_unreadable_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        run_cohort(tmp_path / "missing.parquet")
    (tmp_path / "cohort.xlsx").write_text("")
    with pytest.raises(InputError, match="xlsx"):
        run_cohort(tmp_path / "cohort.xlsx", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unwritable_output_folder_fails_before_any_work(
    cohort_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rectoplan.cohort.run

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the cohort was evaluated before the output folder was checked")

    monkeypatch.setattr(rectoplan.cohort.run, "run_cohort", no_work)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutputError):
        run_cohort(cohort_csv, tmp_path / "a-file" / "out")
