"""A new user's first ten minutes (issue 13): the hints the CLI prints run, a base install names the extra
it lacks, and input mistakes get an answer in words (a suggestion for a misspelt value, an OS error as a
sentence, a CDS Hooks request recognised as one).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rectoplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "tests" / "fhir_bundles" / "rectal_recurrent_after_folfox.json"
PATIENT_VIEW = ROOT / "tests" / "fhir_bundles" / "cds_patient_view_request.json"


def rectoplan(*args: str, block: tuple[str, ...] = (), stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter; `block` makes those modules absent, as in a base install."""
    code = (
        "import sys\n"
        f"for name in {list(block)!r}: sys.modules[name] = None\n"
        "from rectoplan.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, input=stdin, cwd=ROOT
    )


def test_the_demo_hint_for_the_full_list_is_a_command_that_runs() -> None:
    brief = rectoplan("demo", "--case", "unresectable-multisite")
    assert brief.returncode == 0, brief.stderr
    hint = re.search(r"(\d+) more options \(full list: ([^)]+)\)", brief.stdout)
    assert hint, brief.stdout[-800:]
    command = shlex.split(hint.group(2))
    assert command[0] == "rectoplan"
    full = rectoplan(*command[1:])
    assert full.returncode == 0, full.stderr
    total = int(re.search(r"OPTIONS to discuss with the care team \((\d+)\)", full.stdout).group(1))  # type: ignore[union-attr]
    shown = re.findall(r"^\s+\d+\. ", full.stdout.split("EXCLUDED")[0].split("FOR THE PATIENT")[0], re.M)
    assert len(shown) == total and "full list:" not in full.stdout


def test_fhir_input_without_the_fhir_extra_names_the_extra() -> None:
    result = rectoplan("recommend", str(BUNDLE), block=("fhir", "fhir.resources"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pip install 'rectoplan[fhir]'" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("block", "extra"),
    [(("pyarrow", "duckdb", "polars", "rich", "numpy"), "cohort"), (("pyspark",), "spark")],
    ids=["cohort", "spark"],
)
def test_cohort_without_its_extra_names_the_extra(tmp_path: Path, block: tuple[str, ...], extra: str) -> None:
    rows = tmp_path / "cases.jsonl"
    rows.write_text(json.dumps({"id": "a", "metastases": [{"site": "liver"}]}) + "\n")
    engine = ["--engine", "spark"] if extra == "spark" else []
    result = rectoplan("cohort", str(rows), "-o", str(tmp_path / "out"), *engine, block=block)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"pip install 'rectoplan[{extra}]'" in result.stderr


@pytest.mark.parametrize(
    ("case", "suggestion"),
    [
        ({"id": "a", "metastases": [{"site": "livr"}]}, "did you mean 'liver'?"),
        ({"id": "a", "metastases": [{"site": "LUNG"}]}, "did you mean 'lung'?"),
        ({"id": "a", "metastases": [{"site": "liver"}], "biomarkers": {"kras": "mutnat"}}, "did you mean 'mutant'?"),
    ],
)
def test_a_misspelt_value_gets_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: dict[str, object], suggestion: str
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    assert main(["recommend", str(path)]) == 2
    err = capsys.readouterr().err
    assert suggestion in err and err.count("\n") == 1


def test_os_errors_are_said_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", str(tmp_path / "missing.json")]) == 2
    assert main(["recommend", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "found no such file;" in err and "found a folder, not a file;" in err
    assert "No such file or directory" not in err and "Is a directory" not in err


def test_a_cds_hooks_request_is_recognised(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", str(PATIENT_VIEW)]) == 2
    err = capsys.readouterr().err
    assert "a CDS Hooks request" in err and "rectoplan serve" in err
    assert "unknown field" not in err and err.count("\n") == 1


def test_kb_verify_reproduce_hint_keeps_the_knowledge_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed "reproduce:" command must replay the counterexample against the same knowledge: without
    `--kb DIR` it runs against the shipped knowledge, where the planted unsafe rule is not."""
    pytest.importorskip("z3")
    import shutil

    root = tmp_path / "my knowledge"  # a space: the hint must quote it
    shutil.copytree(ROOT / "src" / "rectoplan" / "knowledge", root)
    planted = (
        "- id: planted-curative-local\n  intent: curative\n"
        "  when: {fact: local_recurrence.resectability, is: resectable}\n"
        "  because: planted for a test\n  patient: planted for a test\n  cite: [{brief: S-03}]\n"
    )
    text = (root / "intent.yaml").read_text(encoding="utf-8")
    assert "- id: intent-curative" in text
    (root / "intent.yaml").write_text(text.replace("- id: intent-curative", planted + "- id: intent-curative", 1))
    assert main(["kb", "verify", "--kb", str(root), "--out", str(tmp_path / "cases")]) == 1
    hint = re.search(r"reproduce: (.+)", capsys.readouterr().out)
    assert hint
    command = shlex.split(hint.group(1))
    assert command[:2] == ["rectoplan", "recommend"] and command[command.index("--kb") + 1] == str(root)
    assert main([*command[1:], "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == "curative"  # the planted rule, replayed


def test_spark_logging_is_quiet_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    from rectoplan.cohort.spark_run import QUIET_LOG4J2, quiet_conf

    assert quiet_conf(True, tmp_path / "log4j2.properties") == {}  # a terminal keeps Spark's progress bar
    conf = quiet_conf(False, tmp_path / "log4j2.properties")
    assert conf["spark.ui.showConsoleProgress"] == "false"
    assert (tmp_path / "log4j2.properties").as_uri() in conf["spark.driver.extraJavaOptions"]
    assert "appender.stderr.filter.threshold.level = error" in QUIET_LOG4J2


@pytest.mark.spark
def test_cohort_on_spark_writes_no_progress_bars_or_warnings_to_a_pipe(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    rows = tmp_path / "cases.jsonl"
    rows.write_text(json.dumps({"id": "a", "metastases": [{"site": "liver"}]}) + "\n")
    result = rectoplan("cohort", str(rows), "-o", str(tmp_path / "out"), "--engine", "spark")
    assert result.returncode == 0, result.stderr
    assert "[Stage" not in result.stderr and " WARN " not in result.stderr, result.stderr
    assert "default log level" not in result.stderr
