"""Without the 'verify' extra, `kb verify` and `why-not` (with its search) name the extra to install and exit
2, with nothing on stdout; `why-not --no-search` and the Python API without a search need no z3."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import rectoplan
from rectoplan.cli import main
from tests.conftest import BASE_CASE


@pytest.fixture
def no_z3(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "z3" or m.startswith("z3.") or m == "rectoplan.verify.prove"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "z3", None)  # `import z3` raises ModuleNotFoundError


@pytest.mark.usefixtures("no_z3")
@pytest.mark.parametrize("args", [["kb", "verify"], ["why-not", "CASE", "pembrolizumab"]])
def test_missing_extra_is_named(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE))
    assert main([str(case) if a == "CASE" else a for a in args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "pip install 'rectoplan[verify]'" in captured.err


@pytest.mark.usefixtures("no_z3")
def test_no_search_needs_no_z3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE))
    assert main(["why-not", str(case), "pembrolizumab", "--no-search"]) == 0
    assert capsys.readouterr().out.startswith("Why not Pembrolizumab")
    assert rectoplan.why_not_offered(BASE_CASE, "pembrolizumab", search=False).changes is None
