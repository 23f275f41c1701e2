"""Stop 18's knowledge changes: each one's trigger and non-trigger, in the output a clinician reads.

- Review 14 (F6): a dMMR/MSI-H tumour in a plan aimed at cure (resectable metastases) got perioperative FOLFOX and
  CAPOX "preferred" with no word of the MMR status. Each systemic option of such a plan now carries a warning:
  checkpoint inhibitors are highly active in dMMR/MSI-H metastatic disease (KEYNOTE-177), the pembrolizumab label
  covers unresectable or metastatic disease, no randomised perioperative immunotherapy trial is cited, so the
  question goes to the tumour board or a trial. No curative immunotherapy row is added (no source for one).
- Stop 17 left fluorouracil + leucovorin + bevacizumab without a duration note; the bevacizumab label's posology
  (continue until progression or unacceptable toxicity) now gives bevacizumab's, and only bevacizumab's.
- The arterial thromboembolism warning on anti-VEGF options reads as the bevacizumab label does (history of it
  raises the risk; caution; stop permanently if one occurs), for clinicians and patients.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.adapters.handout import handout_view
from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import (
    RARE_RISKS_ABSENT,
    known_health,
    known_panel,
    merged_case,
    options_by_id,
    recorded_health,
    review13_case,
    review14_case,
    unresectable_liver_and_lung,
)

DMMR_CURATIVE = "dMMR/MSI-H tumour, treatment aimed at cure"

# Review 14's case bad/p-sync-dmmr-resectable-liver.json: rectal primary in place, dMMR/MSI-H, germline Lynch
# negative, 3 resectable liver metastases (largest 30 mm), fit, no treatment yet.
RESECTABLE_DMMR: dict[str, Any] = review14_case(
    "s18-dmmr-resectable-liver",
    primary={
        "status": "in_place",
        "distance_from_anal_verge_cm": 8,
        "mri_t": "T3",
        "mri_n": "N1",
        "crm_involved": False,
        "emvi": True,
        "resectability": "resectable",
        "stoma": False,
        "symptoms": [],
    },
    metastases=[{"site": "liver", "count": 3, "resectability": "resectable", "largest_mm": 30}],
    biomarkers=known_panel(mmr="dmmr_msi_h", germline_lynch="negative"),
    health=recorded_health(),
)


def _dmmr_warnings(option: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in option["cautions"] if c["text"].startswith(DMMR_CURATIVE)]


# --- review 14, F6: dMMR/MSI-H in a curative plan ----------------------------------------------------------------


def test_perioperative_chemotherapy_of_a_curative_dmmr_plan_names_the_immunotherapy_question(kb: KnowledgeBase) -> None:
    result = recommend(RESECTABLE_DMMR, kb).to_dict()
    assert result["intent"] == "curative"
    options = {o["id"]: o for o in result["options"]}
    for oid in ("folfox", "capox"):
        (warning,) = _dmmr_warnings(options[oid])
        assert warning["severity"] == "warning"
        assert {"keynote-177", "fda-pembrolizumab-crc"} <= {s["id"] for s in warning["sources"]}
        assert "unresectable or metastatic" in warning["text"] and "tumour board" in warning["text"]
        assert "16.5 vs 8.2 months" in warning["text"]
    # a warning, not a recommendation: no immunotherapy option appears in the curative plan
    assert not [o for o in result["options"] if o["id"] in ("pembrolizumab", "nivolumab-ipilimumab", "nivolumab")]
    # the local treatments carry no such warning (it is about the choice of systemic treatment)
    assert _dmmr_warnings(options["liver-resection"]) == []


def test_keynote_177_is_cited_with_its_confirmed_identifiers(kb: KnowledgeBase) -> None:
    source = kb.sources["keynote-177"]
    assert dict(source.identifiers) == {"doi": "10.1056/NEJMoa2017699", "nct": "NCT02563002"}
    assert source.url == "https://doi.org/10.1056/NEJMoa2017699"


def test_the_patient_handout_explains_the_dmmr_question(kb: KnowledgeBase) -> None:
    view = handout_view(recommend(RESECTABLE_DMMR, kb), kb)
    assert "dMMR/MSI-H" in str(view) and "tumour board" in str(view)


@pytest.mark.parametrize(
    ("label", "changes"),
    [
        ("pMMR/MSS tumour", {"biomarkers": {"mmr": "pmmr_mss"}}),
        ("MMR not recorded", {"biomarkers": {"mmr": None}}),
    ],
)
def test_no_dmmr_warning_without_a_recorded_dmmr_result(kb: KnowledgeBase, label: str, changes: dict[str, Any]) -> None:
    case = merged_case(RESECTABLE_DMMR, **changes)
    if case["biomarkers"]["mmr"] is None:
        del case["biomarkers"]["mmr"]
    result = recommend(case, kb).to_dict()
    assert result["intent"] == "curative", label
    options = {o["id"]: o for o in result["options"]}
    assert "folfox" in options, label
    assert all(_dmmr_warnings(o) == [] for o in result["options"]), label


def test_no_dmmr_warning_in_a_palliative_plan_where_immunotherapy_is_listed(kb: KnowledgeBase) -> None:
    """Unresectable dMMR/MSI-H disease: pembrolizumab is an option of its own, so the chemotherapy rows need no
    pointer to it (non-trigger)."""
    case = merged_case(RESECTABLE_DMMR, metastases=unresectable_liver_and_lung())
    result = recommend(case, kb).to_dict()
    assert result["intent"] != "curative"
    assert "pembrolizumab" in {o["id"] for o in result["options"]}
    assert all(_dmmr_warnings(o) == [] for o in result["options"])


# --- stop 17's missing duration: fluorouracil + leucovorin + bevacizumab -----------------------------------------
FRAIL_FIRST_LINE: dict[str, Any] = review13_case(
    "s18-frail-first-line",
    84,
    ecog=2,
    biomarkers=known_panel(kras="mutant"),
    health=known_health(700, **RARE_RISKS_ABSENT, fit_for_intensive_therapy=False, creatinine_clearance=45),
)
BEVACIZUMAB_LABEL_DURATION = "Bevacizumab is continued until the cancer progresses"


def _duration_notes(option: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in option["cautions"] if c["text"].startswith(BEVACIZUMAB_LABEL_DURATION)]


def test_fluorouracil_leucovorin_bevacizumab_gets_the_bevacizumab_labels_duration(kb: KnowledgeBase) -> None:
    options = options_by_id(FRAIL_FIRST_LINE, kb)
    (note,) = _duration_notes(options["fluorouracil-leucovorin-bevacizumab"])
    assert note["severity"] == "note"
    (source,) = note["sources"]
    assert source["id"] == "avastin-smpc-posology"
    assert "until progression of the underlying disease or until unacceptable toxicity" in source["quote"]
    # it claims nothing for the chemotherapy part
    assert "no source seen gives a duration for the fluorouracil and leucovorin" in note["text"]


def test_the_bevacizumab_label_duration_is_on_no_other_regimen(kb: KnowledgeBase) -> None:
    """Other bevacizumab regimens have their own trial's note (AVEX) or the induction-maintenance note."""
    options = options_by_id(FRAIL_FIRST_LINE, kb)
    assert "capecitabine-bevacizumab" in options
    for oid, option in options.items():
        if oid != "fluorouracil-leucovorin-bevacizumab":
            assert _duration_notes(option) == [], oid


def test_fluorouracil_leucovorin_alone_still_has_no_duration_note(kb: KnowledgeBase) -> None:
    """Without bevacizumab the regimen has no source for its duration: no note, and no borrowed label (non-trigger)."""
    options = options_by_id(FRAIL_FIRST_LINE, kb)
    cautions = options["fluorouracil-leucovorin"]["cautions"]
    assert not [c for c in cautions if "until" in c["text"] and "progress" in c["text"]]


# --- the arterial thromboembolism warning, as the bevacizumab label reads ----------------------------------------
ARTERIAL = "Arterial thromboembolism (stroke or myocardial infarction) in the last 6 months."


def _arterial(option: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in option["cautions"] if c["text"].startswith(ARTERIAL)]


def test_arterial_thrombosis_warning_reads_as_the_bevacizumab_label(kb: KnowledgeBase) -> None:
    case = merged_case(
        FRAIL_FIRST_LINE, ecog=1, age=70, health={"fit_for_intensive_therapy": True, "recent_arterial_thrombosis": True}
    )
    options = options_by_id(case, kb)
    (warning,) = _arterial(options["folfox-bevacizumab"])
    text = warning["text"]
    assert "history of arterial thromboembolism, diabetes or age over 65 increases that risk" in text
    assert "stopped permanently if one occurs" in text
    quotes = [s.get("quote", "") for s in warning["sources"] if s["id"] == "avastin-smpc"]
    assert any("permanently discontinued" in q for q in quotes)
    patient = str(handout_view(recommend(case, kb), kb))
    assert "stopped for good" in patient


def test_no_arterial_thrombosis_warning_without_a_recent_event(kb: KnowledgeBase) -> None:
    case = merged_case(FRAIL_FIRST_LINE, ecog=1, age=70, health={"fit_for_intensive_therapy": True})
    options = options_by_id(case, kb)
    assert _arterial(options["folfox-bevacizumab"]) == []
