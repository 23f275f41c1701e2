"""Stop 19 (review 16, F6, c04): liver ablation is not offered with the words "liver-only" beside a pelvic
recurrence.

c04 had a resectable pelvic recurrence after a low anterior resection with total mesorectal excision and
7 unresectable liver metastases. Radiofrequency ablation, microwave ablation and cryotherapy were offered
"consider" with the reason "Liver-only metastases that cannot be removed with surgery ...", although the
disease is not liver-only. The unresectable rows of options/80_local_therapy.yaml now also need no recorded
local recurrence (COLLISION and its ablatability consensus cover liver-only metastases); liver-only
unresectable metastases still get them, with a primary in place or after its resection.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.adapters.render_text import render_text
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import adjuvant_capox, after_lar_tme, review16_case, review16_health, with_sections
from tests.test_knowledge_review3 import offered, rec

ABLATION = ("radiofrequency-ablation", "microwave-ablation", "cryotherapy")
LIVER_ONLY_WORDS = "Liver-only metastases that"

# Review 16's c04, as written by the reviewer.
C04: dict[str, Any] = review16_case(
    "c04-lr-resectable-plus-unres-liver",
    metastases=[{"site": "liver", "count": 7, "resectability": "unresectable"}],
    prior=after_lar_tme([adjuvant_capox("2025-01-10", "2025-06-01")]),
    health=review16_health(days_since_major_surgery=400),
    local_recurrence={"resectability": "resectable", "symptoms": ["pain"]},
)


def c04(**changes: Any) -> dict[str, Any]:
    return with_sections(C04, **changes)


def test_no_liver_ablation_beside_a_pelvic_recurrence(kb: KnowledgeBase) -> None:
    r = rec(c04(), kb)
    assert r.intent == "palliative"
    assert not set(ABLATION) & set(offered(r))
    assert LIVER_ONLY_WORDS not in render_text(r, kb, color=False)


@pytest.mark.parametrize("resectability", ["unresectable", "potentially_resectable"])
def test_no_liver_ablation_beside_any_pelvic_recurrence(resectability: str, kb: KnowledgeBase) -> None:
    r = rec(c04(local_recurrence={"resectability": resectability, "symptoms": ["pain"]}), kb)
    assert not set(ABLATION) & set(offered(r))


def test_liver_only_unresectable_metastases_keep_ablation(kb: KnowledgeBase) -> None:
    r = rec(c04(local_recurrence=None), kb)
    got = offered(r)
    for option_id in ABLATION:
        assert got[option_id].setting == f"{option_id}-unresectable"
        assert got[option_id].strength == "consider"
    assert LIVER_ONLY_WORDS in render_text(r, kb, color=False)


def test_liver_only_unresectable_metastases_with_the_primary_in_place_keep_ablation(kb: KnowledgeBase) -> None:
    untreated = {"pelvic_radiation": False, "surgeries": [], "courses": []}
    r = rec(c04(local_recurrence=None, primary={"status": "in_place", "stoma": False}, prior=untreated), kb)
    assert offered(r)["radiofrequency-ablation"].setting == "radiofrequency-ablation-unresectable"


# --- local excision for symptoms (review 16, F6, second part) --------------------------------------------
def test_no_palliative_local_excision_for_a_recurrence_after_tme(kb: KnowledgeBase) -> None:
    r = rec(c04(), kb)
    assert "local-excision" not in offered(r)
    assert "Pain or bleeding from a tumour in the pelvis" not in render_text(r, kb, color=False)
    assert "palliative-radiation" in offered(r)


def test_palliative_local_excision_for_a_symptomatic_primary_in_place(kb: KnowledgeBase) -> None:
    untreated = {"pelvic_radiation": False, "surgeries": [], "courses": []}
    primary = {"status": "in_place", "stoma": False, "symptoms": ["bleeding"]}
    r = rec(c04(local_recurrence=None, primary=primary, prior=untreated), kb)
    assert offered(r)["local-excision"].setting == "local-excision-symptoms"
