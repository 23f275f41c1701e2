"""Findings of the fourth clinical review fixed in stop 13 that are not rank-lowering warnings (those are in
`test_knowledge_lowering.py`): referral of peritoneal-only disease to an expert centre (F17). Each rule has a
test that triggers it and one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import FOLFOXIRI_BEV, LATER_LINE, course, offered, rec, with_courses


def peritoneal(resectability: str, *more_sites: dict[str, Any]) -> dict[str, Any]:
    case = with_courses()
    case["metastases"] = [{"site": "peritoneum", "count": 5, "resectability": resectability}, *more_sites]
    return case


def test_potentially_resectable_peritoneal_only_disease_lists_expert_cytoreduction(kb: KnowledgeBase) -> None:
    option = offered(rec(peritoneal("potentially_resectable"), kb))["crs-hipec"]
    assert option.strength == "consider"
    assert "expert peritoneal-surface centre" in " ".join(option.rationale)


@pytest.mark.parametrize(
    "case",
    [
        peritoneal("unresectable"),
        peritoneal("potentially_resectable", {"site": "liver", "count": 6, "resectability": "unresectable"}),
    ],
    ids=["unresectable", "with-unresectable-liver"],
)
def test_no_cytoreduction_when_peritoneal_disease_is_not_removable_or_not_alone(
    kb: KnowledgeBase, case: dict[str, Any]
) -> None:
    assert "crs-hipec" not in offered(rec(case, kb))


# --- B: liver transplantation needs a line running now (TRANSMET: within 2 months of the last cycle) ----------


def test_transplant_excluded_when_no_line_is_running(kb: KnowledgeBase) -> None:
    stopped = course(FOLFOXIRI_BEV, "2025-11-15", "2026-02-01", stopped_for="toxicity", best_response="stable")
    r = rec(with_courses(stopped), kb)
    assert "liver-transplantation" not in offered(r)
    reasons = {e.id: " ".join(e.reasons) for e in r.excluded}
    assert "No treatment line is running and the last one" in reasons["liver-transplantation"]


def test_transplant_kept_within_2_months_of_the_last_cycle(kb: KnowledgeBase) -> None:
    recent = course(FOLFOXIRI_BEV, "2026-03-15", "2026-10-01", stopped_for="planned_end", best_response="partial")
    assert "liver-transplantation" in offered(rec(with_courses(recent), kb))


def test_transplant_kept_with_a_running_line_that_controls_the_disease(kb: KnowledgeBase) -> None:
    running = course(FOLFOXIRI_BEV, "2025-10-15", best_response="partial")
    assert "liver-transplantation" in offered(rec(with_courses(running), kb))


# --- F: no second stoma -------------------------------------------------------------------------------------


def obstructed(kb: KnowledgeBase, stoma: bool) -> dict[str, Any]:
    case = with_courses()
    case["primary"] = {"status": "in_place", "symptoms": ["obstruction"], "stoma": stoma}
    return case


def test_diverting_colostomy_not_offered_when_a_stoma_exists(kb: KnowledgeBase) -> None:
    assert "diverting-colostomy" not in offered(rec(obstructed(kb, stoma=True), kb))
    assert "diverting-colostomy" in offered(rec(obstructed(kb, stoma=False), kb))


# --- G: an unrecorded symptom list does not put an obstruction warning on every irinotecan option -------------


def test_no_obstruction_warning_when_symptoms_are_not_recorded(kb: KnowledgeBase) -> None:
    case = with_courses()
    case["primary"] = {"status": "resected"}
    folfiri = offered(rec(case, kb))["folfiri-bevacizumab"]
    assert not any("obstruct" in w for w in folfiri.warnings)


# --- A: fruquintinib's own label and SmPC ---------------------------------------------------------------------


def test_fruquintinib_not_started_with_uncontrolled_hypertension(kb: KnowledgeBase) -> None:
    r = rec(with_courses(*LATER_LINE, uncontrolled_hypertension=True), kb)
    assert "fruquintinib" not in offered(r)
    assert "fruquintinib" in offered(rec(with_courses(*LATER_LINE, uncontrolled_hypertension=False), kb))


def test_fruquintinib_lowered_after_recent_arterial_thrombosis(kb: KnowledgeBase) -> None:
    recent = offered(rec(with_courses(*LATER_LINE, recent_arterial_thrombosis=True), kb))["fruquintinib"]
    assert recent.strength == "alternative"
    assert offered(rec(with_courses(*LATER_LINE), kb))["fruquintinib"].strength == "preferred"


def test_fruquintinib_warns_of_raised_bilirubin(kb: KnowledgeBase) -> None:
    raised = offered(rec(with_courses(*LATER_LINE, bilirubin_raised=True), kb))["fruquintinib"]
    assert any("3 times the upper limit" in w for w in raised.warnings)
    normal = offered(rec(with_courses(*LATER_LINE), kb))["fruquintinib"]
    assert not any("bilirubin" in w for w in normal.warnings)


# --- I: after one triplet line the refractory-disease tablets wait --------------------------------------------


def test_regorafenib_and_fruquintinib_are_alternatives_after_a_single_triplet_line(kb: KnowledgeBase) -> None:
    triplet = course(FOLFOXIRI_BEV, "2025-01-15", "2026-10-01", stopped_for="progression", best_response="partial")
    after_one = offered(rec(with_courses(triplet), kb))
    after_two = offered(rec(with_courses(*LATER_LINE), kb))
    for drug in ("regorafenib", "fruquintinib"):
        assert after_one[drug].strength == "alternative"
        assert after_two[drug].strength == "preferred"


# --- J: trastuzumab deruxtecan for HER2 IHC 3+ RAS-mutant disease in later lines ----------------------------


def her2(result: str) -> dict[str, Any]:
    case = with_courses(*LATER_LINE)
    case["biomarkers"] = {**case["biomarkers"], "her2_result": result}
    return case


def test_trastuzumab_deruxtecan_preferred_for_ihc3_ras_mutant_later_line(kb: KnowledgeBase) -> None:
    assert offered(rec(her2("ihc3"), kb))["trastuzumab-deruxtecan"].strength == "preferred"
    assert offered(rec(her2("ihc2_ish_positive"), kb))["trastuzumab-deruxtecan"].strength != "preferred"


# --- K: hepatic arterial floxuridine with raised bilirubin -----------------------------------------------------


def test_hai_floxuridine_warned_with_raised_bilirubin(kb: KnowledgeBase) -> None:
    raised = offered(rec(with_courses(bilirubin_raised=True), kb))["hai-floxuridine"]
    normal = offered(rec(with_courses(bilirubin_raised=False), kb))["hai-floxuridine"]
    # a "consider" row cannot go lower: the warning is what changes
    assert any("biliary sclerosis" in w for w in raised.warnings)
    assert not any("biliary sclerosis" in w for w in normal.warnings)


# --- H: brain metastases are treated locally first (ASCO-SNO-ASTRO: local therapy is not deferred) -----------


def test_brain_metastases_put_radiation_first(kb: KnowledgeBase) -> None:
    case = with_courses()
    case["metastases"] = [*case["metastases"], {"site": "brain", "count": 1, "resectability": "resectable"}]
    r = rec(case, kb)
    assert r.options[0].id == "radiation-brain-metastases" and r.options[0].strength == "preferred"
    assert "radiation-brain-metastases" not in offered(rec(with_courses(), kb))


def test_bowel_resection_for_obstruction_not_offered_when_a_stoma_exists(kb: KnowledgeBase) -> None:
    assert "bowel-resection-obstruction" not in offered(rec(obstructed(kb, stoma=True), kb))
    assert "bowel-resection-obstruction" in offered(rec(obstructed(kb, stoma=False), kb))


# --- sixth review: regorafenib's own label, the anti-VEGF doublets with uncontrolled blood pressure -----------


@pytest.mark.parametrize("fact", ["uncontrolled_hypertension", "recent_arterial_thrombosis"])
def test_regorafenib_lowered_by_its_label_warnings(kb: KnowledgeBase, fact: str) -> None:
    warned = offered(rec(with_courses(*LATER_LINE, **{fact: True}), kb))["regorafenib"]
    text = " ".join(warned.warnings)
    assert warned.strength == "alternative" and "regorafenib" in text and "label" in text
    assert offered(rec(with_courses(*LATER_LINE, **{fact: False}), kb))["regorafenib"].strength == "preferred"


def test_uncontrolled_hypertension_lowers_trifluridine_tipiracil_bevacizumab(kb: KnowledgeBase) -> None:
    drug = "trifluridine-tipiracil-bevacizumab"
    assert offered(rec(with_courses(*LATER_LINE, uncontrolled_hypertension=True), kb))[drug].strength == "alternative"
    assert offered(rec(with_courses(*LATER_LINE, uncontrolled_hypertension=False), kb))[drug].strength == "preferred"


# --- sixth review: a running line meets a new contraindication ------------------------------------------------

RUNNING_FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]


def running(kb: KnowledgeBase, **health: Any) -> tuple[str, ...]:
    line = course(RUNNING_FOLFOX_BEV, "2026-08-01", best_response="partial")
    return rec(with_courses(line, **health), kb).warnings


def test_a_stroke_during_a_running_bevacizumab_line_says_to_stop_it(kb: KnowledgeBase) -> None:
    assert any("stops bevacizumab permanently" in w for w in running(kb, recent_arterial_thrombosis=True))
    assert not any("stops bevacizumab permanently" in w for w in running(kb, recent_arterial_thrombosis=False))


# The running line's own drugs (`prior.ongoing_agents`), not every drug ever given: bevacizumab in a finished
# first line says nothing about a running second line without it, and the warnings say what the line holds.
FOLFOX_BEV_PROGRESSED = course(RUNNING_FOLFOX_BEV, "2025-09-01", "2026-05-01", stopped_for="progression")
RUNNING_FOLFIRI_PANI = course(["leucovorin", "fluorouracil", "irinotecan", "panitumumab"], "2026-06-01")


def test_no_running_line_warning_when_bevacizumab_was_in_an_earlier_line(kb: KnowledgeBase) -> None:
    case = with_courses(FOLFOX_BEV_PROGRESSED, RUNNING_FOLFIRI_PANI, recent_arterial_thrombosis=True)
    warnings = rec(case, kb).warnings
    assert not any("The running line includes" in w for w in warnings)
    neuro = with_courses(FOLFOX_BEV_PROGRESSED, RUNNING_FOLFIRI_PANI, neuropathy_grade=3)
    assert not any("line without oxaliplatin" in w for w in rec(neuro, kb).warnings)


def test_a_running_line_warning_says_the_line_includes_the_drug(kb: KnowledgeBase) -> None:
    warnings = running(kb, recent_arterial_thrombosis=True)
    assert any(w.startswith("The running line includes an anti-VEGF drug") for w in warnings)


def test_grade_2_neuropathy_during_a_running_oxaliplatin_line_says_to_reduce_it(kb: KnowledgeBase) -> None:
    assert any("65 mg/m2" in w and "running line" in w for w in running(kb, neuropathy_grade=2))
    assert not any("65 mg/m2" in w and "running line" in w for w in running(kb, neuropathy_grade=1))


def test_grade_3_neuropathy_during_a_running_oxaliplatin_line_says_to_drop_it(kb: KnowledgeBase) -> None:
    assert any("line without oxaliplatin" in w for w in running(kb, neuropathy_grade=3))
    assert not any("line without oxaliplatin" in w for w in running(kb, neuropathy_grade=1))


# --- F15: oxaliplatin with severe renal impairment ------------------------------------------------------------


def test_oxaliplatin_dose_warning_below_30_ml_min(kb: KnowledgeBase) -> None:
    low = offered(rec(with_courses(creatinine_clearance=25), kb))["folfox-bevacizumab"]
    assert any("set the dose with the pharmacist" in w for w in low.warnings)
    normal = offered(rec(with_courses(creatinine_clearance=45), kb))["folfox-bevacizumab"]
    assert not any("pharmacist" in w for w in normal.warnings)


# --- seventh review: an arterial event on a running anti-VEGF line; surgery soon after a stroke ----------------


def test_no_anti_vegf_regimen_after_a_stroke_on_a_running_bevacizumab_line(kb: KnowledgeBase) -> None:
    line = course(RUNNING_FOLFOX_BEV, "2026-08-01", best_response="partial")
    stroke = rec(with_courses(line, recent_arterial_thrombosis=True), kb)
    anti_vegf = {"folfiri-bevacizumab", "maintenance-capecitabine-bevacizumab"}
    assert not anti_vegf & set(offered(stroke))
    reasons = {e.id: " ".join(e.reasons) for e in stroke.excluded}
    assert "stops it permanently" in reasons["folfiri-bevacizumab"]
    assert anti_vegf & set(offered(rec(with_courses(line, recent_arterial_thrombosis=False), kb)))


def test_running_anti_vegf_line_with_proteinuria_warns(kb: KnowledgeBase) -> None:
    assert any("nephrotic syndrome" in w for w in running(kb, proteinuria=True))
    assert not any("nephrotic syndrome" in w for w in running(kb, proteinuria=False))


def test_liver_resection_lowered_and_warned_after_a_recent_stroke(kb: KnowledgeBase) -> None:
    def resection(**health: Any) -> Any:
        case = with_courses(**health)
        case["metastases"] = [{"site": "liver", "count": 2, "resectability": "resectable", "largest_mm": 30}]
        return offered(rec(case, kb))["liver-resection"]

    recent, usual = resection(recent_arterial_thrombosis=True), resection(recent_arterial_thrombosis=False)
    assert any("levelling off after about 9 months" in w for w in recent.warnings)
    assert usual.strength == "preferred" and recent.strength == "alternative"


def test_no_stoma_after_resection_for_obstruction_when_a_stoma_exists(kb: KnowledgeBase) -> None:
    assert "colostomy-or-ileostomy" not in offered(rec(obstructed(kb, stoma=True), kb))
    assert "colostomy-or-ileostomy" in offered(rec(obstructed(kb, stoma=False), kb))


def test_handout_tells_the_patient_when_a_running_line_drug_stops(kb: KnowledgeBase) -> None:
    from rectoplan.adapters.handout import handout_view
    from rectoplan.api import validate_case

    line = course(RUNNING_FOLFOX_BEV, "2026-08-01", best_response="partial")
    case = with_courses(line, recent_arterial_thrombosis=True)
    said = handout_view(rec(case, kb), kb, validate_case(case, kb))["warnings"]
    assert any("usually stopped for good" in w for w in said)
    calm = with_courses(line, recent_arterial_thrombosis=False)
    assert not any(
        "stopped for good" in w for w in handout_view(rec(calm, kb), kb, validate_case(calm, kb))["warnings"]
    )


# --- eighth review: pembrolizumab running for 2 years or more has a planned stop (KEYNOTE-177) -------------------


def test_pembrolizumab_running_two_years_says_to_plan_the_stop(kb: KnowledgeBase) -> None:
    def warnings(start: str) -> tuple[str, ...]:
        return rec(with_courses(course(["pembrolizumab"], start, best_response="complete")), kb).warnings

    assert any("up to 35 cycles" in w for w in warnings("2024-09-01"))
    assert not any("up to 35 cycles" in w for w in warnings("2025-06-01"))


# --- eighth review: progression on a break or maintenance after oxaliplatin + bevacizumab (CAIRO3) ----------------

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]


@pytest.mark.parametrize("stopped_for", ["treatment_break", "planned_end"])
def test_induction_regimen_is_reintroduced_after_a_break(kb: KnowledgeBase, stopped_for: str) -> None:
    r = rec(
        with_courses(course(FOLFOX_BEV, "2025-10-01", "2026-03-31", stopped_for=stopped_for, best_response="partial")),
        kb,
    )
    options = offered(r)
    assert options["folfox-bevacizumab"].strength == "preferred"
    assert "CAIRO3" in " ".join(options["folfox-bevacizumab"].rationale)
    assert r.options[0].id in ("folfox-bevacizumab", "capox-bevacizumab")
    assert options["folfiri-bevacizumab"].strength == "preferred"  # the switch stays a preferred choice


@pytest.mark.parametrize(
    ("agents", "more"),
    [
        (FOLFOX_BEV, {"stopped_for": "progression", "best_response": "partial"}),  # grew on oxaliplatin
        (FOLFOX_BEV, {"stopped_for": "toxicity", "best_response": "partial"}),  # oxaliplatin not tolerated
        (FOLFOX_BEV, {"stopped_for": "treatment_break", "best_response": "progression"}),  # no control
        (FOLFOXIRI_BEV, {"stopped_for": "treatment_break", "best_response": "partial"}),  # TRIBE2's own rows
    ],
    ids=["progressed-on-it", "toxicity", "no-response", "folfoxiri"],
)
def test_no_doublet_reintroduction_when_it_does_not_fit(
    kb: KnowledgeBase, agents: list[str], more: dict[str, Any]
) -> None:
    r = rec(with_courses(course(agents, "2025-10-01", "2026-03-31", **more)), kb)
    settings = {o.id: o.trace["setting"] for o in r.options}
    assert not any(
        s.endswith("-bevacizumab-reintroduction") and not s.startswith("folfoxiri") for s in settings.values()
    )


# --- eighth review: a declined stoma lowers the resections that may need one -------------------------------------


def _obstructed_primary(*declines: str) -> dict[str, Any]:
    case = with_courses()
    case["primary"] = {"status": "in_place", "stoma": False, "symptoms": ["obstruction"]}
    case["preferences"] = {"declines": list(declines)}
    return case


def test_a_declined_stoma_lowers_bowel_resection_and_says_why(kb: KnowledgeBase) -> None:
    declined = offered(rec(_obstructed_primary("stoma"), kb))["bowel-resection-obstruction"]
    assert declined.strength == "consider"
    assert any("declined a stoma" in w for w in declined.warnings)
    plain = offered(rec(_obstructed_primary(), kb))["bowel-resection-obstruction"]
    assert plain.strength == "alternative"
    assert not any("declined a stoma" in w for w in plain.warnings)


# --- eighth review (seventh's C): radioembolization with a raised bilirubin is warned and lowered ----------------


def test_radioembolization_with_raised_bilirubin_is_warned_and_lowered(kb: KnowledgeBase) -> None:
    raised = offered(rec(with_courses(*LATER_LINE, bilirubin_raised=True), kb))["radioembolization"]
    normal = offered(rec(with_courses(*LATER_LINE, bilirubin_raised=False), kb))["radioembolization"]
    assert any("markedly abnormal" in w for w in raised.warnings)
    assert not any("markedly abnormal" in w for w in normal.warnings)
    assert raised.trace["priority"] > normal.trace["priority"]


# --- eighth review (seventh's G): encorafenib with a raised bilirubin --------------------------------------------


def test_encorafenib_with_raised_bilirubin_asks_for_the_child_pugh_class(kb: KnowledgeBase) -> None:
    def encorafenib_warnings(bilirubin_raised: bool) -> list[str]:
        case = with_courses(bilirubin_raised=bilirubin_raised)
        case["biomarkers"] = {**case["biomarkers"], "kras": "wild_type", "kras_variant": None, "braf": "v600e"}
        options = [o for o in rec(case, kb).options if "encorafenib" in o.components]
        assert options
        return [w for o in options for w in o.warnings]

    assert any("Child-Pugh" in w for w in encorafenib_warnings(True))
    assert not any("Child-Pugh" in w for w in encorafenib_warnings(False))


# --- eighth review (u07): a first line stopped for side effects while responding is not a failed line ------------

FOLFOX_PANI = ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"]


def _ras_wild_type(*courses: dict[str, Any]) -> dict[str, Any]:
    case = with_courses(*courses)
    case["biomarkers"] = {**case["biomarkers"], "kras": "wild_type", "kras_variant": None}
    return case


def _first_line(agents: list[str], stopped_for: str) -> dict[str, Any]:
    return course(agents, "2026-06-01", "2026-09-01", stopped_for=stopped_for, best_response="partial")


@pytest.mark.parametrize(
    ("stopped_for", "strength"),
    [("toxicity", "consider"), ("progression", "preferred"), ("treatment_break", "preferred")],
)
def test_aflibercept_follows_its_label_after_oxaliplatin(kb: KnowledgeBase, stopped_for: str, strength: str) -> None:
    """Zaltrap: for mCRC "resistant to or has progressed following an oxaliplatin-containing regimen"."""
    r = rec(_ras_wild_type(_first_line(FOLFOX_PANI, stopped_for)), kb)
    assert offered(r)["folfiri-aflibercept"].strength == strength


def test_panitumumab_maintenance_after_oxaliplatin_toxicity_keeps_the_first_line(kb: KnowledgeBase) -> None:
    stopped = offered(rec(_ras_wild_type(_first_line(FOLFOX_PANI, "toxicity")), kb))
    assert stopped["maintenance-fluorouracil-panitumumab"].phase == "first_line"
    progressed = offered(rec(_ras_wild_type(_first_line(FOLFOX_PANI, "progression")), kb))
    assert "maintenance-fluorouracil-panitumumab" not in progressed


def test_radioembolization_after_capecitabine_warns_about_the_two_months(kb: KnowledgeBase) -> None:
    capecitabine = course(
        ["capecitabine", "oxaliplatin", "bevacizumab"],
        "2024-01-15",
        "2024-06-01",
        stopped_for="progression",
        best_response="stable",
    )
    later = (capecitabine, *LATER_LINE[1:])
    warned = offered(rec(with_courses(*later), kb))["radioembolization"]
    plain = offered(rec(with_courses(*LATER_LINE), kb))["radioembolization"]
    assert any("two months after capecitabine" in w for w in warned.warnings)
    assert not any("two months after capecitabine" in w for w in plain.warnings)


def test_trifluridine_tipiracil_at_ecog_2_says_its_trials_enrolled_ecog_0_1(kb: KnowledgeBase) -> None:
    def warnings(ecog: int) -> list[str]:
        case = with_courses(*LATER_LINE)
        case["ecog"] = ecog
        options = [o for o in rec(case, kb).options if "trifluridine_tipiracil" in o.components]
        assert options
        return [w for o in options for w in o.warnings]

    assert any("ECOG 0 or 1 only" in w for w in warnings(2))
    assert not any("ECOG 0 or 1 only" in w for w in warnings(1))


# --- ninth review (v08): pembrolizumab again after a planned stop (KEYNOTE-177's second course) ------------------


def _msi_after_pembrolizumab(**stop: Any) -> dict[str, Any]:
    case = with_courses(course(["pembrolizumab"], "2023-06-01", "2025-06-01", **stop))
    case["biomarkers"] = {**case["biomarkers"], "mmr": "dmmr_msi_h"}
    return case


def test_pembrolizumab_second_course_after_a_planned_stop(kb: KnowledgeBase) -> None:
    planned = offered(rec(_msi_after_pembrolizumab(stopped_for="planned_end", best_response="complete"), kb))
    assert planned["pembrolizumab"].trace["setting"] == "pembrolizumab-retreatment"
    assert "second course" in " ".join(planned["pembrolizumab"].rationale)
    grew = offered(rec(_msi_after_pembrolizumab(stopped_for="progression", best_response="partial"), kb))
    assert "pembrolizumab" not in grew or grew["pembrolizumab"].trace["setting"] != "pembrolizumab-retreatment"


# --- ninth review (v04): single-agent panitumumab for a frail elderly patient without chemotherapy ---------------


def _elderly_ras_wild_type(**more: Any) -> dict[str, Any]:
    case = with_courses()
    case["age"] = more.pop("age", 85)
    case["ecog"] = 2
    case["biomarkers"] = {**case["biomarkers"], "kras": "wild_type", "kras_variant": None}
    case["preferences"] = {"declines": more.pop("declines", ["chemotherapy"])}
    return case


def test_panitumumab_alone_for_an_elderly_patient_declining_chemotherapy(kb: KnowledgeBase) -> None:
    option = offered(rec(_elderly_ras_wild_type(), kb))["panitumumab"]
    assert option.strength == "consider" and option.phase == "first_line"
    younger = offered(rec(_elderly_ras_wild_type(age=60), kb))
    assert "panitumumab" not in younger


# --- ninth review (v07): dMMR in a transplant recipient: chemotherapy leads, not "immunotherapy first" -------------


def test_dmmr_transplant_recipient_gets_chemotherapy_as_the_preferred_first_line(kb: KnowledgeBase) -> None:
    def first_bevacizumab_doublet(transplant: bool) -> Any:
        case = with_courses(organ_transplant=transplant)
        case["biomarkers"] = {**case["biomarkers"], "mmr": "dmmr_msi_h"}
        return offered(rec(case, kb))["folfox-bevacizumab"]

    assert first_bevacizumab_doublet(True).strength == "preferred"
    without = first_bevacizumab_doublet(False)
    assert without.strength == "alternative" and "immunotherapy comes first" in " ".join(without.rationale)


def test_folfox_panitumumab_resumed_after_a_stop_for_side_effects_with_control(kb: KnowledgeBase) -> None:
    resumed = offered(rec(_ras_wild_type(_first_line(FOLFOX_PANI, "toxicity")), kb))["folfox-panitumumab"]
    assert resumed.trace["setting"].startswith("folfox-panitumumab-resumed-after-side-effects")
    progressed = offered(rec(_ras_wild_type(_first_line(FOLFOX_PANI, "progression")), kb))
    assert "folfox-panitumumab" not in progressed or not progressed["folfox-panitumumab"].trace["setting"].startswith(
        "folfox-panitumumab-resumed"
    )
    grown = _ras_wild_type(_first_line(FOLFOX_PANI, "toxicity"))
    grown["prior"]["progressed_since_last_line"] = True
    assert "folfox-panitumumab" not in offered(rec(grown, kb))
