"""The text a tumour board reads names primary references, never internal provenance or rule ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rectoplan.adapters.render_text import render_text
from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "src" / "rectoplan" / "examples").glob("*.json"))
JARGON = re.compile(r"\bbrief [SCQG]-\d|\bbrief §|\bseed [AB]\b|Facts used|\(priority \d|\[[a-z0-9]+(-[a-z0-9]+)+\]")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_text_output_has_no_developer_words(path: Path, kb: KnowledgeBase) -> None:
    rec = recommend(validate_case(json.loads(path.read_text()), kb), kb)
    text = render_text(rec, kb, color=False)
    found = JARGON.findall(text)
    assert not JARGON.search(text), (path.stem, found[:3])


def test_cohort_explanations_and_why_not_name_primary_references(kb: KnowledgeBase) -> None:
    pytest.importorskip("pyarrow")
    from rectoplan.cohort.explain import explanations
    from rectoplan.verify.why_not import explain as why_not_explain

    sources = [s for row in explanations(kb).to_pylist() for s in row["sources"] or []]
    assert sources and not any(JARGON.search(s) or s.startswith("brief") for s in sources)
    example = json.loads(EXAMPLES[0].read_text())
    from rectoplan.core.engine import assess

    assessment = assess(validate_case(example, kb), kb)
    for outcome in assessment.outcomes:
        for rule in why_not_explain(assessment, outcome.option.id).rules:
            assert all(not s["label"].startswith("brief") for s in rule.sources)


def test_trace_shows_rule_ids_only_when_asked(kb: KnowledgeBase) -> None:
    rec = recommend(validate_case(json.loads(EXAMPLES[0].read_text()), kb), kb)
    assert "trace: row " not in render_text(rec, kb, color=False)
    traced = render_text(rec, kb, color=False, trace=True)
    assert f"trace: row {rec.options[0].setting}" in traced
