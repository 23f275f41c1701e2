"""Stop 17 (S2), review 14 finding 5: an untreated bowel obstruction in a plan that aims at cure.

The case note "relieve the obstruction first" (`bowel-obstruction-relief-first`) held only in palliative and
conversion plans, so a curative synchronous plan (primary in place and obstructed, resectable liver
metastases) led with liver resection and pre-operative FOLFOX and said nothing of the obstruction. Its curative
twin (`bowel-obstruction-relief-first-curative`) is a warning: relief (a stoma, or a stent as a bridge to
surgery, ESGE 2020) comes before any pre-operative treatment.
"""

from __future__ import annotations

from typing import Any

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import RARE_RISKS_ABSENT, known_health, known_panel, replaced_case, review14_case

CURATIVE_TWIN = "Bowel obstruction in a plan that aims at cure"
PALLIATIVE_NOTE = "Bowel obstruction: relieving it (a stent or a stoma) comes first"

# Review 14's i01: primary in place 10 cm from the anal verge, obstructed, 3 resectable liver metastases.
I01: dict[str, Any] = review14_case(
    "s17-s2-obstruction",
    primary={
        "status": "in_place",
        "distance_from_anal_verge_cm": 10,
        "resectability": "resectable",
        "stoma": False,
        "symptoms": ["obstruction"],
    },
    metastases=[{"site": "liver", "count": 3, "resectability": "resectable", "largest_mm": 30}],
    biomarkers=known_panel(),
    health=known_health(400, **RARE_RISKS_ABSENT, autoimmune_disease=False),
)


def _case(**changes: Any) -> dict[str, Any]:
    return replaced_case(I01, **changes)


def _cautions(case: dict[str, Any], kb: KnowledgeBase) -> tuple[str, list[dict[str, Any]]]:
    result = recommend(case, kb).to_dict()
    return result["intent"], result["case_cautions"]


def test_curative_plan_with_obstruction_warns_to_relieve_it_first(kb: KnowledgeBase) -> None:
    intent, cautions = _cautions(_case(), kb)
    assert intent == "curative"
    (twin,) = (c for c in cautions if c["text"].startswith(CURATIVE_TWIN))
    assert twin["severity"] == "warning"
    assert "before any pre-operative treatment" in twin["text"] and "bridge to surgery" in twin["text"]
    assert {s["id"] for s in twin["sources"]} == {"esge-stent-2020", "campto-smpc"}
    assert not any(c["text"].startswith(PALLIATIVE_NOTE) for c in cautions)  # one obstruction caution, not two


def test_no_curative_obstruction_warning_once_a_stoma_is_made(kb: KnowledgeBase) -> None:
    intent, cautions = _cautions(_case(primary__stoma=True), kb)
    assert intent == "curative"
    assert not any(c["text"].startswith(CURATIVE_TWIN) for c in cautions)


def test_no_curative_obstruction_warning_without_obstruction(kb: KnowledgeBase) -> None:
    intent, cautions = _cautions(_case(primary__symptoms=["pain"]), kb)
    assert intent == "curative"
    assert not any(c["text"].startswith(CURATIVE_TWIN) for c in cautions)


def test_palliative_plan_keeps_its_own_note_only(kb: KnowledgeBase) -> None:
    unresectable = [{"site": "liver", "count": 15, "resectability": "unresectable", "largest_mm": 30}]
    intent, cautions = _cautions(_case(metastases=unresectable), kb)
    assert intent == "palliative"
    (note,) = (c for c in cautions if c["text"].startswith(PALLIATIVE_NOTE))
    assert note["severity"] == "note"
    assert not any(c["text"].startswith(CURATIVE_TWIN) for c in cautions)
