"""The command line of contract 3: outputs, exit codes, and errors that never reach stdout."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from rectoplan.cli import main
from rectoplan.examples import demo_cases
from tests.conftest import BASE_CASE, merge


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: Any, name: str = "case.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_recommend_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["recommend", write(tmp_path, BASE_CASE)], capsys)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["format"] == "rectoplan.recommendation/1" and data["case_id"] == "base"
    assert [o["rank"] for o in data["options"]] == list(range(1, len(data["options"]) + 1))
    assert all(o["sources"] for o in data["options"]) and all(e["sources"] for e in data["excluded"])


def test_recommend_text_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, merge(BASE_CASE, {"id": "<script>alert(1)</script>"}))
    code, text, _ = run(["recommend", path, "--format", "text", "--no-color"], capsys)
    assert code == 0
    assert "OPTIONS to discuss with the care team" in text and "why:" in text and "FOR THE PATIENT" in text
    assert "\033[" not in text
    code, html, _ = run(["recommend", path, "--format", "html"], capsys)
    assert code == 0 and html.startswith("<!doctype html>")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_recommend_reads_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(["recommend", "-"], capsys, json.dumps(BASE_CASE), monkeypatch)
    assert code == 0 and json.loads(out)["case_id"] == "base"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("{not json", "error: line 1 column 2: found unexpected character, expected a string key"),
        (merge(BASE_CASE, {"ecog": 9}), "error: ecog: found 9; expected a number <= 4"),
        (
            merge(BASE_CASE, {"biomarkers": {"kras": "wild_type", "kras_variant": "G12C"}}),
            "error: biomarkers.kras_variant: found 'G12C' while biomarkers.kras is 'wild_type'",
        ),
        (merge(BASE_CASE, {"colour": "red"}), "error: colour: found unknown field 'colour'"),
        ({"resourceType": "Patient", "id": "p"}, "error: resourceType: found 'Patient'; expected 'Bundle'"),
    ],
)
def test_input_errors_exit_2_with_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: Any, expected: str
) -> None:
    code, out, err = run(["recommend", write(tmp_path, payload)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(expected), err


def test_every_problem_gets_its_own_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["recommend", write(tmp_path, merge(BASE_CASE, {"ecog": 9, "age": 3}))], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 2 and err.splitlines()[0].startswith("error: age") is not err.splitlines()[1].startswith(
        "error: age"
    )


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["recommend", "/nonexistent/case.json"], capsys)
    assert code == 2 and out == "" and "found no such file;" in err


def test_demo_runs_every_example_with_fitting_top_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["demo", "--no-color"], capsys)
    assert code == 0
    names = [name for name, _ in demo_cases()]
    assert len(names) >= 8
    for i, name in enumerate(names, start=1):
        assert f"#### Example {i}/{len(names)}: {name}" in out
    assert out.count("rectoplan lists options to discuss with your care team") == len(names)


def test_demo_examples_reach_their_biomarker_options(capsys: pytest.CaptureFixture[str]) -> None:
    """Each biomarker example's first option is the biomarker-directed one the brief's section 3 prefers."""
    expectations = {
        "msi-high": {"pembrolizumab", "nivolumab"},
        "braf-v600e": {"encorafenib"},
        "her2-positive": {"tucatinib", "trastuzumab"},
        "kras-g12c": {"sotorasib", "adagrasib"},
    }
    from rectoplan.api import recommend

    for name, case in demo_cases():
        if name in expectations:
            rec = recommend(case)
            assert set(rec.options[0].components) & expectations[name], (name, rec.options[0].id)


def test_unknown_demo_case(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo", "--case", "nope"], capsys)
    assert code == 2 and out == "" and "expected one of local-recurrence" in err


def test_kb_lint_command(capsys: pytest.CaptureFixture[str], shared_dir: Path) -> None:
    code, out, err = run(
        [
            "kb",
            "lint",
            "--seeds",
            str(shared_dir / "seeds"),
            "--brief",
            str(shared_dir / "knowledge" / "brief.md"),
            "--samples",
            "3000",
        ],
        capsys,
    )
    assert code == 0, err
    assert out.startswith("knowledge lint: ok") and "seed quotes and brief entries checked" in out


def test_a_missing_knowledge_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-kb"
    code, out, err = run(["kb", "lint", "--kb", str(missing)], capsys)
    assert code == 1
    assert out == "knowledge lint: 1 problem(s); the knowledge base could not be loaded\n"
    assert err == f"error: {missing}: found no such folder; expected a knowledge folder (manifest.yaml, ...)\n"
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE))
    code, out, err = run(["recommend", "--kb", str(missing), str(case)], capsys)
    assert (code, out) == (2, "") and "found no such folder" in err


def test_fhir_resources_not_read_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("fhir.resources")
    bundle = json.loads((Path(__file__).parent / "fhir_bundles" / "rectal_stage4_kras_g12c.json").read_text())
    extra = [{"resource": {"resourceType": "Encounter", "id": f"enc-{i}", "status": "finished"}} for i in range(12)]
    bundle["entry"] += extra
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    code, out, _ = run(["recommend", str(path)], capsys)
    assert code == 0
    not_read = json.loads(out)["input"]["not_read"]
    assert {f"Encounter/enc-{i}" for i in range(12)} <= set(not_read)
    assert not_read["Encounter/enc-0"] == "resource type Encounter is not read by rectoplan"
    code, out, _ = run(["recommend", "--format", "text", "--no-color", str(path)], capsys)
    shown = [line for line in out.splitlines() if "not read: " in line]
    assert len(shown) == 8 and f"and {len(not_read) - 8} more resources" in out
