"""Every example of the README and of docs/contracts.md runs: case JSON validates, the Python example
executes, and the `rectoplan` command lines (with their placeholder files replaced by built-in examples)
exit 0. Commands that start a server or need generated data have tests of their own (test_service_docs.py,
test_cohort_docs.py). After a knowledge change, `python -m tests.test_readme_examples` rewrites the printed
example from today's demo output."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.cli import main
from rectoplan.core.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRACTS = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "src" / "rectoplan" / "examples" / "relapse-after-adjuvant.json"
BUNDLE = ROOT / "tests" / "fhir_bundles"
SKIP = ("serve", "cohort")  # tested against a running server / generated data elsewhere


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.DOTALL)


def _bundle() -> Path:
    return BUNDLE / "rectal_stage4_kras_g12c.json"


@pytest.mark.parametrize("block", _blocks(README, "json") + _blocks(CONTRACTS, "json"))
def test_json_case_examples_validate(block: str, kb: KnowledgeBase) -> None:
    data = json.loads(block)
    if "format" not in data:  # a course shown alone: check it inside a case
        data = {"id": "doc", "as_of": "2026-11-20", "metastases": [{"site": "liver"}], "prior": {"courses": [data]}}
    validate_case(data, kb)


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = _blocks(README, "python")
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.strip()


def _commands() -> list[str]:
    lines = [line.strip() for block in _blocks(README, "sh") for line in block.splitlines()]
    return [line for line in lines if ".venv/bin/rectoplan" in line and not any(f" {s} " in f"{line} " for s in SKIP)]


@pytest.mark.parametrize("line", _commands())
def test_command_examples_exit_0(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    command = line.split(" #", 1)[0]
    stdin = None
    if "|" in command:  # `cat case.json | rectoplan recommend -`
        source, command = (part.strip() for part in command.split("|", 1))
        stdin = EXAMPLE.read_text() if "case.json" in source else None
    words = shlex.split(command.split(">", 1)[0])
    args = words[words.index(".venv/bin/rectoplan") + 1 :]
    replace = {"case.json": str(EXAMPLE), "CASE.json": str(EXAMPLE), "bundle.json": str(_bundle())}
    args = [replace.get(a, a) for a in args]
    if stdin is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    assert main(args) == 0, line


def test_the_printed_example_is_what_demo_prints(capsys: pytest.CaptureFixture[str]) -> None:
    shown = _blocks(README, "text")[0].rstrip("\n").removesuffix("...").rstrip("\n").splitlines()
    assert main(["demo", "--case", "unresectable-multisite", "--no-color"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1 : 1 + len(shown)] == shown


if __name__ == "__main__":  # after a knowledge change: python -m tests.test_readme_examples rewrites the block
    import contextlib
    import io

    (block,) = _blocks(README, "text")[:1]
    count = len(block.rstrip("\n").removesuffix("...").rstrip("\n").splitlines())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["demo", "--case", "unresectable-multisite", "--no-color"])
    fresh = "\n".join(out.getvalue().splitlines()[1 : 1 + count]) + "\n...\n"
    (ROOT / "README.md").write_text(README.replace("```text\n" + block, "```text\n" + fresh, 1), encoding="utf-8")
    print(f"rewrote the printed example of {ROOT / 'README.md'} ({count} lines)")
