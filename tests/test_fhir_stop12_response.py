"""Best response of a course from FHIR (issue 11, stop 12): mCODE CancerDiseaseStatus -> `best_response`.

Before this mapping CancerDiseaseStatus observations were "not read by rectoplan": every course from FHIR
had no best response, so `prior.anti_egfr_response` and `prior.last_response` were always unknown. The
reading is conservative: only worsened / stable / undetermined are graded, "improved" (not complete or
partial) leaves the course's best response unknown, and an assessment is attached to a course only when its
reference or its date says which one. Also here: maintenance, which FHIR cannot say (mCODE has no code).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir_mcode import FhirImport, bundle_of, case_from_bundle
from rectoplan.api import validate_case
from rectoplan.core.facts import case_facts
from rectoplan.kb.loader import default_knowledge
from tests.conftest import FIXTURES

STOP12 = FIXTURES / "stop12-fhir"
EXAMPLES = FIXTURES / "mcode-stu4" / "examples"
IMPROVED = {"system": fc.SNOMED, "code": "268910001", "display": "Patient's condition improved (finding)"}
WORSENED = {"system": fc.SNOMED, "code": "271299001", "display": "Patient's condition worsened (finding)"}


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STOP12 / "rectal-response-courses.json").read_text())
    return data


def resource(bundle: dict[str, Any], ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == ident)
    return found


def without(bundle: dict[str, Any], *ids: str) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in ids]
    return bundle


def facts(result: FhirImport) -> dict[str, Any]:
    kb = default_knowledge()
    return dict(case_facts(validate_case(result.case, kb), kb.resistance_class, kb.drug_classes))


def courses(result: FhirImport) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = result.case["prior"]["courses"]
    return found


ALL_STATUSES = ("status-2025-03", "status-2025-06", "status-2025-08", "status-2026-01")


def test_best_response_of_each_course_from_its_assessments() -> None:
    result = case_from_bundle(load())
    first, second = courses(result)
    assert first["agents"] == ["cetuximab", "fluorouracil", "leucovorin", "oxaliplatin"]
    assert first["best_response"] == "stable"  # stable, then worsened at progression: best is stable
    assert second["best_response"] == "stable"  # named by basedOn, and dated within the ongoing course
    assert "best response stable of course 1" in result.used["Observation/status-2025-06"]
    assert "best response stable of course 2" in result.used["Observation/status-2026-01"]
    # the worsening between the courses (a treatment break) is no course's response
    assert "outside every treatment course" in result.ignored["Observation/status-2025-08"]
    f = facts(result)
    assert f["prior.anti_egfr_response"] == "stable" and f["prior.last_response"] == "stable"
    assert result.issues == []


def test_without_assessments_the_responses_stay_unknown() -> None:
    result = case_from_bundle(without(load(), *ALL_STATUSES))
    assert all("best_response" not in c for c in courses(result))
    f = facts(result)
    assert f.get("prior.anti_egfr_response") is None and f.get("prior.last_response") is None


def test_progression_only_is_progression_and_excludes_rechallenge_reasoning() -> None:
    bundle = without(load(), "status-2025-03")
    result = case_from_bundle(bundle)
    assert courses(result)[0]["best_response"] == "progression"
    assert facts(result)["prior.anti_egfr_response"] == "progression"


def test_improved_is_not_graded_and_leaves_the_best_response_unknown() -> None:
    bundle = load()
    resource(bundle, "status-2025-03")["valueCodeableConcept"] = {"coding": [IMPROVED]}
    result = case_from_bundle(bundle)
    assert "best_response" not in courses(result)[0]
    assert courses(result)[1]["best_response"] == "stable"
    by_path = {p.path: p for p in result.issues}
    assert "268910001" in by_path["Observation/status-2025-03"].found
    assert "complete or partial" in by_path["Observation/status-2025-03"].expected
    assert "Observation/status-2025-06" in by_path  # the graded one beside it is not used either
    assert facts(result).get("prior.anti_egfr_response") is None


def test_an_unknown_answer_is_not_graded() -> None:
    bundle = load()
    resource(bundle, "status-2026-01")["valueCodeableConcept"] = {"coding": [{"system": fc.SNOMED, "code": "1"}]}
    result = case_from_bundle(bundle)
    assert "best_response" not in courses(result)[1]
    assert any(p.path == "Observation/status-2026-01" for p in result.issues)


def test_an_assessment_naming_one_course_and_dated_in_another_is_not_attached() -> None:
    bundle = load()
    resource(bundle, "status-2025-06")["basedOn"] = [{"reference": "MedicationRequest/irinotecan-2025"}]
    resource(bundle, "status-2025-06")["valueCodeableConcept"] = {"coding": [WORSENED]}
    result = case_from_bundle(bundle)
    [problem] = [p for p in result.issues if p.path == "Observation/status-2025-06"]
    assert "naming course(s) 2 and dated in 1" in problem.found
    assert courses(result)[1]["best_response"] == "stable"


def test_a_course_without_a_recorded_end_cannot_hold_a_dated_assessment() -> None:
    bundle = load()
    for ident in ("oxaliplatin-2025", "fluorouracil-2025", "leucovorin-2025", "cetuximab-2025"):
        period = resource(bundle, ident)["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]
        period.pop("end")
    result = case_from_bundle(bundle)
    assert "best_response" not in courses(result)[0]
    problem = next(p for p in result.issues if p.path == "Observation/status-2025-03")
    assert "whose end is not recorded" in problem.found


def test_an_undated_assessment_is_reported() -> None:
    bundle = load()
    resource(bundle, "status-2026-01").pop("effectiveDateTime")
    result = case_from_bundle(bundle)
    assert any(p.path == "Observation/status-2026-01" and "undated" in p.found for p in result.issues)


def test_the_stu1_code_is_read_too() -> None:
    bundle = load()
    resource(bundle, "status-2026-01")["code"] = {"coding": [{"system": fc.LOINC, "code": "88040-1"}]}
    assert courses(case_from_bundle(bundle))[1]["best_response"] == "stable"


def test_when_the_history_is_lines_the_assessments_are_reported_not_lost() -> None:
    bundle = load()
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "MedicationRequest":
            entry["resource"]["extension"] = []  # no intent: no setting, so lines
    result = case_from_bundle(bundle)
    assert "systemic_lines" in result.case["prior"]
    problem = next(p for p in result.issues if p.path == "Observation/status-2025-03")
    assert "read as lines" in problem.expected


def test_the_published_mcode_example_without_treatment_is_ignored_with_a_reason() -> None:
    example = json.loads((EXAMPLES / "Observation-cancer-disease-status-improved.json").read_text())
    patient = example["subject"]["reference"].rsplit("/", 1)[-1]
    primary = {
        "resourceType": "Condition",
        "id": "rp",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": fc.SNOMED, "code": "363351006"}]},
    }
    result = case_from_bundle(bundle_of([primary, example]), patient_id=patient)
    assert "no treatment course" in result.ignored[f"Observation/{example['id']}"]


def test_a_status_of_another_cancer_is_not_this_cancers_response() -> None:
    bundle = load()
    breast = json.loads((EXAMPLES / "Condition-primary-cancer-condition-jenny-m.json").read_text())
    breast["subject"] = {"reference": "Patient/response-courses-patient"}
    bundle["entry"].append({"fullUrl": f"http://example.org/fhir/Condition/{breast['id']}", "resource": breast})
    resource(bundle, "status-2026-01")["focus"] = [{"reference": f"Condition/{breast['id']}"}]
    result = case_from_bundle(bundle)
    assert "another cancer" in result.ignored["Observation/status-2026-01"]
    assert "best_response" not in courses(result)[1]


# --- maintenance: no standard code, so a possible maintenance course is reported ---------------------------
def test_mcode_intent_has_no_maintenance_code_and_none_is_mapped() -> None:
    assert "maintenance" not in {c.meaning for c in fc.TREATMENT_INTENTS.values()}


def maintenance_bundle(first_stop: str | None) -> dict[str, Any]:
    """Course 1 as in the fixture but ending without progression (or as given), then capecitabine with
    bevacizumab (a CAIRO3-type maintenance) in place of FOLFIRI + bevacizumab."""
    bundle = copy.deepcopy(load())
    without(bundle, "irinotecan-2025", "fluorouracil-2025b", "leucovorin-2025b", *ALL_STATUSES)
    for ident in ("oxaliplatin-2025", "fluorouracil-2025", "leucovorin-2025", "cetuximab-2025"):
        med = resource(bundle, ident)
        med["extension"] = med["extension"][:1]  # palliative intent, no termination reason
        med["status"] = "completed"
        if first_stop:
            reason = {"coding": [{"system": fc.SNOMED, "code": first_stop}]}
            med["extension"].append({"url": fc.TERMINATION_REASON_URL, "valueCodeableConcept": reason})
            med["status"] = "stopped"
    cape = copy.deepcopy(resource(bundle, "bevacizumab-2025"))
    cape["id"] = "capecitabine-2025"
    cape["medicationCodeableConcept"] = {"coding": [{"system": fc.RXNORM, "code": "194000", "display": "capecitabine"}]}
    bundle["entry"].append({"fullUrl": "http://example.org/fhir/MedicationRequest/capecitabine-2025", "resource": cape})
    return bundle


def test_a_palliative_course_after_one_that_did_not_progress_is_reported_as_possible_maintenance() -> None:
    result = case_from_bundle(maintenance_bundle(None))
    first, second = courses(result)
    assert first["setting"] == second["setting"] == "advanced"  # never guessed as maintenance
    [problem] = [p for p in result.issues if "maintenance" in p.expected]
    assert "bevacizumab, capecitabine" in problem.found and "did not stop for progression" in problem.found
    assert "mCODE has no maintenance intent" in problem.expected


def test_after_progression_the_next_course_is_a_new_line_without_a_report() -> None:
    result = case_from_bundle(maintenance_bundle("266721009"))
    assert [c.get("stopped_for") for c in courses(result)] == ["progression", None]
    assert not [p for p in result.issues if "maintenance" in p.expected]
