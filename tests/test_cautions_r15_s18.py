"""Stop 18, review 15 follow-ups in cautions.yaml (F1, F4, F8).

- F1: the cautions that named only the anti-VEGF antibodies (`anti_vegf`) now reach regorafenib and
  fruquintinib where their own labels say so: proteinuria (fruquintinib; the Stivarga label's proteinuria text
  was not confirmed, so regorafenib gets none), bowel obstruction (perforation: both labels) and a bleeding
  tumour judged not actively bleeding (both labels). Hypertension and arterial thrombosis already had
  drug-specific twins and are not doubled.
- F4: a DPYD poor metaboliser gets one case-level warning (CPIC 2017: avoid fluorouracil and its prodrugs),
  with patient text, so the handout's "Important for you" and the patient-view card carry it.
- F8: the ECOG 2 de-escalation advice is first-line only; MOUNTAINEER's figures are those of the cited paper.

Each trigger test fails on the knowledge before this change (8d6eddc): 6 fail there, the 5 non-trigger tests pass.
"""

from __future__ import annotations

from typing import Any

from rectoplan.adapters.handout import handout_view
from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.service.cards import cards_for
from tests._kb_cases import (
    RARE_RISKS_ABSENT,
    known_health,
    known_panel,
    merged_case,
    options_by_id,
    progressed_course,
    review13_case,
)

FRUQ_PROTEINURIA = "Significant proteinuria: the fruquintinib label lists proteinuria"
REGO_OBSTRUCTION = "gastrointestinal perforation or fistula is a warning of the regorafenib label"
FRUQ_OBSTRUCTION = "gastrointestinal perforation was a serious adverse reaction in 2.0% of patients on fruquintinib"
TKI_BLEEDING = "Fruquintinib can cause serious, sometimes fatal bleeding, and the regorafenib and fruquintinib labels"
DPYD_POOR = "DPYD poor metaboliser (complete or near-complete DPD deficiency): risk of severe or even fatal"
DPYD_PATIENT = "A gene test shows that your body cannot break down the cancer drugs fluorouracil (5-FU)"
ECOG_TWO = "ECOG 2: prefer de-intensified treatment"

BASE: dict[str, Any] = review13_case(
    "r15-s18-cautions",
    63,
    biomarkers=known_panel(kras="mutant"),
    health=known_health(400, **RARE_RISKS_ABSENT),
)
# Review 15's l01/m08: third line after FOLFOX-bevacizumab and FOLFIRI-bevacizumab.
THIRD_LINE: dict[str, Any] = {
    "courses": [
        progressed_course(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "2025-06-20", "2026-02-10"),
        progressed_course(["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"], "2026-02-25", "2026-11-10"),
    ]
}


def _case(**changes: Any) -> dict[str, Any]:
    return merged_case(BASE, **changes)


def _third_line(**changes: Any) -> dict[str, Any]:
    return _case(prior=THIRD_LINE, **changes)


def _texts(option: dict[str, Any]) -> str:
    return " ".join(c["text"] for c in option["cautions"])


# --- F1: the VEGFR tyrosine-kinase inhibitors -------------------------------------------------------------------


def test_proteinuria_excludes_fruquintinib_at_third_line(kb: KnowledgeBase) -> None:
    """Stop 19 (review 16 F2): the Fruzaqla label withholds it at 2 g/24 h or more: excluded, no longer warned."""
    options = options_by_id(_third_line(health={"proteinuria": True}), kb)
    assert "fruquintinib" not in options
    assert "regorafenib" in options  # the Stivarga label's proteinuria wording was not found


def test_no_proteinuria_no_fruquintinib_warning(kb: KnowledgeBase) -> None:
    options = options_by_id(_third_line(health={"proteinuria": False}), kb)
    assert FRUQ_PROTEINURIA not in _texts(options["fruquintinib"])


def test_obstruction_warns_on_both_inhibitors_with_their_own_labels(kb: KnowledgeBase) -> None:
    case = _third_line(primary={"status": "in_place", "stoma": False, "symptoms": ["obstruction"]})
    options = options_by_id(case, kb)
    assert REGO_OBSTRUCTION in _texts(options["regorafenib"])
    assert FRUQ_OBSTRUCTION in _texts(options["fruquintinib"])
    assert FRUQ_OBSTRUCTION not in _texts(options["regorafenib"])


def test_obstruction_relieved_by_a_stoma_or_absent_gives_no_inhibitor_warning(kb: KnowledgeBase) -> None:
    for primary in (
        {"status": "in_place", "stoma": True, "symptoms": ["obstruction"]},
        {"status": "in_place", "stoma": False, "symptoms": []},
    ):
        options = options_by_id(_third_line(primary=primary), kb)
        for oid in ("regorafenib", "fruquintinib"):
            text = _texts(options[oid])
            assert REGO_OBSTRUCTION not in text and FRUQ_OBSTRUCTION not in text, (primary, oid)


def test_bleeding_tumour_judged_minor_warns_on_both_inhibitors(kb: KnowledgeBase) -> None:
    case = _third_line(
        health={"bleeding_risk": False},
        local_recurrence={"resectability": "unresectable", "symptoms": ["bleeding"]},
    )
    options = options_by_id(case, kb)
    for oid in ("regorafenib", "fruquintinib"):
        assert TKI_BLEEDING in _texts(options[oid]), oid
    # no doubling on the antibody, which has its own bevacizumab-label warning
    assert TKI_BLEEDING not in _texts(options["trifluridine-tipiracil-bevacizumab"])


def test_no_bleeding_tumour_no_inhibitor_bleeding_warning(kb: KnowledgeBase) -> None:
    options = options_by_id(_third_line(health={"bleeding_risk": False}), kb)
    for oid in ("regorafenib", "fruquintinib"):
        assert TKI_BLEEDING not in _texts(options[oid]), oid


def test_hypertension_and_thrombosis_are_not_doubled_on_the_inhibitors(kb: KnowledgeBase) -> None:
    """The drug-specific twins speak; the bevacizumab-label cautions still reach only the antibodies."""
    options = options_by_id(_third_line(health={"recent_arterial_thrombosis": True}), kb)
    text = _texts(options["regorafenib"])
    assert "The bevacizumab label" not in text
    assert "regorafenib blocks the VEGF receptors" in text


# --- F4: DPYD poor metaboliser ----------------------------------------------------------------------------------


def test_dpyd_poor_is_a_case_warning_in_the_handout_and_on_the_card(kb: KnowledgeBase) -> None:
    case = _case(health={"dpyd": "poor"})
    rec = recommend(case, kb)
    out = rec.to_dict()
    (caution,) = (c for c in out["case_cautions"] if c["text"].startswith(DPYD_POOR))
    assert caution["severity"] == "warning"
    assert any(s["id"] == "cpic-dpyd" and "Avoid use of 5-fluorouracil" in s["quote"] for s in caution["sources"])
    assert any(DPYD_PATIENT in w for w in handout_view(rec, kb, case)["warnings"])
    cards = cards_for(rec, {"label": "rectoplan"})
    assert any(c["indicator"] == "warning" and c["summary"].startswith("DPYD poor metaboliser") for c in cards)


def test_dpyd_intermediate_or_normal_gives_no_poor_warning(kb: KnowledgeBase) -> None:
    for dpyd in ("intermediate", "normal"):
        out = recommend(_case(health={"dpyd": dpyd}), kb).to_dict()
        assert not any(c["text"].startswith(DPYD_POOR) for c in out["case_cautions"]), dpyd


# --- F8: wording ------------------------------------------------------------------------------------------------


def test_ecog_two_de_escalation_only_in_first_line(kb: KnowledgeBase) -> None:
    later = recommend(_third_line(ecog=2), kb).to_dict()
    assert not any(w.startswith(ECOG_TWO) for w in later["warnings"])
    first = recommend(_case(ecog=2), kb).to_dict()
    assert any(w.startswith(ECOG_TWO) for w in first["warnings"])


def test_mountaineer_figures_are_the_cited_papers(kb: KnowledgeBase) -> None:
    (option,) = (o for o in kb.options if o.id == "tucatinib-trastuzumab")
    because = " ".join(s.because for s in option.settings)
    assert "response 38%, survival 24.1 months" in because
    assert "39%" not in because


HER2_NOTE = "HER2-positive, RAS wild-type: tucatinib + trastuzumab is approved for this tumour once it has progressed"
AFTER_FOLFOX_BEV: dict[str, Any] = {
    "courses": [
        progressed_course(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "2025-06-20", "2026-02-10")
    ]
}


def _case_notes(case: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    return [c["text"] for c in recommend(case, kb).to_dict()["case_cautions"]]


def test_her2_positive_second_line_names_the_her2_regimen_for_later(kb: KnowledgeBase) -> None:
    case = _case(biomarkers=known_panel(her2_result="ihc3"), prior=AFTER_FOLFOX_BEV)
    (note,) = (c for c in recommend(case, kb).to_dict()["case_cautions"] if c["text"].startswith(HER2_NOTE))
    assert note["severity"] == "note"
    assert {s["id"] for s in note["sources"]} >= {"fda-tucatinib-crc"}


def test_her2_note_silent_first_line_after_three_drugs_ras_mutant_or_her2_negative(kb: KnowledgeBase) -> None:
    her2 = known_panel(her2_result="ihc3")
    for case in (
        _case(biomarkers=her2),  # first line
        _case(biomarkers=her2, prior=THIRD_LINE),  # after all three: the option itself is listed
        _case(biomarkers=known_panel(her2_result="ihc3", kras="mutant"), prior=AFTER_FOLFOX_BEV),
        _case(biomarkers=known_panel(her2_result="ihc0_1"), prior=AFTER_FOLFOX_BEV),
    ):
        assert not any(t.startswith(HER2_NOTE) for t in _case_notes(case, kb)), case["biomarkers"]
