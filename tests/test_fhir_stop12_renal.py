"""Creatinine clearance from FHIR (issue 11, stop 12): `health.creatinine_clearance` from LOINC 35591-7
(Cockcroft-Gault) or 2164-2 (measured), in UCUM mL/min only.

Before this mapping both observations were "not read by rectoplan": a clearance of 25 mL/min left
capecitabine offered and the test `creatinine_clearance` requested. A result in another unit is reported
precisely and never converted; an eGFR (per 1.73 m2) is not creatinine clearance and is never read as one.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan import api
from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir_mcode import FhirImport, case_from_bundle, shared_parses
from rectoplan.core.errors import CaseError
from tests.conftest import FIXTURES

STOP12 = FIXTURES / "stop12-fhir"
CRCL_REF = "Observation/crcl-cockcroft-gault"
EGFR_REF = "Observation/egfr-mdrd"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STOP12 / f"{name}.json").read_text())
    return data


def renal(**change: Any) -> dict[str, Any]:
    """The CrCl bundle with the clearance observation changed (a copy; None removes a key)."""
    bundle = copy.deepcopy(load("rectal-renal-crcl"))
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "crcl-cockcroft-gault")
    for key, value in change.items():
        if value is None:
            obs.pop(key, None)
        else:
            obs[key] = value
    return bundle


def without(bundle: dict[str, Any], *ids: str) -> dict[str, Any]:
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in ids]
    return bundle


def quantity(value: Any, code: str | None, unit: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value, "unit": unit or code or "?"}
    if code is not None:
        q |= {"system": fc.UCUM, "code": code}
    return q


def capecitabine_excluded(result: FhirImport) -> set[str]:
    rec = api.recommend(result.case)
    return {e.id for e in rec.excluded if "capecitabine-severe-renal-impairment" in e.rules}


def test_cockcroft_gault_25_is_read_and_keeps_capecitabine_out() -> None:
    result = case_from_bundle(load("rectal-renal-crcl"))
    assert result.case["health"] == {"creatinine_clearance": 25}
    assert result.case["format"] == "rectoplan.case/2"
    assert result.provenance["health.creatinine_clearance"] == CRCL_REF
    assert "Cockcroft-Gault" in result.used[CRCL_REF] and result.issues == []
    assert {"capecitabine", "capox", "capox-bevacizumab", "capecitabine-bevacizumab"} <= capecitabine_excluded(result)
    rec = api.recommend(result.case)
    assert "creatinine_clearance" not in {t.test for t in rec.tests_needed}
    assert not any(set(o.components) & {"capecitabine"} for o in rec.options)


def test_measured_clearance_80_lets_capecitabine_in() -> None:
    code = {"coding": [{"system": fc.LOINC, "code": "2164-2"}]}
    result = case_from_bundle(renal(code=code, valueQuantity=quantity(80, "mL/min")))
    assert result.case["health"] == {"creatinine_clearance": 80}
    assert "measured" in result.used[CRCL_REF]
    assert capecitabine_excluded(result) == set()
    assert any("capecitabine" in o.components for o in api.recommend(result.case).options)


@pytest.mark.parametrize(
    ("q", "shown"),
    [
        (quantity(25, "mL/min/{1.73_m2}"), "'mL/min/{1.73_m2}'"),
        (quantity(0.42, "mL/s"), "'mL/s'"),
        (quantity(25, None, "ml/min"), "'ml/min'"),  # unit text only, not the UCUM code
        ({"value": 25, "unit": "mL/min", "system": "http://example.org/units", "code": "mL/min"}, "example.org"),
    ],
)
def test_another_unit_is_a_precise_problem_and_the_clearance_stays_unknown(q: dict[str, Any], shown: str) -> None:
    result = case_from_bundle(renal(valueQuantity=q))
    assert "creatinine_clearance" not in result.case.get("health", {})
    [problem] = [p for p in result.issues if p.path == CRCL_REF]
    assert shown in problem.found and str(q["value"]) in problem.found and "35591-7" in problem.found
    assert "UCUM mL/min" in problem.expected and "not converted" in problem.expected
    rec = api.recommend(result.case)
    assert "creatinine_clearance" in {t.test for t in rec.tests_needed}
    assert capecitabine_excluded(result) == set()  # unknown is asked for, not read as a value


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"valueQuantity": None, "valueString": "25"}, "without a numeric value"),
        ({"valueQuantity": quantity(300, "mL/min")}, "300"),
        ({"valueQuantity": quantity(-4, "mL/min")}, "-4"),
    ],
)
def test_a_clearance_that_cannot_be_read_is_reported(change: dict[str, Any], found: str) -> None:
    result = case_from_bundle(renal(**change))
    assert "creatinine_clearance" not in result.case.get("health", {})
    [problem] = [p for p in result.issues if p.path == CRCL_REF]
    assert found in problem.found and "unknown" in problem.expected


def test_no_clearance_leaves_it_unknown_and_requests_the_test() -> None:
    result = case_from_bundle(without(load("rectal-renal-crcl"), "crcl-cockcroft-gault"))
    assert "health" not in result.case
    rec = api.recommend(result.case)
    assert "creatinine_clearance" in {t.test for t in rec.tests_needed}
    # the eGFR on the same day is not creatinine clearance: said, and not read in its place
    assert "not creatinine clearance" in result.ignored[EGFR_REF]
    assert EGFR_REF not in result.provenance.values()


def test_the_newest_dated_clearance_wins() -> None:
    bundle = load("rectal-renal-crcl")
    older = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"]["id"] == "crcl-cockcroft-gault"))
    older["resource"] |= {"id": "crcl-older", "effectiveDateTime": "2026-06-01"}
    older["resource"]["valueQuantity"] = quantity(70, "mL/min")
    older["fullUrl"] = "http://example.org/fhir/Observation/crcl-older"
    bundle["entry"].append(older)
    result = case_from_bundle(bundle)
    assert result.case["health"] == {"creatinine_clearance": 25}
    assert "superseded" in result.ignored["Observation/crcl-older"]


def test_a_preliminary_clearance_is_not_read() -> None:
    result = case_from_bundle(renal(status="preliminary"))
    assert "health" not in result.case and "preliminary" in result.ignored[CRCL_REF]


def test_every_new_code_names_its_source() -> None:
    for table in (fc.CREATININE_CLEARANCE_TESTS, fc.EGFR_TESTS):
        for entry in table.values():
            assert entry.source in fc.SOURCES and entry.meaning
    assert not set(fc.CREATININE_CLEARANCE_TESTS) & set(fc.EGFR_TESTS)


@pytest.mark.parametrize(
    "bundle",
    [
        load("rectal-renal-crcl"),
        load("rectal-response-courses"),
        renal(valueQuantity=quantity(25, "mL/min/{1.73_m2}")),
        without(load("rectal-renal-crcl"), "crcl-cockcroft-gault"),
    ],
    ids=["crcl", "response", "wrong-unit", "egfr-only"],
)
def test_the_service_lean_models_read_these_bundles_as_the_full_models_do(bundle: dict[str, Any]) -> None:
    def run() -> FhirImport | str:
        try:
            return case_from_bundle(bundle, today=date(2026, 11, 20))
        except CaseError as exc:
            return str(exc)

    full = run()
    with shared_parses():
        thin = run()
    assert isinstance(full, FhirImport) and isinstance(thin, FhirImport)
    assert (thin.case, thin.provenance) == (full.case, full.provenance)
    assert (thin.used, thin.ignored) == (full.used, full.ignored)
    assert [p.message() for p in thin.issues] == [p.message() for p in full.issues]
