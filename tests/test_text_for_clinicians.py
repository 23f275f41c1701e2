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
