"""The CLI passes the case to the plan page and the handout: declined trials stay out of the handout,
earlier pelvic radiation is said, and the HTML plan says what was understood."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rectoplan.cli import main

CASE = {
    "format": "rectoplan.case/2",
    "id": "cli-case",
    "primary": {"status": "resected"},
    "metastases": [{"site": "liver", "count": 5, "resectability": "unresectable"}],
    "prior": {"pelvic_radiation": True},
    "wants_clinical_trials": False,
}


def test_handout_and_html_read_the_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE))
    out = tmp_path / "handout.html"
    assert main(["handout", str(path), "-o", str(out)]) == 0
    handout = out.read_text().lower()
    assert "clinical trial" not in handout
    assert "radiation to the pelvis before" in handout
    capsys.readouterr()
    assert main(["recommend", str(path), "--format", "html"]) == 0
    assert "understood" in capsys.readouterr().out.lower()
