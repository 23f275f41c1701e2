"""Contract 2 from FHIR R4 / mCODE STU4: courses with their setting and dates, and the declared fields.

Each fixture in tests/fhir_bundles exercises one mapping; each test checks the case the importer makes
and the recommendation's key effect (issue 11: adjuvant therapy is not a line; an ongoing line is
continued). Before contract 2 the importer gave contract-1 lines and none of these fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle
from rectoplan.api import recommend, validate_case
from rectoplan.core.facts import case_facts
from rectoplan.kb.loader import default_knowledge

BUNDLES = Path(__file__).parent / "fhir_bundles"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLES / f"{name}.json").read_text())
    return data


def facts(case: dict[str, Any]) -> dict[str, Any]:
    kb = default_knowledge()
    return dict(case_facts(validate_case(case, kb), kb.resistance_class, kb.drug_classes))


def test_relapse_18_months_after_adjuvant_capox_is_first_line() -> None:
    result = case_from_bundle(load("rectal_adjuvant_capox_relapse"))
    case = result.case
    assert case["format"] == "rectoplan.case/2" and case["as_of"] == "2026-11-20"
    assert case["advanced_disease_date"] == "2026-10-01"
    assert case["prior"]["courses"] == [
        {
            "agents": ["capecitabine", "oxaliplatin"],
            "setting": "adjuvant",  # curative intent after the resection; capecitabine also says adjuvant
            "status": "completed",
            "start": "2024-10-15",
            "end": "2025-04-01",
        }
    ]
    assert "systemic_lines" not in case["prior"] and result.issues == []
    assert (
        result.provenance["prior.courses[0]"]
        == "MedicationRequest/capecitabine-2024, MedicationRequest/oxaliplatin-2024"
    )
    assert facts(case)["prior.oxaliplatin_free_months"] == 18
    options = {o.id: o for o in recommend(validate_case(case)).options}
    assert options["folfox-bevacizumab"].phase == "first_line"
    assert options["folfoxiri-bevacizumab"].phase == "first_line"


def test_curative_intent_without_a_dated_resection_stays_lines() -> None:
    bundle = load("rectal_adjuvant_capox_relapse")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Procedure"]
    for e in bundle["entry"]:
        e["resource"].pop("category", None)
    result = case_from_bundle(bundle)
    assert "courses" not in result.case["prior"] and "as_of" not in result.case
    assert result.case["prior"]["systemic_lines"][0]["agents"] == ["capecitabine", "oxaliplatin"]
    assert any("setting cannot be told" in p.found for p in result.issues)


def test_ongoing_first_line_with_its_start_is_continued() -> None:
    case = case_from_bundle(load("rectal_ongoing_first_line")).case
    [course] = case["prior"]["courses"]
    assert course == {
        "agents": ["bevacizumab", "fluorouracil", "leucovorin", "oxaliplatin"],
        "setting": "advanced",
        "status": "ongoing",
        "start": "2026-08-03",
    }
    assert facts(case)["prior.months_on_current_line"] == 3
    rec = recommend(validate_case(case))
    assert "Continue the ongoing line" in rec.summary


def test_termination_for_progression_with_a_period() -> None:
    case = case_from_bundle(load("rectal_first_line_progression")).case
    [course] = case["prior"]["courses"]
    assert course["status"] == "stopped" and course["stopped_for"] == "progression"
    assert (course["start"], course["end"]) == ("2025-01-13", "2025-07-21")
    options = {o.id: o for o in recommend(validate_case(case)).options}
    assert options["folfiri-bevacizumab"].phase == "second_line"


def test_stoma_tmb_her2_ihc2_ish_positive_and_bilirubin() -> None:
    result = case_from_bundle(load("rectal_stoma_tmb_her2"))
    case = result.case
    assert case["primary"] == {"stoma": True}
    assert case["biomarkers"]["tmb"] == 12
    assert case["biomarkers"]["her2_result"] == "ihc2_ish_positive" and case["biomarkers"]["her2"] == "positive"
    assert case["health"] == {"bilirubin_raised": True, "bilirubin_over_3_uln": False}  # 2.1, limit 1.2
    assert result.provenance["biomarkers.her2_result"] == "Observation/her2-ihc, Observation/her2-ish"
    assert validate_case(case).value("biomarkers.her2_result") == "ihc2_ish_positive"


def test_her2_ihc2_without_ish_and_bilirubin_without_range_stay_unknown() -> None:
    bundle = load("rectal_stoma_tmb_her2")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "her2-ish"]
    for e in bundle["entry"]:
        e["resource"].pop("referenceRange", None)
    result = case_from_bundle(bundle)
    assert "her2_result" not in result.case["biomarkers"] and "her2" not in result.case["biomarkers"]
    assert "health" not in result.case
    assert any("upper reference limit" in p.found for p in result.issues)


def test_tmb_in_an_unconfirmed_unit_is_reported() -> None:
    bundle = load("rectal_stoma_tmb_her2")
    for e in bundle["entry"]:
        if e["resource"]["id"] == "tmb":
            e["resource"]["valueQuantity"]["code"] = "%"
    result = case_from_bundle(bundle)
    assert "tmb" not in result.case["biomarkers"]
    assert any(p.path == "Observation/tmb" and "unit" in p.found for p in result.issues)


@pytest.mark.parametrize("key", list(fc.TERMINATION_REASONS), ids=lambda k: k[1])
def test_termination_reason_code(key: tuple[str, str]) -> None:
    bundle = load("rectal_first_line_progression")
    for e in bundle["entry"]:
        for ext in e["resource"].get("extension", []):
            if ext["url"] == fc.TERMINATION_REASON_URL:
                ext["valueCodeableConcept"] = {"coding": [{"system": key[0], "code": key[1]}]}
    [course] = case_from_bundle(bundle).case["prior"]["courses"]
    meaning = fc.TERMINATION_REASONS[key].meaning
    if meaning == "completed":
        assert course["status"] == "completed" and "stopped_for" not in course
    else:
        assert course["status"] == "stopped" and course["stopped_for"] == meaning


def test_a_failed_read_leaves_the_history_unknown_not_none() -> None:
    bundle = load("rectal_ongoing_first_line")
    meds = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    others = [e["resource"] for e in bundle["entry"] if e not in meds]
    failed = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "MedicationRequest search timed out"}],
    }
    result = case_from_bundle(bundle_of([*others, failed]), today=None)
    assert "prior" not in result.case  # unknown, never "no prior treatment"
    assert any("failed FHIR read" in p.found for p in result.issues)
