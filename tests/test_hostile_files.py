"""Output paths under attack: no write ever lands outside the output the user named (issue 14).

A link planted in the output folder, an output folder that is a link, a `handout -o` that is a link, `-`
or an unknown suffix, stale files of an earlier run, an output folder that cannot be written, a write
that fails halfway: each is refused with exit 2 before any work (nothing followed, nothing half-written),
or handled so that the folder holds exactly this run's outputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.adapters.files import OutputError, OutputFolder, write_file
from rectoplan.cli import main
from tests.conftest import BASE_CASE

pytest.importorskip("polars")

CASES = [
    {"id": f"p{i}", "met_liver_count": 1 + i % 4, "met_liver_resectability": "unresectable", "kras": "mutant"}
    for i in range(1, 11)
]


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    path = tmp_path / "cohort.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    return path


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file outside every output, which a link would make rectoplan overwrite."""
    path = tmp_path / "elsewhere" / "precious.txt"
    path.parent.mkdir()
    path.write_text("do not touch\n")
    return path


def staging_left(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".rectoplan-staging-")]


# ------------------------------------------------------------------------------------------------------
# cohort -o OUTDIR


@pytest.mark.parametrize("name", ["report.html", "results.parquet", "compare.parquet"])
def test_cohort_refuses_a_link_in_the_output_folder(
    cohort: Path, victim: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    assert main(["cohort", str(cohort), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        f"{out / name}: found a symbolic link (to {victim})" in captured.err and "never writes through" in captured.err
    )
    assert victim.read_text() == "do not touch\n" and (out / name).is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing written, no staging folder left


def test_cohort_refuses_an_output_folder_that_is_a_link(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    assert main(["cohort", str(cohort), "-o", str(tmp_path / "out")]) == 2
    assert "found a symbolic link" in capsys.readouterr().err
    assert list(target.iterdir()) == []


def test_a_link_planted_during_the_run_is_replaced_never_followed(victim: Path, tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "out", ["report.html", "report.json"])
    staging = folder.prepare()
    (staging / "report.html").write_text("new report")
    (tmp_path / "out" / "report.html").symlink_to(victim)  # after the check, before the move
    (tmp_path / "out" / "report.json").symlink_to(victim)  # an owned name this run did not write
    folder.publish()
    assert victim.read_text() == "do not touch\n"
    assert (tmp_path / "out" / "report.html").read_text() == "new report"
    assert not (tmp_path / "out" / "report.html").is_symlink()
    assert not (tmp_path / "out" / "report.json").exists() and not (tmp_path / "out" / "report.json").is_symlink()
    assert staging_left(tmp_path / "out") == []


def test_stale_outputs_of_an_earlier_run_are_removed_and_other_files_kept(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for stale in ("compare.parquet", "warnings.parquet"):  # from an earlier --compare-kb / FHIR run
        pq.write_table(pa.table({"id": ["old"]}), out / stale)
    (out / "notes.txt").write_text("mine")
    assert main(["cohort", str(cohort), "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "errors.parquet",
        "explanations.parquet",
        "notes.txt",
        "report.html",
        "report.json",
        "results.parquet",
    ]
    assert (out / "notes.txt").read_text() == "mine"


def test_a_spark_results_folder_is_replaced_by_the_embedded_engines_file(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "results.parquet").mkdir(parents=True)  # as an earlier --engine spark run leaves it
    pq.write_table(pa.table({"row": [1]}), out / "results.parquet" / "part-00000.parquet")
    assert main(["cohort", str(cohort), "-o", str(out)]) == 0
    assert (out / "results.parquet").is_file()
    assert pq.read_table(out / "results.parquet").num_rows == len(CASES)


def test_an_unwritable_output_folder_fails_before_any_work(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rectoplan.cohort.run

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the cohort was evaluated before the output folder was checked")

    monkeypatch.setattr(rectoplan.cohort.run, "run_cohort", no_work)
    (tmp_path / "a-file").write_text("")
    assert main(["cohort", str(cohort), "-o", str(tmp_path / "a-file" / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith(f"error: {tmp_path / 'a-file' / 'out'}: found not a directory; expected a folder")
    assert main(["cohort", str(cohort), "-o", str(tmp_path / "a-file")]) == 2
    assert "a-file: found a file; expected a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_fails_before_any_work(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(["cohort", str(cohort), "-o", str(out)]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        out.chmod(0o700)


def test_a_failed_run_leaves_the_output_folder_as_it_was(
    cohort: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert main(["cohort", str(cohort), "-o", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from rectoplan.cohort.report import render_html as real

    def disk_full(*args: Any, **kwargs: Any) -> str:
        real(*args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rectoplan.cohort.output.render_html", disk_full)  # after the other files
    assert main(["cohort", str(cohort), "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert (
        captured.err
        == f"error: {out}: found no space left on device while writing; expected a writable folder with room\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old results intact, nothing mixed in


def test_an_input_error_leaves_no_staging_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["cohort", str(tmp_path / "missing.csv"), "-o", str(out)]) == 2
    assert staging_left(out) == []


# ------------------------------------------------------------------------------------------------------
# handout -o FILE


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(BASE_CASE), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("output", "found"),
    [
        ("-", "--output: found '-'; expected a file name ending in .pdf or .html or .htm"),
        ("handout.txt", "--output: found 'handout.txt' (suffix '.txt'); expected a file name ending in .pdf"),
        ("handout", "--output: found 'handout' (no suffix); expected a file name ending in .pdf"),
    ],
)
def test_handout_output_must_name_a_pdf_or_html_file(
    case_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    output: str,
    found: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["handout", str(case_file), "-o", output]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"error: {found}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]  # no file named '-' or 'handout.txt'


def test_handout_refuses_a_link(
    case_file: Path, victim: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "handout.html"
    out.symlink_to(victim)
    assert main(["handout", str(case_file), "-o", str(out)]) == 2
    assert "found a symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "do not touch\n"


def test_handout_in_a_missing_folder_is_an_input_error(
    case_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["handout", str(case_file), "-o", str(tmp_path / "no" / "h.html")]) == 2
    assert f"error: {tmp_path / 'no'}: found no such folder" in capsys.readouterr().err


def test_handout_replaces_an_existing_file_whole_and_leaves_no_temporary_file(
    case_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "handout.html"
    out.write_text("old")
    assert main(["handout", str(case_file), "-o", str(out)]) == 0
    assert "<html" in out.read_text().lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json", "handout.html"]


def test_write_file_is_whole_or_nothing(tmp_path: Path, victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "h.pdf"
    out.symlink_to(victim)  # planted after any check: replaced, never followed
    write_file(out, b"%PDF new")
    assert victim.read_text() == "do not touch\n" and out.read_bytes() == b"%PDF new" and not out.is_symlink()

    def fail(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutputError, match="no space left on device"):
        write_file(out, b"%PDF newer")
    assert out.read_bytes() == b"%PDF new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "h.pdf"]  # no temporary file left
