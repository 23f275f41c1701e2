"""The patient handout: plain words (reading level measured), the warnings a patient must hear, declined
treatments left out, no sentence said twice, a glossary of only the words used, and a tagged PDF."""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import textstat
from pypdf import PdfReader

from rectoplan.adapters.handout import PELVIC_RADIATION, handout_html, handout_pdf
from rectoplan.api import recommend, validate_case
from rectoplan.cli import main
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases
from tests.conftest import BASE_CASE, merge

EXAMPLES = dict(demo_cases())


def prose(html: str) -> str:
    """The text a patient reads, each heading, item and paragraph ending a sentence."""
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    html = re.sub(r"</(li|h1|h2|h3|dt|dd|p|title)>", " .", html)
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r"([.!?:])(\s*\.)+", r"\1", text)


def _handout(case: dict[str, object], kb: KnowledgeBase) -> str:
    valid = validate_case(case, kb)
    return handout_html(recommend(valid, kb, what_if=False), kb, valid)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_reading_level_at_most_grade_8_and_no_sentence_twice(name: str, kb: KnowledgeBase) -> None:
    text = prose(_handout(EXAMPLES[name], kb))
    assert textstat.flesch_kincaid_grade(text) <= 8, name
    sentences = Counter(s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40)
    assert [s for s, n in sentences.items() if n > 1] == []
    assert "Questions to ask your care team" in text and "never replaces" in text


def test_warnings_a_patient_must_hear(kb: KnowledgeBase) -> None:
    msi = prose(_handout(EXAMPLES["msi-high"], kb))
    assert "Lynch syndrome" in msi and "family may want to be tested" in msi
    radiated = prose(_handout(merge(BASE_CASE, {"prior": {"pelvic_radiation": True}}), kb))
    assert PELVIC_RADIATION in radiated
    assert PELVIC_RADIATION not in prose(_handout(BASE_CASE, kb))


def test_declined_trials_are_not_offered(kb: KnowledgeBase) -> None:
    wants = _handout(BASE_CASE, kb)
    declined = _handout(merge(BASE_CASE, {"wants_clinical_trials": False}), kb)
    assert "Clinical trial" in wants and "Clinical trial" not in declined


def test_glossary_has_only_words_used(kb: KnowledgeBase) -> None:
    html = _handout(EXAMPLES["unresectable-multisite"], kb)
    body, _, glossary = html.partition("<h2>Words used</h2>")
    terms = re.findall(r"<dt>(.*?)</dt>", glossary)
    assert terms and all(
        re.search(rf"(?<![\w-]){re.escape(html_lib.unescape(t))}(?![\w-])", prose(body), re.I) for t in terms
    )
    assert "break-after: avoid" in html  # no heading stranded at the foot of a page


def test_handout_has_patient_words_and_no_clinician_internals(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, {"id": "<b>p</b>", "biomarkers": {"her2": None}}), kb)
    html = handout_html(rec, kb)
    assert rec.patient_summary.replace("'", "&#39;") in html
    for option in rec.options:
        assert option.title.replace("'", "&#39;").replace("&", "&amp;") in html
        assert option.setting not in html and not any(r in html for r in option.rationale)
    assert "HER2 testing" in html  # the missing test, by its display name
    assert "<b>p</b>" not in html and "&lt;b&gt;p&lt;/b&gt;" in html


def test_pdf_is_tagged_pdf_ua(kb: KnowledgeBase) -> None:
    valid = validate_case(EXAMPLES["msi-high"], kb)
    data = handout_pdf(recommend(valid, kb, what_if=False), kb, valid)
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root and root["/Lang"] == "en"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()  # PDF/UA identification (XMP)


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
