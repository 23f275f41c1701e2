"""A FHIR read that failed (an OperationOutcome in the bundle) makes facts unknown, and says so.

The CLI and the cohort's bulk reader get FHIR data whose searches may have failed: a search-set Bundle
carries an OperationOutcome entry of severity error, or a bulk export an error file. Dropping it would
read the lost resources as "none" (a patient who progressed on FOLFOX read as untreated)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle

BUNDLES = Path(__file__).parent / "fhir_bundles"
FAILED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "MedicationRequest search timed out"}],
}


def _without_medications(name: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((BUNDLES / f"{name}.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if not e["resource"]["resourceType"].startswith("Medication")]
    bundle["entry"].append({"resource": FAILED, "search": {"mode": "outcome"}})
    return bundle


def test_a_failed_read_in_a_bundle_is_an_issue() -> None:
    imported = case_from_bundle(_without_medications("rectal_recurrent_after_folfox"))
    found = [p for p in imported.issues if "failed FHIR read" in p.found]
    assert found and "MedicationRequest search timed out" in found[0].found
    assert "unknown" in found[0].expected


def test_a_failed_search_in_a_prefetch_bundle_is_kept_as_an_issue() -> None:
    bundle = _without_medications("rectal_recurrent_after_folfox")
    search = {"resourceType": "Bundle", "type": "searchset", "entry": bundle["entry"]}
    imported = case_from_bundle(bundle_of([search]))
    assert any("failed FHIR read" in p.found for p in imported.issues)


def test_an_informational_outcome_is_not_an_issue() -> None:
    bundle = _without_medications("rectal_recurrent_after_folfox")
    bundle["entry"][-1]["resource"] = FAILED | {"issue": [{"severity": "information", "code": "informational"}]}
    assert not any("failed FHIR read" in p.found for p in case_from_bundle(bundle).issues)
