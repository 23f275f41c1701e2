"""Findings of the third clinical review (stop 12), each with a test that triggers the fix and one that
does not: liver transplantation after progression, the best response of a line with maintenance,
FOLFOXIRI + bevacizumab re-introduction, and the patient handout's safety notes."""

from __future__ import annotations

import copy
import re
from typing import Any

from rectoplan.adapters.handout import SAFETY_UNSAID, handout_view, option_safety
from rectoplan.api import recommend, validate_case
from rectoplan.core.engine import assess
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation
from rectoplan.verify import why_not_offered
from tests._kb_cases import known_health

FOLFOXIRI_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "irinotecan", "bevacizumab"]
HEALTH = known_health(400, recent_arterial_thrombosis=False, organ_transplant=False)
# Unresectable liver-only metastases after a resected primary, within TRANSMET's other criteria.
LIVER_ONLY: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "review3",
    "as_of": "2026-11-20",
    "advanced_disease_date": "2024-01-01",
    "age": 60,
    "ecog": 1,
    "primary": {"status": "resected"},
    "metastases": [{"site": "liver", "count": 6, "resectability": "unresectable", "largest_mm": 40}],
    "biomarkers": {
        "kras": "mutant",
        "kras_variant": "p.G12D",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2_result": "ihc0_1",
    },
    "prior": {"pelvic_radiation": False, "surgeries": ["low_anterior_resection"], "courses": []},
    "health": HEALTH,
    "wants_clinical_trials": True,
}


def course(agents: list[str], start: str, end: str | None = None, **more: Any) -> dict[str, Any]:
    status = more.pop("status", "ongoing" if end is None else "stopped")
    return {
        "agents": agents,
        "setting": "advanced",
        "start": start,
        "status": status,
        **({"end": end} if end else {}),
        **more,
    }


def with_courses(*courses: dict[str, Any], **health: Any) -> dict[str, Any]:
    case = copy.deepcopy(LIVER_ONLY)
    case["prior"]["courses"] = list(courses)
    case["health"] = {**HEALTH, **health}
    return case


def rec(case: dict[str, Any], kb: KnowledgeBase) -> Recommendation:
    return recommend(validate_case(case, kb), kb, what_if=False)


def offered(r: Recommendation) -> dict[str, OptionResult]:
    return {o.id: o for o in r.options}


def excluded(r: Recommendation) -> dict[str, tuple[str, ...]]:
    return {e.id: e.reasons for e in r.excluded}


FIRST_PROGRESSED = course(
    [*FOLFOXIRI_BEV[:3], "bevacizumab"], "2024-01-15", "2024-10-01", stopped_for="progression", best_response="partial"
)
FOLFIRI_BEV = ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"]
# FOLFOX + bevacizumab, then FOLFIRI + bevacizumab, each stopped for progression: a later line.
LATER_LINE = (
    FIRST_PROGRESSED,
    course(FOLFIRI_BEV, "2024-10-15", "2026-11-01", stopped_for="progression", best_response="stable"),
)


# --- F2: liver transplantation is never offered right after progression on chemotherapy ---------------------


def test_transplant_excluded_when_the_last_line_progressed(kb: KnowledgeBase) -> None:
    r = rec(with_courses(*LATER_LINE), kb)
    assert "liver-transplantation" not in offered(r)
    assert any("progressed on chemotherapy" in reason for reason in excluded(r)["liver-transplantation"])


def test_transplant_kept_when_a_running_line_controls_the_disease_after_progression(kb: KnowledgeBase) -> None:
    second = course(FOLFIRI_BEV, "2024-10-15", best_response="partial")
    r = rec(with_courses(FIRST_PROGRESSED, second), kb)
    assert "liver-transplantation" in offered(r)


def test_transplant_kept_without_any_progression(kb: KnowledgeBase) -> None:
    first = course(FOLFOXIRI_BEV, "2025-10-15", best_response="partial")
    assert "liver-transplantation" in offered(rec(with_courses(first), kb))


# --- F8: a line's best response spans its induction and its maintenance ------------------------------------


def maintenance_progression(maintenance_response: str | None) -> dict[str, Any]:
    induction = course(FOLFOXIRI_BEV, "2025-10-15", "2026-03-15", status="completed", best_response="partial")
    maintenance = {
        "agents": ["capecitabine", "bevacizumab"],
        "setting": "maintenance",
        "start": "2026-03-20",
        "end": "2026-11-10",
        "status": "stopped",
        "stopped_for": "progression",
        **({"best_response": maintenance_response} if maintenance_response else {}),
    }
    case = with_courses(induction, maintenance)
    case["advanced_disease_date"] = "2025-10-01"
    return case


def test_maintenance_recorded_stable_keeps_the_induction_response(kb: KnowledgeBase) -> None:
    facts = assess(validate_case(maintenance_progression("stable"), kb), kb).facts
    assert facts["prior.last_response"] == "partial"
    r = rec(maintenance_progression("stable"), kb)
    assert r.options[0].id == "folfoxiri-bevacizumab" and r.options[0].strength == "preferred"


def test_a_better_maintenance_response_counts(kb: KnowledgeBase) -> None:
    facts = assess(validate_case(maintenance_progression("complete"), kb), kb).facts
    assert facts["prior.last_response"] == "complete"


def test_a_new_line_without_a_response_leaves_it_unknown(kb: KnowledgeBase) -> None:
    second = course(FOLFIRI_BEV, "2024-10-15")
    facts = assess(validate_case(with_courses(FIRST_PROGRESSED, second), kb), kb).facts
    assert facts["prior.last_response"] is None  # not the first line's partial response


def test_no_reintroduction_without_a_first_line_response(kb: KnowledgeBase) -> None:
    case = maintenance_progression("stable")
    case["prior"]["courses"][0]["best_response"] = "stable"
    assert "folfoxiri-bevacizumab" not in offered(rec(case, kb))


# --- F3 and F18: the handout says each listed option's safety warnings, and no subjectless sentence -------


def test_handout_says_the_transplant_risk_of_immunotherapy(kb: KnowledgeBase) -> None:
    case = with_courses(organ_transplant=True)
    case["biomarkers"] = {**case["biomarkers"], "kras": "wild_type", "mmr": "dmmr_msi_h"}
    del case["biomarkers"]["kras_variant"]
    valid = validate_case(case, kb)
    view = handout_view(recommend(valid, kb, what_if=False), kb, valid)
    transplant = [s for s in view["safety"] if "reject the transplanted organ" in s["text"]]
    assert len(transplant) == 1 and "Pembrolizumab" in transplant[0]["options"]
    without = with_courses()
    without["biomarkers"] = case["biomarkers"]
    valid = validate_case(without, kb)
    view = handout_view(recommend(valid, kb, what_if=False), kb, valid)
    assert not any("transplant" in s["text"] for s in view["safety"])


def test_handout_says_the_stroke_risk_once_for_every_bevacizumab_regimen(kb: KnowledgeBase) -> None:
    r = rec(with_courses(recent_arterial_thrombosis=True), kb)
    notes = [s for s in option_safety(r.options, kb) if "stroke or heart attack" in s["text"]]
    assert len(notes) == 1
    bevacizumab = [o.title for o in r.options if "bevacizumab" in o.components]
    assert bevacizumab and set(bevacizumab) <= set(notes[0]["options"])
    assert not any("stroke" in s["text"] for s in option_safety(rec(with_courses(), kb).options, kb))


def test_a_warning_without_plain_words_still_reaches_the_patient(kb: KnowledgeBase) -> None:
    option = rec(with_courses(), kb).options[0]
    unknown = option._replace(warnings=("A clinician warning with no plain words in the knowledge base.",))
    assert option_safety([unknown], kb) == [{"text": SAFETY_UNSAID, "options": [option.title]}]


def test_handout_summary_has_no_sentence_lifted_from_an_option(kb: KnowledgeBase) -> None:
    valid = validate_case(with_courses(), kb)
    r = recommend(valid, kb, what_if=False)
    view = handout_view(r, kb, valid)
    assert view["summary"] == r.patient_summary
    lifted = [s for o in r.options for s in re.split(r"(?<=[.!?])\s+", o.patient_explanation) if s.startswith("It ")]
    assert lifted and not any(s in view["summary"] for s in lifted)


# --- F1: the later-line drugs read the kidneys and the liver --------------------------------------------------


def test_trifluridine_tipiracil_dose_at_severe_renal_impairment(kb: KnowledgeBase) -> None:
    r = rec(with_courses(*LATER_LINE, creatinine_clearance=25), kb)
    for option in ("trifluridine-tipiracil-bevacizumab", "trifluridine-tipiracil"):
        assert any("20 mg/m2 twice daily" in w for w in offered(r)[option].warnings), option
    r = rec(with_courses(*LATER_LINE, creatinine_clearance=45), kb)
    assert not any("20 mg/m2" in w for w in offered(r)["trifluridine-tipiracil-bevacizumab"].warnings)


def test_regorafenib_warns_of_raised_bilirubin(kb: KnowledgeBase) -> None:
    r = rec(with_courses(*LATER_LINE, bilirubin_raised=True), kb)
    assert any("hepatotoxicity" in w for w in offered(r)["regorafenib"].warnings)
    r = rec(with_courses(*LATER_LINE), kb)
    assert not any("bilirubin" in w for w in offered(r)["regorafenib"].warnings)


# --- F10: no palliative local excision of a pelvic tumour judged unresectable ------------------------------


def with_local_recurrence(resectability: str) -> dict[str, Any]:
    case = with_courses()
    case["local_recurrence"] = {"resectability": resectability, "symptoms": ["pain"]}
    return case


def test_no_local_excision_of_an_unresectable_recurrence(kb: KnowledgeBase) -> None:
    assert "local-excision" not in offered(rec(with_local_recurrence("unresectable"), kb))
    # review 16 (F6): nor, for pain, of a resectable recurrence after the rectum was removed (no source gives it)
    assert "local-excision" not in offered(rec(with_local_recurrence("resectable"), kb))


# --- F13: an option used outside its trials says so -------------------------------------------------------


def test_nivolumab_ipilimumab_after_anti_pd1_is_extrapolated(kb: KnowledgeBase) -> None:
    msi = {"kras": "wild_type", "nras": "wild_type", "braf": "wild_type", "mmr": "dmmr_msi_h", "her2_result": "ihc0_1"}
    after = with_courses(
        course(["pembrolizumab"], "2025-01-15", "2026-10-01", stopped_for="progression", best_response="partial")
    )
    after["biomarkers"] = msi
    option = offered(rec(after, kb))["nivolumab-ipilimumab"]
    assert option.evidence[0] == "extrapolated" and option.strength == "consider"
    naive = with_courses()
    naive["biomarkers"] = msi
    assert offered(rec(naive, kb))["nivolumab-ipilimumab"].evidence[0] == "phase3_rct"


# --- F7: bevacizumab with brain metastases ----------------------------------------------------------------


def test_bevacizumab_warns_of_brain_metastases(kb: KnowledgeBase) -> None:
    case = with_courses()
    case["metastases"] = [*case["metastases"], {"site": "brain", "count": 1, "resectability": "unresectable"}]
    r = rec(case, kb)
    bevacizumab = [o for o in r.options if "bevacizumab" in o.components]
    assert bevacizumab and all(any("CNS metastases" in w for w in o.warnings) for o in bevacizumab)
    assert not any("CNS metastases" in w for o in rec(with_courses(), kb).options for w in o.warnings)


# --- F16: a high TMB in an MSS tumour is said, not offered ---------------------------------------------------


def test_tmb_high_mss_note(kb: KnowledgeBase) -> None:
    case = with_courses()
    case["biomarkers"] = {**case["biomarkers"], "tmb": 120}
    r = rec(case, kb)
    assert any("KEYNOTE-158" in w for w in r.warnings)
    assert "pembrolizumab" not in offered(r)
    case["biomarkers"]["tmb"] = 5
    assert not any("KEYNOTE-158" in w for w in rec(case, kb).warnings)


# --- F9: why-not reads a line that progressed on its maintenance drugs ----------------------------------------


def test_why_not_after_progression_on_maintenance(kb: KnowledgeBase) -> None:
    answer = why_not_offered(maintenance_progression("stable"), "folfiri-bevacizumab", kb)
    assert answer.status == "not_applicable"  # explained: the z3 model no longer refuses the case
    assert answer.changes is not None and all(answer.verified)


# --- F14: each warning and note carries its own references; an option's sources support the option ------------


def test_warning_citations_are_not_the_options_sources(kb: KnowledgeBase) -> None:
    r = rec(with_courses(*LATER_LINE, creatinine_clearance=25), kb)
    option = offered(r)["trifluridine-tipiracil-bevacizumab"]
    renal = [c for c in option.cautions if "20 mg/m2" in c.text]
    assert len(renal) == 1 and [s.source for s in renal[0].sources] == ["lonsurf-renal"]
    assert "lonsurf-renal" not in {s.source for s in option.sources}
    assert [c.text for c in option.cautions if c.severity == "warning"] == list(option.warnings)
    assert [c.text for c in option.cautions if c.severity == "note"] == list(option.notes)
    data = option.to_dict()
    assert data["cautions"][0]["sources"][0]["id"] == "lonsurf-renal"


def test_case_warnings_carry_their_references(kb: KnowledgeBase) -> None:
    case = with_courses()
    case["biomarkers"] = {**case["biomarkers"], "tmb": 120}
    data = rec(case, kb).to_dict()
    tmb = [c for c in data["case_cautions"] if "KEYNOTE-158" in c["text"]]
    assert len(tmb) == 1 and [s["id"] for s in tmb[0]["sources"]] == ["fda-pembrolizumab-tmb"]
    assert [c["text"] for c in data["case_cautions"]] == data["warnings"]


# --- fourth review: liver transplantation after at least 3 months of the running line ------------------------


def test_transplant_needs_three_months_of_the_running_line(kb: KnowledgeBase) -> None:
    early = with_courses(course(FOLFOXIRI_BEV, "2026-11-06", best_response="stable"))
    assert "liver-transplantation" in excluded(rec(early, kb))
    later = with_courses(course(FOLFOXIRI_BEV, "2026-06-01", best_response="stable"))
    assert "liver-transplantation" in offered(rec(later, kb))


# --- fourth review: re-introduction reads the oxaliplatin- and irinotecan-free interval -------------------------


def test_reintroduction_preferred_only_after_four_free_months(kb: KnowledgeBase) -> None:
    long_free = maintenance_progression("stable")  # induction ended 2026-03-15, case date 2026-11-20
    assert assess(validate_case(long_free, kb), kb).facts["prior.months_since_induction"] == 8
    assert offered(rec(long_free, kb))["folfoxiri-bevacizumab"].strength == "preferred"
    short = copy.deepcopy(long_free)
    short["prior"]["courses"][0]["end"] = "2026-09-01"
    short["prior"]["courses"][1]["start"] = "2026-09-05"
    option = offered(rec(short, kb))["folfoxiri-bevacizumab"]
    assert option.strength == "alternative" and "less than 4 months" in option.rationale[0]
