"""Review 15 F8: a maintenance option offered during a first line's induction told the patient "It would be a
first treatment for the cancer as it is now", after its own text said it is a lighter treatment after the first
months of chemotherapy. Options tagged `maintenance` (options/15_continuation.yaml) say instead that they
continue the first treatment in a lighter form; other first-line options keep their words."""

from __future__ import annotations

import copy
from typing import Any

from rectoplan.api import recommend, validate_case
from rectoplan.core._parts import _MAINTENANCE_WORDS, PHASE_WORDS
from rectoplan.core.knowledge import KnowledgeBase

RUNNING_FIRST_LINE: dict[str, Any] = {  # review 15's x01: 7 months into first-line FOLFOX + bevacizumab
    "format": "rectoplan.case/2",
    "id": "maintenance-words",
    "as_of": "2026-12-01",
    "age": 55,
    "ecog": 0,
    "primary": {"status": "resected", "stoma": False},
    "metastases": [{"site": "liver", "count": 14, "resectability": "unresectable"}],
    "biomarkers": {"kras": "mutant", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"},
    "prior": {
        "courses": [
            {
                "agents": ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"],
                "setting": "advanced",
                "start": "2026-05-01",
                "status": "ongoing",
                "best_response": "partial",
            }
        ]
    },
}


def _patient_words(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, tuple[str, str]]:
    rec = recommend(validate_case(case, kb), kb, what_if=False)
    return {o.id: (o.phase, o.patient_explanation) for o in rec.options}


def test_maintenance_during_a_running_first_line_continues_it(kb: KnowledgeBase) -> None:
    words = _patient_words(RUNNING_FIRST_LINE, kb)
    phase, text = words["maintenance-capecitabine-bevacizumab"]
    assert phase == "first_line"
    assert text.endswith(_MAINTENANCE_WORDS)
    assert PHASE_WORDS["first_line"] not in text


def test_every_maintenance_option_is_tagged_and_other_first_line_options_keep_their_words(kb: KnowledgeBase) -> None:
    tagged = {o.id for o in kb.options if "maintenance" in o.tags}
    assert tagged == {o.id for o in kb.options if o.id.startswith("maintenance-")}
    untreated = copy.deepcopy(RUNNING_FIRST_LINE)
    del untreated["prior"]
    words = _patient_words(untreated, kb)
    first_line = [text for phase, text in words.values() if phase == "first_line"]
    assert first_line and all(text.endswith(PHASE_WORDS["first_line"]) for text in first_line)
    assert not any(_MAINTENANCE_WORDS in text for _, text in words.values())
