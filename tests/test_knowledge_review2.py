"""The second tumour-board review's safety findings (2026-12-06), each with a case that triggers the rule and
one that must not: checkpoint inhibitors in transplant recipients, capecitabine and renal function, the
fluoropyrimidine-free options after fluoropyrimidine cardiotoxicity, the maintenance note beside a
fluoropyrimidine the patient cannot have, and best supportive care in every palliative plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation

Make = Callable[..., Case]
V2 = "rectoplan.case/2"
MSI_H = {"mmr": "dmmr_msi_h"}
CHECKPOINT = ("pembrolizumab", "nivolumab-ipilimumab")
CAPECITABINE = ("capecitabine-bevacizumab", "capox-bevacizumab", "capox")
FP_FREE = ("raltitrexed", "irinotecan", "irinotecan-cetuximab")
MAINTENANCE_NOTE = "maintenance with a fluoropyrimidine"


def run(make_case: Make, kb: KnowledgeBase, **changes: Any) -> Recommendation:
    return recommend(make_case(format=V2, **changes), kb, what_if=False)


def offered(rec: Recommendation) -> dict[str, OptionResult]:
    return {o.id: o for o in rec.options}


# --- checkpoint inhibitors after an organ transplant (Am J Transplant 2020, PMID 32027461) ---------------------


def test_transplant_recipient_never_gets_a_checkpoint_inhibitor_as_preferred(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = run(make_case, kb, biomarkers=MSI_H, health={"organ_transplant": True})
    options = offered(rec)
    for oid in CHECKPOINT:
        assert options[oid].strength == "consider", oid
        assert any("transplant team" in r for r in options[oid].rationale), oid
        assert any("transplant" in w for w in options[oid].warnings), oid
    first_systemic = next(o for o in rec.options if o.kind == "systemic")
    assert first_systemic.id not in CHECKPOINT


def test_without_a_transplant_immunotherapy_stays_preferred(make_case: Make, kb: KnowledgeBase) -> None:
    for transplant in (False, None):
        health = {} if transplant is None else {"organ_transplant": transplant}
        options = offered(run(make_case, kb, biomarkers=MSI_H, health=health))
        assert options["pembrolizumab"].strength == "preferred", transplant
        assert options["pembrolizumab"].rank == 1 or options["pembrolizumab"].rank <= 2


# --- capecitabine and creatinine clearance (capecitabine label, 4.1 and 2.4) -----------------------------------


def test_severe_renal_impairment_excludes_capecitabine(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, health={"creatinine_clearance": 20})
    options = offered(rec)
    gone = {e.id for e in rec.excluded}
    for oid in CAPECITABINE:
        assert oid not in options and oid in gone, oid
    assert not any("capecitabine" in o.components for o in rec.options)
    assert "folfox-bevacizumab" in options  # fluorouracil-based regimens stay


def test_moderate_renal_impairment_warns_of_the_reduced_dose(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, health={"creatinine_clearance": 40}))
    assert any("75%" in w for w in options["capecitabine-bevacizumab"].warnings)
    assert not any("75%" in w for w in options["folfox-bevacizumab"].warnings)


def test_normal_renal_function_keeps_capecitabine_without_a_renal_warning(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, health={"creatinine_clearance": 80}))
    assert "capecitabine-bevacizumab" in options
    assert not any("reatinine" in w for w in options["capecitabine-bevacizumab"].warnings)


def test_unknown_renal_function_is_asked_for_once(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb)
    assert "creatinine_clearance" in {t.test for t in rec.tests_needed}
    assert "creatinine_clearance" not in {
        t.test for t in run(make_case, kb, health={"creatinine_clearance": 80}).tests_needed
    }
    assert not any("reatinine" in w for w in offered(rec)["capecitabine-bevacizumab"].warnings)


def test_raltitrexed_is_contraindicated_below_25_and_dose_reduced_up_to_65(make_case: Make, kb: KnowledgeBase) -> None:
    cardio = {"fluoropyrimidine_cardiotoxicity": True}
    severe = run(make_case, kb, health={**cardio, "creatinine_clearance": 22})
    assert "raltitrexed" not in offered(severe) and "raltitrexed" in {e.id for e in severe.excluded}
    for crcl, expected in ((35, True), (60, True), (70, False)):
        option = offered(run(make_case, kb, health={**cardio, "creatinine_clearance": crcl}))["raltitrexed"]
        assert any("every 4 weeks" in w for w in option.warnings) is expected, crcl


# --- fluoropyrimidine cardiotoxicity opens the fluoropyrimidine-free options (PMID 23583220) ---------------------


def test_fluoropyrimidine_cardiotoxicity_offers_fluoropyrimidine_free_treatment(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = run(make_case, kb, health={"fluoropyrimidine_cardiotoxicity": True}, wants_clinical_trials=False)
    options = offered(rec)
    for oid in FP_FREE:
        assert oid in options, oid
    assert not any(c in ("fluorouracil", "capecitabine") for o in rec.options for c in o.components)


def test_without_cardiotoxicity_the_fluoropyrimidine_free_rows_stay_closed(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, health={"fluoropyrimidine_cardiotoxicity": False}))
    assert "raltitrexed" not in options
    assert options.get("irinotecan-cetuximab") is None or options["irinotecan-cetuximab"].phase != "first_line"


# --- the maintenance note never sits beside a fluoropyrimidine the patient cannot have ---------------------------


def notes_of(rec: Recommendation, oid: str) -> str:
    return " ".join(offered(rec)[oid].notes + offered(rec)[oid].warnings)


def test_no_fluoropyrimidine_maintenance_note_for_dpd_deficiency(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, health={"dpyd": "poor"})
    assert MAINTENANCE_NOTE not in notes_of(rec, "irinotecan-cetuximab")


def test_the_maintenance_note_stays_for_a_normal_metaboliser(make_case: Make, kb: KnowledgeBase) -> None:
    for health in ({"dpyd": "normal"}, {"dpyd": None}):
        rec = run(make_case, kb, health=health)
        assert MAINTENANCE_NOTE in notes_of(rec, "folfox-bevacizumab"), health


def test_maintenance_is_not_told_there_is_no_maintenance(make_case: Make, kb: KnowledgeBase) -> None:
    ongoing = {
        "systemic_lines": None,
        "courses": [
            {
                "agents": ["capecitabine", "oxaliplatin", "bevacizumab"],
                "setting": "advanced",
                "status": "ongoing",
                "best_response": "partial",
                "start_months_ago": 5,
            }
        ],
    }
    rec = run(make_case, kb, prior=ongoing)
    options = offered(rec)
    assert "maintenance-capecitabine-bevacizumab" in options
    assert "no planned de-escalation" not in notes_of(rec, "maintenance-capecitabine-bevacizumab")


# --- best supportive care: in every palliative plan; first when the goal of care is comfort ----------------------


def test_comfort_goal_puts_best_supportive_care_first(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, preferences={"goal": "comfort"})
    assert rec.options[0].id == "best-supportive-care"
    assert rec.options[0].strength == "preferred"


def test_every_palliative_plan_lists_best_supportive_care(make_case: Make, kb: KnowledgeBase) -> None:
    for goal in ("balanced", "maximal_treatment", None):
        prefs = {} if goal is None else {"goal": goal}
        rec = run(make_case, kb, preferences=prefs)
        assert rec.intent == "palliative"
        bsc = offered(rec)["best-supportive-care"]
        assert bsc.strength == "consider", goal


def test_a_curative_plan_does_not_list_best_supportive_care(make_case: Make, kb: KnowledgeBase) -> None:
    resectable = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    rec = run(make_case, kb, metastases=resectable)
    assert rec.intent == "curative"
    assert "best-supportive-care" not in offered(rec)


# --- perioperative chemotherapy: randomised evidence (EPOC) for liver metastases only ---------------------------


def test_perioperative_chemotherapy_is_preferred_for_resectable_liver_metastases(
    make_case: Make, kb: KnowledgeBase
) -> None:
    liver = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    folfox = offered(run(make_case, kb, metastases=liver))["folfox"]
    assert (folfox.strength, folfox.setting, folfox.evidence[0]) == (
        "preferred",
        "folfox-perioperative-liver",
        "phase3_rct",
    )
    assert any("EPOC" in c.label and "New" not in c.label for c in folfox.sources)


def test_perioperative_chemotherapy_for_lung_metastases_is_not_claimed_as_phase_3(
    make_case: Make, kb: KnowledgeBase
) -> None:
    lung = [{"site": "lung", "count": 2, "resectability": "resectable"}]
    rec = run(make_case, kb, metastases=lung)
    assert rec.intent == "curative"
    folfox = offered(rec)["folfox"]
    assert (folfox.strength, folfox.evidence[0]) == ("alternative", "guideline_consensus")
    assert "liver metastases only" in " ".join(folfox.rationale)


def test_bevacizumab_is_not_kept_out_of_curative_surgery_for_an_anti_egfr_reason(
    make_case: Make, kb: KnowledgeBase
) -> None:
    liver = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    rec = run(make_case, kb, metastases=liver)
    reasons = {e.id: " ".join(e.reasons) for e in rec.excluded}
    assert "cetuximab" not in reasons["folfox-bevacizumab"]
    assert "New EPOC" in reasons["folfox-panitumumab"]


# --- after first-line FOLFOXIRI + bevacizumab: re-introduction (TRIBE2), not straight to refractory drugs -------

FOLFOXIRI_BEV = ["fluorouracil", "leucovorin", "oxaliplatin", "irinotecan", "bevacizumab"]


def folfoxiri_course(**fields: Any) -> dict[str, Any]:
    course = {"agents": FOLFOXIRI_BEV, "setting": "advanced", "start_months_ago": 10, "end_months_ago": 5}
    return {**course, **fields}


# FOLFOXIRI + bevacizumab with a response, then capecitabine + bevacizumab maintenance that progressed
MAINTENANCE_PROGRESSION = {
    "systemic_lines": None,
    "courses": [
        folfoxiri_course(status="completed", best_response="partial", end_months_ago=9),
        {
            "agents": ["capecitabine", "bevacizumab"],
            "setting": "maintenance",
            "start_months_ago": 9,
            "end_months_ago": 1,
            "status": "stopped",
            "stopped_for": "progression",
        },
    ],
}


def test_folfoxiri_bevacizumab_is_reintroduced_after_a_break_with_response(make_case: Make, kb: KnowledgeBase) -> None:
    prior = {"systemic_lines": None, "courses": [folfoxiri_course(status="completed", best_response="partial")]}
    option = offered(run(make_case, kb, prior=prior))["folfoxiri-bevacizumab"]
    assert (option.setting, option.phase) == ("folfoxiri-bevacizumab-reintroduction", "first_line")  # F15


def test_folfoxiri_bevacizumab_is_not_reintroduced_after_progression_on_it(make_case: Make, kb: KnowledgeBase) -> None:
    progressed = folfoxiri_course(status="stopped", stopped_for="progression", best_response="partial")
    assert "folfoxiri-bevacizumab" not in offered(
        run(make_case, kb, prior={"systemic_lines": None, "courses": [progressed]})
    )
    no_response = folfoxiri_course(status="completed", best_response="stable")
    assert "folfoxiri-bevacizumab" not in offered(
        run(make_case, kb, prior={"systemic_lines": None, "courses": [no_response]})
    )


# --- a local recurrence goes to a specialist team (Beyond TME, PMID 23754654); a declined stoma is said -------

SPECIALIST = "specialist multidisciplinary team"


def test_a_local_recurrence_is_referred_to_a_specialist_team(make_case: Make, kb: KnowledgeBase) -> None:
    lr = {"resectability": "resectable", "symptoms": []}
    rec = run(make_case, kb, primary={"status": "resected"}, local_recurrence=lr, metastases=[])
    assert any(SPECIALIST in w for w in rec.warnings)
    assert not any(SPECIALIST in w for w in run(make_case, kb).warnings)


def test_a_declined_stoma_is_said_beside_a_rectal_resection(make_case: Make, kb: KnowledgeBase) -> None:
    liver = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    declined = offered(run(make_case, kb, metastases=liver, preferences={"declines": ["stoma"]}))
    accepted = offered(run(make_case, kb, metastases=liver))
    rectal = [
        oid for oid in ("low-anterior-resection-tme", "synchronous-resection", "staged-resection") if oid in declined
    ]
    assert rectal
    for oid in rectal:
        assert any("declined a stoma" in w for w in declined[oid].warnings), oid
        assert not any("declined a stoma" in w for w in accepted[oid].warnings), oid


def test_a_recorded_germline_result_needs_no_referral_for_germline_testing(make_case: Make, kb: KnowledgeBase) -> None:
    msi = {"mmr": "dmmr_msi_h", "braf": "wild_type"}
    untested = run(make_case, kb, biomarkers=msi)
    tested = run(make_case, kb, biomarkers={**msi, "germline_lynch": "positive"})
    assert any("germline testing" in w for w in untested.warnings)
    assert not any("germline testing" in w for w in tested.warnings)


def test_the_maintenance_note_is_for_first_line_induction_only(make_case: Make, kb: KnowledgeBase) -> None:
    folfox_bev = {"agents": ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
    second = run(make_case, kb, prior={"systemic_lines": [folfox_bev]})
    assert MAINTENANCE_NOTE not in notes_of(second, "folfiri-bevacizumab")


def test_progression_during_maintenance_is_said_with_the_reintroduction_evidence(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = run(make_case, kb, prior=MAINTENANCE_PROGRESSION)
    assert any("grew during maintenance" in w for w in rec.warnings)
    on_break = run(make_case, kb, prior={"systemic_lines": None, "courses": MAINTENANCE_PROGRESSION["courses"][:1]})
    assert not any("grew during maintenance" in w for w in on_break.warnings)


# --- progression during maintenance: only the maintenance drugs progressed (SystemicLine.progressed_on) ---------


def test_progression_on_maintenance_leaves_the_induction_drugs_open(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, prior=MAINTENANCE_PROGRESSION)
    options = offered(rec)
    assert options["folfoxiri-bevacizumab"].setting == "folfoxiri-bevacizumab-reintroduction"
    assert "folfox" in options  # oxaliplatin did not progress
    assert "capecitabine-bevacizumab" not in options  # the maintenance regimen did
    assert "folfox" not in {e.id for e in rec.excluded}


def test_a_line_cannot_name_drugs_it_did_not_give_as_progressed(kb: KnowledgeBase) -> None:
    import pytest

    from rectoplan.api import validate_case
    from rectoplan.core.errors import CaseError
    from tests.conftest import BASE_CASE, merge

    line = {"agents": ["fluorouracil", "bevacizumab"], "stopped_for": "progression", "progressed_on": ["irinotecan"]}
    with pytest.raises(CaseError, match="progressed_on"):
        validate_case(merge(BASE_CASE, {"prior": {"systemic_lines": [line]}}), kb)


def test_cohort_engines_agree_on_progression_during_maintenance(
    make_case: Make, kb: KnowledgeBase, tmp_path_factory: Any
) -> None:
    from rectoplan.verify.casejson import case_dict
    from tests.test_knowledge_cohort import cohort_mismatches

    case = make_case(format=V2, prior=MAINTENANCE_PROGRESSION)
    data = case_dict(case)
    assert data["prior"]["systemic_lines"][0]["progressed_on"] == ["capecitabine", "bevacizumab"]
    for engine in ("polars", "duckdb"):
        assert cohort_mismatches([data], kb, engine, tmp_path_factory.mktemp(engine)) == []


def test_json_lines_with_and_without_progressed_on_read_alike(kb: KnowledgeBase, tmp_path: Any) -> None:
    """JSON lines whose lines never give `progressed_on` keep the fast reader; one that does goes per case."""
    import json

    from rectoplan.cohort.run import conform, run_cohort

    folfoxiri = ["fluorouracil", "leucovorin", "oxaliplatin", "irinotecan", "bevacizumab"]
    plain = {"agents": folfoxiri, "stopped_for": "progression"}
    on_maintenance = {**plain, "progressed_on": ["fluorouracil", "bevacizumab"]}
    rows = [
        {
            "id": f"r{i}",
            "ecog": 1,
            "met_liver_count": 3,
            "met_liver_resectability": "unresectable",
            "prior_lines": [line],
        }
        for i, line in enumerate([plain, on_maintenance, plain])
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    local = conform(run_cohort(path, kb, "polars").results).to_pylist()
    reference = conform(run_cohort(path, kb, "python").results).to_pylist()
    assert local == reference
    assert local[0]["options"] != local[1]["options"]  # re-introduction opens only for the maintenance row
