"""The lean FHIR models (the service's hot path) read every chart as the full fhir.resources models do.

The service validates prefetched resources with `rectoplan.adapters.fhir.lean` inside `shared_parses`
(fields rectoplan reads only) instead of the full models (every element). These tests hold the two to the
same case, provenance and accounting on every FHIR fixture there is, check that what rectoplan reads is
still validated (a malformed read field is refused, naming it), and that the lean path is the cheap one.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rectoplan.adapters.fhir import lean
from rectoplan.adapters.fhir_mcode import FhirImport, bundle_of, case_from_bundle, parse_resource, shared_parses
from rectoplan.core.errors import CaseError
from tests.conftest import FIXTURES

pytest.importorskip("fhir.resources")

EXAMPLES = FIXTURES / "mcode-stu4" / "examples"
SYNTHEA = FIXTURES / "synthea"
SANDBOX = FIXTURES / "cds-sandbox"
BUNDLES = Path(__file__).parent / "fhir_bundles"
TODAY = date(2026, 3, 1)
SCT = "http://snomed.info/sct"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def rectal(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "test-rectal-primary",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": SCT, "code": "363351006"}]},
    }


def both(make: Callable[[], FhirImport]) -> tuple[FhirImport | str, FhirImport | str]:
    """(full-model result, lean-model result); a refused bundle gives its error text."""

    def run() -> FhirImport | str:
        try:
            return make()
        except CaseError as exc:
            return str(exc)

    full = run()
    with shared_parses():
        thin = run()
    return full, thin


def assert_same(full: FhirImport | str, thin: FhirImport | str) -> None:
    if isinstance(full, str) or isinstance(thin, str):
        assert full == thin
        return
    assert thin.case == full.case
    assert thin.provenance == full.provenance
    assert thin.used == full.used
    assert thin.ignored == full.ignored
    # a resource the models refuse is an issue either way; the validator's wording may differ
    assert [(p.path, p.expected) for p in thin.issues] == [(p.path, p.expected) for p in full.issues]
    assert [p.found for p in thin.issues if "valid FHIR" not in p.expected] == [
        p.found for p in full.issues if "valid FHIR" not in p.expected
    ]


def single_examples() -> list[Path]:
    return [p for p in sorted(EXAMPLES.glob("*.json")) if not p.name.startswith("Bundle-")]


@pytest.mark.parametrize("path", single_examples(), ids=lambda p: p.stem)
def test_every_mcode_example_reads_the_same(path: Path) -> None:
    resource = load(path)
    subject = (resource.get("subject") or {}).get("reference", "Patient/p")
    patient = resource["id"] if resource["resourceType"] == "Patient" else subject.rsplit("/", 1)[-1]
    assert_same(*both(lambda: case_from_bundle(bundle_of([rectal(patient), resource]), patient, TODAY)))


def bundles() -> list[Path]:
    return sorted(BUNDLES.glob("*.json")) + sorted(EXAMPLES.glob("Bundle-*.json")) + sorted(SYNTHEA.glob("*.json"))


@pytest.mark.parametrize("path", bundles(), ids=lambda p: p.stem)
def test_every_fixture_bundle_reads_the_same(path: Path) -> None:
    data = load(path)
    if data.get("resourceType") != "Bundle" or data.get("type") not in (
        None,
        "collection",
        "searchset",
        "transaction",
        "batch",
        "document",
        "message",
    ):
        pytest.skip("not a FHIR Bundle")
    assert_same(*both(lambda: case_from_bundle(data, today=TODAY)))


@pytest.mark.parametrize("path", sorted(SANDBOX.glob("*request.json")), ids=lambda p: p.stem)
def test_every_sandbox_prefetch_reads_the_same(path: Path) -> None:
    body = load(path)
    values = [v for v in (body.get("prefetch") or {}).values() if isinstance(v, dict)]
    patient = body["context"]["patientId"]
    assert_same(*both(lambda: case_from_bundle(bundle_of(values), patient, TODAY, trusted_shell=True)))


# --- what is read is still validated ------------------------------------------------------------------
OBS = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "89247-1"}]},
    "subject": {"reference": "Patient/p"},
    "effectiveDateTime": "2025-01-02T23:30:00-05:00",
    "valueInteger": 1,
}
MED = {
    "resourceType": "MedicationAdministration",
    "id": "m1",
    "status": "completed",
    "subject": {"reference": "Patient/p"},
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1"}]},
    "effectiveDateTime": "2025-01-02",
}


@pytest.mark.parametrize(
    ("base", "change", "named"),
    [
        ({"resourceType": "Patient", "id": "p"}, {"birthDate": "X2002-09-26"}, "birthDate"),
        ({"resourceType": "Patient", "id": "p"}, {"birthDate": "2002-02-30"}, "birthDate"),
        ({"resourceType": "Patient", "id": "p"}, {"deceasedBoolean": "no"}, "deceasedBoolean"),
        (OBS, {"valueInteger": "1"}, "valueInteger"),
        (OBS, {"valueCodeableConcept": {"text": "one"}}, "value[x]"),
        (OBS, {"valueQuantity": {"value": 1}}, "value[x]"),
        (OBS, {"effectiveDateTime": "2025-01-02T10:00:00"}, "effectiveDateTime"),  # a time needs its zone
        (OBS, {"code": {"coding": "89247-1"}}, "coding"),
        (OBS, {"code": {"coding": [{"system": "http://loinc.org", "code": " 89247-1"}]}}, "code"),
        (OBS, {"status": None}, "status"),
        (OBS, {"issued": "2025-01-02"}, "issued"),  # an instant is a full date and time
        (MED, {"medicationCodeableConcept": ["cetuximab"]}, "medicationCodeableConcept"),
        (MED, {"medicationCodeableConcept": None}, "medication[x]"),
        (MED, {"effectiveDateTime": None}, "effective[x]"),
        (MED, {"subject": None}, "subject"),
    ],
)
def test_a_malformed_field_rectoplan_reads_is_refused(base: dict[str, Any], change: dict[str, Any], named: str) -> None:
    resource = {k: v for k, v in (copy.deepcopy(base) | change).items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        lean.MODELS[resource["resourceType"]].model_validate(resource)
    assert named in str(caught.value)
    with pytest.raises(ValidationError), shared_parses():  # and through the service's parse
        parse_resource(resource)


def test_fields_rectoplan_does_not_read_are_tolerated_and_not_built() -> None:
    resource = OBS | {"note": [{"text": 5}], "performer": "someone"}  # both invalid FHIR, neither read
    model = lean.Observation.model_validate(resource)
    assert not hasattr(model, "note") and model.valueInteger == 1


def test_dates_come_out_as_the_full_models_give_them() -> None:
    full = parse_resource(OBS | {"issued": "2025-01-03T04:30:00.123456789Z"})
    with shared_parses():
        thin = parse_resource(OBS | {"issued": "2025-01-03T04:30:00.123456789Z"})
    assert isinstance(thin, lean.Observation) and not isinstance(full, lean.Observation)
    assert thin.effectiveDateTime == full.effectiveDateTime and thin.effectiveDateTime.utcoffset() is not None
    assert thin.issued == full.issued
    for text in ("2024", "2024-03", "2024-03-01"):
        with shared_parses():
            assert parse_resource({"resourceType": "Patient", "birthDate": text}).birthDate == (
                parse_resource({"resourceType": "Patient", "birthDate": text}).birthDate
            )


def test_the_lean_models_are_the_cheap_path() -> None:
    """A chart's resources validated by the lean models cost a fraction of the full models (issue 13: the
    full models were most of a hook call's CPU). A ratio, measured in one process, so a busy machine slows
    both alike; a new chart every round, so no cache helps either."""
    chart = [r for r in bundle_of([load(BUNDLES / "rectal_stage4_kras_g12c.json")])["entry"]]
    resources = [e["resource"] for e in chart if e["resource"]["resourceType"] in lean.MODELS]

    def cost(lean_path: bool) -> float:
        best = float("inf")
        for round_ in range(5):
            fresh = [r | {"id": f"{r.get('id', 'x')}-{lean_path}-{round_}"} for r in resources]
            start = time.process_time()
            if lean_path:
                with shared_parses():
                    for r in fresh:
                        parse_resource(r)
            else:
                for r in fresh:
                    parse_resource(r)
            best = min(best, time.process_time() - start)
        return best

    assert cost(True) * 4 < cost(False)


CONTRACT2 = ["rectal_adjuvant_capox_relapse", "rectal_ongoing_first_line", "rectal_first_line_progression"]


@pytest.mark.parametrize("name", [*CONTRACT2, "rectal_stoma_tmb_her2"])
def test_contract2_fixtures_read_the_same(name: str) -> None:
    """Courses, dates and the declared fields (periods, intent and termination extensions, quantities and
    reference ranges) are read by the lean models as by the full ones."""
    data = load(BUNDLES / f"{name}.json")
    full, thin = both(lambda: case_from_bundle(data))
    assert_same(full, thin)
    assert not isinstance(thin, str) and thin.case["format"] == "rectoplan.case/2"
    if name in CONTRACT2:
        assert thin.case["prior"]["courses"] and "systemic_lines" not in thin.case["prior"]
