"""`prior.progressed_since_last_line` from FHIR: the latest mCODE CancerDiseaseStatus dated after the end of
the last course, when that course ended without progression (worsened -> true; stable or improved -> false;
otherwise unknown). The stop-12 fixture's first course, made to end as planned and be the last."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir_mcode import case_from_bundle
from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.kb.loader import default_knowledge
from tests.conftest import FIXTURES

SECOND_COURSE = ("irinotecan-2025", "fluorouracil-2025b", "leucovorin-2025b", "bevacizumab-2025", "status-2026-01")
STABLE = {"system": fc.SNOMED, "code": "359746009", "display": "Patient's condition stable (finding)"}
COMPLETED = {"system": fc.SNOMED, "code": "182992009"}  # mCODE termination reason: completed


def one_course(stop: dict[str, str] | None, status_after: dict[str, str] | None) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((FIXTURES / "stop12-fhir" / "rectal-response-courses.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in SECOND_COURSE]
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "MedicationRequest" and stop is not None:
            for ext in res.get("extension", []):
                if ext["url"] == fc.TERMINATION_REASON_URL:
                    ext["valueCodeableConcept"] = {"coding": [stop]}
        if res["id"] == "status-2025-08" and status_after is not None:  # after the course's end (2025-06-30)
            res["valueCodeableConcept"] = {"coding": [status_after]}
    return bundle


def test_stable_after_a_planned_end_is_no_growth_and_frames_the_plan() -> None:
    result = case_from_bundle(one_course(COMPLETED, STABLE))
    assert result.case["prior"]["progressed_since_last_line"] is False
    assert "grown since False" in result.used["Observation/status-2025-08"]
    kb = default_knowledge()
    rec = recommend(validate_case(result.case, kb), kb, what_if=False)
    assert "No progression since the last line stopped" in rec.summary


def test_worsened_after_a_planned_end_is_growth() -> None:
    result = case_from_bundle(one_course(COMPLETED, None))  # the fixture's assessment is 'worsened'
    assert result.case["prior"]["progressed_since_last_line"] is True


def test_nothing_is_read_after_a_course_stopped_for_progression() -> None:
    result = case_from_bundle(one_course(None, STABLE))  # the fixture's course stopped for progression
    assert "progressed_since_last_line" not in result.case["prior"]
    assert "outside every treatment course" in result.ignored["Observation/status-2025-08"]


def test_nothing_is_read_after_adjuvant_therapy() -> None:
    """A relapse after adjuvant therapy is what made the disease advanced: 'no growth since the last line'
    is about lines for advanced disease, so an assessment after an adjuvant course says nothing of it."""
    bundle = one_course(COMPLETED, STABLE)
    for entry in bundle["entry"]:
        for ext in entry["resource"].get("extension", []):
            if ext["url"] == fc.PROCEDURE_INTENT_URL:
                ext["valueCodeableConcept"] = {"coding": [{"system": fc.SNOMED, "code": "373846009"}]}  # adjuvant
    result = case_from_bundle(bundle)
    assert result.case["prior"]["courses"][0]["setting"] == "adjuvant"
    assert "progressed_since_last_line" not in result.case["prior"]
