"""The patient handout: plain-language content only, escaped, and a real PDF that says the same."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from rectoplan.adapters.handout import handout_html
from rectoplan.api import recommend
from rectoplan.cli import main
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge


def test_handout_has_patient_words_and_no_clinician_internals(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, {"id": "<b>p</b>", "biomarkers": {"her2": None}}), kb)
    html = handout_html(rec, kb)
    assert rec.disclaimer in html and rec.patient_summary in html
    for option in rec.options:
        assert option.patient_explanation.replace("'", "&#x27;").replace('"', "&quot;") in html
        assert option.setting not in html  # rule ids are for clinicians
    assert "HER2 testing" in html  # the missing test, by its display name
    assert "<b>p</b>" not in html and "&lt;b&gt;p&lt;/b&gt;" in html


def test_handout_pdf_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE), encoding="utf-8")
    out = tmp_path / "handout.pdf"
    assert main(["handout", str(case), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())
    top = recommend(BASE_CASE, kb).options[0].title
    assert "talk about with your care team" in text and top.split(" ")[0] in text
    assert "never replaces" in text


def test_handout_bad_case_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(merge(BASE_CASE, {"ecog": 8})), encoding="utf-8")
    out = tmp_path / "h.pdf"
    assert main(["handout", str(case), "-o", str(out)]) == 2
    assert not out.exists()
    assert "ecog: found 8" in capsys.readouterr().err
