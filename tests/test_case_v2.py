"""Contract `rectoplan.case/2`: the history oncologists record, read the way the rules need it.

The three findings of the clinical review each have a test here that fails on contract 1 code: adjuvant
therapy counted as a line, an ongoing line treated as failed, and `p.G12C` read as "not G12C".
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.adapters.case_json import parse_case
from rectoplan.adapters.variants import canonical_variant
from rectoplan.api import validate_case
from rectoplan.cohort.columns import COLUMNS, flatten
from rectoplan.cohort.readers import arrow_type, read_cohort
from rectoplan.core.engine import recommend
from rectoplan.core.errors import CaseError
from rectoplan.core.facts import case_facts
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge

ADJUVANT_CAPOX = {"agents": ["capecitabine", "oxaliplatin"], "setting": "adjuvant", "status": "completed"}


def _v2(**changes: Any) -> dict[str, Any]:
    case = merge(BASE_CASE, {"format": "rectoplan.case/2", "as_of": "2026-11-20", **changes})
    return case


def _with_courses(courses: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    case = _v2(**changes)
    case["prior"] = {"pelvic_radiation": False, "surgeries": [], "courses": courses}
    return case


def _offered(rec: Any) -> dict[str, Any]:
    return {o.id: o for o in rec.options}


def _problems(data: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    with pytest.raises(CaseError) as info:
        validate_case(data, kb)
    return info.value.messages()


# --- finding 1: adjuvant therapy is not a line for advanced disease ---------------------------------------


def test_relapse_18_months_after_adjuvant_capox_is_first_line(kb: KnowledgeBase) -> None:
    course = {**ADJUVANT_CAPOX, "end_months_ago": 18}
    case = validate_case(_with_courses([course], advanced_disease_months_ago=0), kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    assert facts["prior.line_count"] == 0
    assert facts["prior.oxaliplatin_free_months"] == 18
    rec = recommend(case, kb)
    assert rec.summary.endswith("Oxaliplatin-free interval since oxaliplatin given around surgery: 18 months.")
    options = _offered(rec)
    assert options["folfox-bevacizumab"].phase == "first_line"
    assert options["folfoxiri-bevacizumab"].phase == "first_line"


def test_braf_relapse_after_adjuvant_gets_breakwater_not_beacon(kb: KnowledgeBase) -> None:
    course = {**ADJUVANT_CAPOX, "end_months_ago": 18}
    data = _with_courses([course], advanced_disease_months_ago=0, biomarkers={"braf": "v600e"})
    rec = recommend(validate_case(data, kb), kb)
    options = _offered(rec)
    assert rec.options[0].id == "encorafenib-cetuximab-mfolfox6"
    assert "encorafenib-cetuximab" not in options  # BEACON is second line


def test_relapse_within_6_months_of_adjuvant_oxaliplatin_counts_as_a_failed_line(kb: KnowledgeBase) -> None:
    course = {**ADJUVANT_CAPOX, "end_months_ago": 4}
    case = validate_case(_with_courses([course], advanced_disease_months_ago=1), kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    assert facts["prior.line_count"] == 1
    assert "oxaliplatin" in facts["prior.progressed_agents"]
    options = _offered(recommend(case, kb))
    assert "folfox-bevacizumab" not in options or options["folfox-bevacizumab"].phase != "first_line"
    assert options["folfiri-bevacizumab"].phase == "second_line"


def test_adjuvant_interval_unknown_is_said(kb: KnowledgeBase) -> None:
    case = validate_case(_with_courses([ADJUVANT_CAPOX]), kb)
    rec = recommend(case, kb)
    assert any("time from its end to the relapse is" in w for w in rec.warnings)


def test_dates_give_months_and_need_the_case_date(kb: KnowledgeBase) -> None:
    course = {**ADJUVANT_CAPOX, "start": "2024-11-04", "end": "2025-05-05"}
    case = validate_case(_with_courses([course], advanced_disease_date="2026-11-02"), kb)
    assert case.value("prior.oxaliplatin_free_months") == 17
    data = _with_courses([course])
    data.pop("as_of")
    assert any("as_of" in p for p in _problems(data, kb))


# --- finding 2: an ongoing line is continued, not switched -------------------------------------------------


def test_ongoing_folfox_panitumumab_is_continued_with_maintenance(kb: KnowledgeBase) -> None:
    line = {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"], "stopped_for": "ongoing"}
    data = merge(BASE_CASE, {"prior": {"systemic_lines": [line]}})  # contract 1 says it too
    rec = recommend(validate_case(data, kb), kb)
    assert "Continue the ongoing line" in rec.summary.split(".")[1]
    assert any("line of treatment for advanced disease is ongoing" in w for w in rec.warnings)
    options = _offered(rec)
    assert "maintenance-fluorouracil-panitumumab" in options
    switch = options["folfiri-bevacizumab"]
    assert switch.rationale[0].startswith("At progression")
    assert switch.patient_explanation.startswith("Only if your current treatment stops working")
    assert options["maintenance-fluorouracil-panitumumab"].strength == "consider"  # induction time unknown
    course = {**line, "setting": "advanced", "status": "ongoing", "start_months_ago": 5}
    course.pop("stopped_for")
    options = _offered(recommend(validate_case(_with_courses([course]), kb), kb))
    maintenance = options["maintenance-fluorouracil-panitumumab"]
    assert maintenance.strength == "alternative" and maintenance.rank < options["folfiri"].rank


def test_maintenance_course_merges_into_its_induction_line(kb: KnowledgeBase) -> None:
    courses = [
        {"agents": ["capecitabine", "oxaliplatin", "bevacizumab"], "setting": "advanced", "status": "completed",
         "start_months_ago": 7, "end_months_ago": 3, "best_response": "partial"},
        {"agents": ["capecitabine", "bevacizumab"], "setting": "maintenance", "status": "ongoing",
         "start_months_ago": 3},
    ]  # fmt: skip
    case = validate_case(_with_courses(courses), kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    assert facts["prior.line_count"] == 1 and facts["prior.ongoing_line"] is True
    assert facts["prior.on_maintenance"] is True and facts["prior.last_response"] == "partial"
    options = _offered(recommend(case, kb))
    assert options["maintenance-capecitabine-bevacizumab"].strength == "preferred"


def test_induction_length_unknown_never_ranks_maintenance_preferred(kb: KnowledgeBase) -> None:
    line = {"agents": ["capecitabine", "oxaliplatin", "bevacizumab"], "stopped_for": "ongoing"}
    rec = recommend(validate_case(merge(BASE_CASE, {"prior": {"systemic_lines": [line]}}), kb), kb)
    assert _offered(rec)["maintenance-capecitabine-bevacizumab"].strength == "consider"


def test_oxaliplatin_stopped_for_toxicity_while_responding_keeps_the_first_line_going(kb: KnowledgeBase) -> None:
    induction = {"agents": ["capecitabine", "oxaliplatin", "bevacizumab"], "setting": "advanced", "status": "stopped"}
    course = {**induction, "stopped_for": "toxicity", "best_response": "partial"}
    options = _offered(recommend(validate_case(_with_courses([course]), kb), kb))
    assert options["maintenance-capecitabine-bevacizumab"].setting.endswith("after-oxaliplatin-toxicity")
    course = {**induction, "stopped_for": "toxicity", "best_response": "progression"}
    assert "maintenance-capecitabine-bevacizumab" not in _offered(
        recommend(validate_case(_with_courses([course]), kb), kb)
    )


def test_no_maintenance_without_an_ongoing_line(kb: KnowledgeBase) -> None:
    line = {"agents": ["capecitabine", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
    rec = recommend(validate_case(merge(BASE_CASE, {"prior": {"systemic_lines": [line]}}), kb), kb)
    assert "maintenance-capecitabine-bevacizumab" not in _offered(rec)
    assert "Continue" not in rec.summary


def test_course_contradictions_are_named(kb: KnowledgeBase) -> None:
    courses = [
        {"agents": ["capecitabine"], "setting": "maintenance", "status": "ongoing"},
        {"agents": ["irinotecan"], "setting": "advanced", "status": "ongoing"},
    ]
    found = _problems(_with_courses(courses), kb)
    assert any(p.startswith("prior.courses[0].status") for p in found)
    assert any(p.startswith("prior.courses[0].setting") for p in found)
    found = _problems(_with_courses([{"agents": ["oxaliplatinn"], "setting": "advanced"}]), kb)
    assert any("did you mean 'oxaliplatin'" in p for p in found)


# --- finding 3: KRAS variants as laboratories write them -----------------------------------------------------


@pytest.mark.parametrize(
    "text", ["G12C", "p.G12C", "p.Gly12Cys", "c.34G>T", "KRAS G12C", "KRAS p.(Gly12Cys)", " g12c ", "GLY12CYS"]
)
def test_every_g12c_notation_is_g12c(text: str, kb: KnowledgeBase) -> None:
    assert canonical_variant(text) == "G12C"
    later = [
        {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"},
        {"agents": ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"], "stopped_for": "progression"},
    ]
    data = merge(
        BASE_CASE, {"biomarkers": {"kras": "mutant", "kras_variant": text}, "prior": {"systemic_lines": later}}
    )
    case = validate_case(data, kb)
    assert case_facts(case, kb.resistance_class, kb.drug_classes)["biomarkers.kras_g12c"] is True
    assert "sotorasib-panitumumab" in _offered(recommend(case, kb, what_if=False))


@pytest.mark.parametrize("text,expected", [("c.35G>A", "G12D"), ("c.38G>A", "G13D"), ("p.Gln61His", "Q61H")])
def test_other_notations_are_read(text: str, expected: str) -> None:
    assert canonical_variant(text) == expected


@pytest.mark.parametrize("text", ["G12X", "weird", "c.100G>A", "exon 2 mutation"])
def test_an_unreadable_variant_is_an_input_error(text: str, kb: KnowledgeBase) -> None:
    found = _problems(merge(BASE_CASE, {"biomarkers": {"kras": "mutant", "kras_variant": text}}), kb)
    assert found[0].startswith("biomarkers.kras_variant: found")
    assert "expected" in found[0] and "p.G12C" in found[0]  # the notations it reads (review 15 F7: and why not)


# --- the other contract 2 readings ---------------------------------------------------------------------------


def test_her2_result_sets_her2_and_a_contradiction_is_named(kb: KnowledgeBase) -> None:
    data = _v2(biomarkers={"her2": None, "her2_result": "ihc2_ish_positive"})
    assert validate_case(data, kb).biomarkers.her2 == "positive"
    found = _problems(_v2(biomarkers={"her2": "negative", "her2_result": "ihc3"}), kb)
    assert found[0].startswith("biomarkers.her2")


def test_declined_trials_remove_trial_options(kb: KnowledgeBase) -> None:
    case = validate_case(_v2(wants_clinical_trials=None, preferences={"declines": ["trials", "stoma"]}), kb)
    assert case.wants_clinical_trials is False
    assert case.value("preferences.declines_stoma") is True
    assert case.value("preferences.declines_chemotherapy") is False
    assert "clinical-trial" not in _offered(recommend(case, kb))
    assert _problems(_v2(wants_clinical_trials=True, preferences={"declines": ["trials"]}), kb)


def test_declared_fields_are_validated_with_their_domain(kb: KnowledgeBase) -> None:
    found = _problems(_v2(health={"neuropathy_grade": 7}), kb)
    assert found[0].startswith("health.neuropathy_grade: found 7")
    found = _problems(_v2(health={"neuropathy_grde": 2}), kb)
    assert "did you mean 'neuropathy_grade'?" in found[0]


def test_largest_lesion_per_site(kb: KnowledgeBase) -> None:
    mets = [{"site": "other", "count": 1, "largest_mm": 12}, {"site": "other", "count": 2, "largest_mm": 30}]
    case = validate_case(_v2(metastases=[{"site": "liver", "count": 2, "largest_mm": 18}, *mets]), kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    assert facts["metastases.liver.largest_mm"] == 18 and facts["metastases.other.largest_mm"] == 30
    assert facts["metastases.lung.largest_mm"] == 0
    case = validate_case(_v2(metastases=[{"site": "liver", "count": 2}]), kb)
    assert case_facts(case, kb.resistance_class, kb.drug_classes)["metastases.liver.largest_mm"] is None


def test_contract_1_cases_still_read(kb: KnowledgeBase) -> None:
    case = parse_case(BASE_CASE, kb.vocabulary.drugs, kb.vocabulary.procedures)
    assert case.declared == ()


def test_v2_cohort_rows_give_the_per_case_result_on_every_engine(kb: KnowledgeBase, tmp_path: Any) -> None:
    pytest.importorskip("polars")
    from rectoplan.cohort.run import evaluate_local, evaluate_python

    courses = [
        {**ADJUVANT_CAPOX, "end_months_ago": 18},
        {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"], "setting": "advanced",
         "status": "ongoing", "start_months_ago": 5},
    ]  # fmt: skip
    cases = [validate_case(_with_courses(courses, advanced_disease_months_ago=6, id=f"c{i}"), kb) for i in range(3)]
    rows = [flatten(c) for c in cases]
    rows[1]["prior_lines"] = None
    rows[1]["prior_courses"] = json.dumps(courses)
    rows[1]["advanced_disease_date"] = None
    rows[2]["primary_distance_from_anal_verge_cm"] = 12
    rows[2]["neuropathy_grade"] = 3
    rows[0]["met_liver_largest_mm"] = 25  # a lesion size recorded, read column-wise
    path = tmp_path / "v2.parquet"
    pq.write_table(
        pa.table({c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}), path
    )
    table = read_cohort(path, kb).table
    expected, errors = evaluate_python(table, kb)
    for engine in ("polars", "duckdb"):
        results, engine_errors = evaluate_local(table, kb, engine)
        assert engine_errors == errors
        assert results.to_pylist() == expected.to_pylist()
    assert errors == []


# --- why-not never rewrites the past ---------------------------------------------------------------------------


def test_why_not_never_deletes_a_given_course_and_only_waits_forward(kb: KnowledgeBase) -> None:
    pytest.importorskip("z3")
    from rectoplan.verify.why_not import why_not

    line = {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
    data = merge(BASE_CASE, {"prior": {"systemic_lines": [line]}, "health": {"days_since_major_surgery": 10}})
    case = validate_case(data, kb)
    answer = why_not(case, kb, "folfoxiri-bevacizumab")  # a first-line regimen, after a first line
    assert answer.changes is not None
    for changes in answer.changes:
        assert not any(c.field.startswith("prior.") for c in changes)
    answer = why_not(case, kb, "folfiri-bevacizumab")  # second line, but 10 days after surgery: wait
    assert answer.status == "excluded" and answer.changes
    for changes in answer.changes:
        assert [c.field for c in changes] == ["health.days_since_major_surgery"]
        assert changes[0].after > changes[0].before


# --- organ function and the patient's wishes change the choice ------------------------------------------------


def _outcome(data: dict[str, Any], kb: KnowledgeBase) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = recommend(validate_case(data, kb), kb, what_if=False)
    return _offered(rec), {e.id: e for e in rec.excluded}


def test_fluoropyrimidine_cardiotoxicity_excludes_5fu_and_capecitabine(kb: KnowledgeBase) -> None:
    offered, excluded = _outcome(_v2(health={"fluoropyrimidine_cardiotoxicity": True}), kb)
    assert "folfox-bevacizumab" in excluded and "capox" in excluded
    assert not any("fluorouracil" in o.components or "capecitabine" in o.components for o in offered.values())
    offered, _ = _outcome(_v2(health={"fluoropyrimidine_cardiotoxicity": False}), kb)
    assert "folfox-bevacizumab" in offered


@pytest.mark.parametrize(
    "health,caution",
    [
        ({"uncontrolled_hypertension": True}, "blood pressure"),
        ({"recent_arterial_thrombosis": True}, "thromboembolic"),
    ],
)
def test_anti_vegf_warnings(health: dict[str, Any], caution: str, kb: KnowledgeBase) -> None:
    offered, _ = _outcome(_v2(health=health), kb)
    assert any(caution in w for w in offered["folfox-bevacizumab"].warnings)
    offered, _ = _outcome(_v2(health=dict.fromkeys(health, False)), kb)
    assert not any(caution in w for w in offered["folfox-bevacizumab"].warnings)


def test_proteinuria_withholds_bevacizumab(kb: KnowledgeBase) -> None:
    """Review 16 F2 (stop 19): the label withholds bevacizumab at 2 g/24 h or more, so the option is excluded."""
    offered, excluded = _outcome(_v2(health={"proteinuria": True}), kb)
    assert "folfox-bevacizumab" not in offered and "folfox-bevacizumab" in excluded
    offered, _ = _outcome(_v2(health={"proteinuria": False}), kb)
    assert "folfox-bevacizumab" in offered


def test_ugt1a1_poor_warns_on_irinotecan(kb: KnowledgeBase) -> None:
    offered, _ = _outcome(_v2(health={"ugt1a1": "poor"}), kb)
    assert any("UGT1A1 poor metaboliser" in w for w in offered["folfiri-bevacizumab"].warnings)
    offered, _ = _outcome(_v2(health={"ugt1a1": "normal"}), kb)
    assert not any("UGT1A1 poor metaboliser" in w for w in offered["folfiri-bevacizumab"].warnings)


def test_declining_chemotherapy_keeps_immunotherapy_and_a_declined_stoma_rules_out_exenteration(
    kb: KnowledgeBase,
) -> None:
    msi = {"biomarkers": {"mmr": "dmmr_msi_h"}, "preferences": {"declines": ["chemotherapy"]}}
    offered, excluded = _outcome(_v2(**msi), kb)
    assert "pembrolizumab" in offered
    assert "folfox-bevacizumab" in excluded
    assert excluded["folfox-bevacizumab"].reasons[0] == "The patient has declined chemotherapy."
    recurrence = {
        "primary": {"status": "resected"},
        "local_recurrence": {"resectability": "resectable"},
        "metastases": [],
        "preferences": {"declines": ["stoma"]},
    }
    offered, excluded = _outcome(_v2(**recurrence), kb)
    assert "pelvic-exenteration" in excluded and "pelvic-exenteration" not in offered


@pytest.mark.parametrize(
    "changes",
    [
        {"health": {"frail": True}},
        {"ecog": 3},
        {"preferences": {"declines": ["surgery"]}},
        {"primary": {"status": "in_place", "resectability": "unresectable"}},
    ],
)
def test_an_unfit_patient_or_an_unremovable_primary_is_never_curative(
    changes: dict[str, Any], kb: KnowledgeBase
) -> None:
    resectable = {"metastases": [{"site": "liver", "count": 2, "resectability": "resectable"}]}
    assert recommend(validate_case(_v2(**resectable), kb), kb, what_if=False).intent == "curative"
    assert recommend(validate_case(_v2(**resectable, **changes), kb), kb, what_if=False).intent == "palliative"


def test_a_potentially_resectable_primary_makes_a_conversion_plan(kb: KnowledgeBase) -> None:
    data = _v2(
        metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}],
        primary={"status": "in_place", "resectability": "potentially_resectable", "crm_involved": True},
    )
    assert recommend(validate_case(data, kb), kb, what_if=False).intent == "conversion"


def test_the_ongoing_regimen_is_not_reintroduced_at_its_own_progression(kb: KnowledgeBase) -> None:
    line = {"agents": ["leucovorin", "fluorouracil", "oxaliplatin"], "stopped_for": "ongoing"}
    offered, _ = _outcome(merge(BASE_CASE, {"prior": {"systemic_lines": [line]}}), kb)
    assert "folfox" not in offered or offered["folfox"].setting != "folfox-reintroduction"
    paused = {**line, "stopped_for": "completed"}
    offered, _ = _outcome(merge(BASE_CASE, {"prior": {"systemic_lines": [paused]}}), kb)
    assert offered["folfox"].setting == "folfox-reintroduction"


def test_trastuzumab_deruxtecan_for_ihc2_ish_positive_is_said_to_be_off_label(kb: KnowledgeBase) -> None:
    lines = [
        {"agents": ["leucovorin", "fluorouracil", "oxaliplatin"], "stopped_for": "progression"},
        {"agents": ["leucovorin", "fluorouracil", "irinotecan"], "stopped_for": "progression"},
    ]  # third line: at second line the label's "no satisfactory alternative" keeps T-DXd out (review 13)
    for result, warned in (("ihc2_ish_positive", True), ("ihc3", False)):
        data = _v2(biomarkers={"her2": None, "her2_result": result}, prior={"systemic_lines": lines})
        offered, _ = _outcome(data, kb)
        assert any("outside the label" in w for w in offered["trastuzumab-deruxtecan"].warnings) is warned


def test_grade_3_neuropathy_excludes_oxaliplatin_and_grade_2_warns(kb: KnowledgeBase) -> None:
    offered, excluded = _outcome(_v2(health={"neuropathy_grade": 3}), kb)
    assert "oxaliplatin-severe-neuropathy" in excluded["folfox-bevacizumab"].rules
    assert not any("oxaliplatin" in o.components for o in offered.values())
    offered, _ = _outcome(_v2(health={"neuropathy_grade": 2}), kb)
    assert any("Grade 2 peripheral sensory neuropathy" in w for w in offered["folfox-bevacizumab"].warnings)
    offered, _ = _outcome(_v2(health={"neuropathy_grade": 1}), kb)
    assert not any("neuropathy" in w for w in offered["folfox-bevacizumab"].warnings)


@pytest.mark.parametrize(
    "health,option,words",
    [
        ({"organ_transplant": True}, "pembrolizumab", "rejection of the transplanted organ"),
        ({"autoimmune_disease": True}, "pembrolizumab", "Autoimmune disease"),
        ({"coronary_disease": True}, "folfox-bevacizumab", "Coronary artery disease"),
        ({"bilirubin_raised": True}, "folfiri-bevacizumab", "Raised bilirubin"),
    ],
)
def test_comorbidities_warn_on_the_options_they_concern(
    health: dict[str, Any], option: str, words: str, kb: KnowledgeBase
) -> None:
    msi = {"mmr": "dmmr_msi_h"} if option == "pembrolizumab" else {}
    offered, _ = _outcome(_v2(health=health, biomarkers=msi), kb)
    assert any(words in w for w in offered[option].warnings)
    offered, _ = _outcome(_v2(health=dict.fromkeys(health, False), biomarkers=msi), kb)
    assert not any(words in w for w in offered[option].warnings)
