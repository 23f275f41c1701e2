"""Stop 19 (F3): a RAS result naming a Specimen that is not in the bundle is not the tumour's, in the CLI too.

Why (known issue: "the CLI reads an unresolved Specimen RAS result as the tumour's"): stop 18 left such a
result unused only when the service said its Specimens could not be read (`unread_specimens`); a bundle given
to `rectoplan recommend` without its Specimens had each plasma result read as the tumour's. A newer ctDNA
"KRAS/NRAS absent" then overrode an older tissue KRAS mutation (the newest dated result wins), and the
anti-EGFR doublets were offered to a patient whose tumour is KRAS-mutant. Now the result is reported and not
used whatever the caller: its provenance (tumour tissue or a liquid biopsy) cannot be told, so it speaks for
neither; results naming no Specimen, and those on a Specimen of the bundle, read as before.

Fixture: stop 17's tests/fixtures/s17-k8-fhir/rectal-liquid-biopsy.json (tissue RAS result of 2024-12-01 naming
no Specimen; KRAS on plasma 2025-01-15, on whole blood 2026-09-01, KRAS/NRAS absent on plasma 2026-10-01; a
first line with cetuximab), with its tissue result made "KRAS variant present" (KRAS-mutant) where said.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir.parse import shared_parses
from rectoplan.adapters.fhir_mcode import case_from_bundle
from rectoplan.api import recommend, validate_case

BUNDLES = Path(__file__).parent / "fhir_bundles"

TISSUE = "tissue-ras-absent"
NAMING_A_SPECIMEN = {
    "Observation/ctdna-kras-2025-01",
    "Observation/blood-kras-2026-09",
    "Observation/ctdna-ras-2026-10",
}
ANTI_EGFR = ("cetuximab", "panitumumab")


def chart(*, specimens: bool = True, tissue_mutant: bool = False) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((FIXTURES / "s17-k8-fhir" / "rectal-liquid-biopsy.json").read_text())
    if not specimens:
        bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Specimen"]
    if tissue_mutant:
        tissue = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == TISSUE)
        tissue["valueCodeableConcept"] = {"coding": [{"system": "http://loinc.org", "code": "LA9633-4"}]}
        tissue["component"] = tissue["component"][:1]  # KRAS (HGNC:6407) only: a variant present in KRAS
    return bundle


def untreated(specimen: dict[str, Any] | None = None) -> dict[str, Any]:
    """An untreated patient (stop 19's bilirubin fixture without its bilirubin): tissue KRAS variant present
    (2026-04-01, naming no Specimen), BRAF V600E absent, MSI stable, HER2 negative; and a KRAS+NRAS 'absent'
    of 2026-10-01 on Specimen/plasma-2026-10, in the bundle only when `specimen` is given."""
    bundle: dict[str, Any] = json.loads((BUNDLES / "rectal_bilirubin_labs.json").read_text())
    patient = "Patient/bili-labs-patient"
    bundle["entry"] = [e for e in bundle["entry"] if not e["resource"]["id"].startswith("bilirubin")]

    def result(ident: str, loinc: str, answer: str, day: str, **extra: Any) -> dict[str, Any]:
        resource = {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "subject": {"reference": patient},
            "effectiveDateTime": day,
            "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": answer}]},
            **extra,
        }
        return {"fullUrl": f"http://example.org/fhir/Observation/{ident}", "resource": resource}

    bundle["entry"] += [
        result("tissue-kras", "21702-6", "LA9633-4", "2026-04-01"),
        result("tissue-braf", "85299-6", "LA9634-2", "2026-04-01"),
        result("tissue-msi", "81695-9", "LA14122-8", "2026-04-01"),
        result("tissue-her2", "48676-1", "LA6577-6", "2026-04-01"),
        result("ctdna-ras", "81420-2", "LA9634-2", "2026-10-01", specimen={"reference": "Specimen/plasma-2026-10"}),
    ]
    if specimen is not None:
        bundle["entry"].append({"fullUrl": "http://example.org/fhir/Specimen/plasma-2026-10", "resource": specimen})
    return bundle


def anti_egfr_offered(case: dict[str, Any]) -> list[str]:
    return [o.id for o in recommend(validate_case(case)).options if any(d in o.id for d in ANTI_EGFR)]


def test_a_ctdna_absent_without_its_specimen_does_not_open_anti_egfr_for_a_kras_mutant_tumour() -> None:
    """Before: KRAS and NRAS wild type from the newest (plasma) result, and the anti-EGFR doublets preferred."""
    imported = case_from_bundle(untreated())
    assert imported.case["biomarkers"]["kras"] == "mutant" and "nras" not in imported.case["biomarkers"]
    assert imported.provenance["biomarkers.kras"] == "Observation/tissue-kras"
    [problem] = [p for p in imported.issues if p.path == "Observation/ctdna-ras"]
    assert problem.found == "a KRAS/NRAS result on Specimen/plasma-2026-10, which is not in the bundle"
    assert anti_egfr_offered(imported.case) == []


def test_with_its_plasma_specimen_the_same_result_is_the_liquid_biopsy() -> None:
    plasma = {
        "resourceType": "Specimen",
        "id": "plasma-2026-10",
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119361006"}]},
    }
    imported = case_from_bundle(untreated(plasma))
    markers = imported.case["biomarkers"]
    assert markers["kras"] == "mutant" and markers["liquid_ras"] == "wild_type" and imported.issues == []
    assert anti_egfr_offered(imported.case) == []


def test_a_ctdna_absent_without_its_specimen_does_not_make_a_treated_kras_mutant_tumour_wild_type() -> None:
    """Stop 17's chart, after cetuximab: before, KRAS wild type from the newest (plasma) result."""
    imported = case_from_bundle(chart(specimens=False, tissue_mutant=True))
    markers = imported.case["biomarkers"]
    assert markers["kras"] == "mutant" and imported.provenance["biomarkers.kras"] == f"Observation/{TISSUE}"
    assert "liquid_ras" not in markers  # nor a liquid biopsy: the rechallenge needs a verified plasma result
    reported = {p.path for p in imported.issues if "which is not in the bundle" in p.found}
    assert reported == NAMING_A_SPECIMEN
    assert all("left unknown" in p.expected for p in imported.issues if p.path in reported)
    assert anti_egfr_offered(imported.case) == []


def test_without_a_tissue_result_the_tumours_ras_status_stays_unknown() -> None:
    """The stop 18 mapper test's chart: only results naming a Specimen, none of them in the bundle."""
    bundle = chart(specimens=False)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != TISSUE]
    imported = case_from_bundle(bundle)
    assert not {"kras", "nras", "liquid_ras"} & set(imported.case.get("biomarkers", {}))
    rec = recommend(validate_case(imported.case))
    assert not [o.id for o in rec.options if any(d in o.id for d in ANTI_EGFR)]  # no rechallenge either


def test_a_specimen_reference_to_another_kind_of_resource_is_not_a_specimen() -> None:
    bundle = chart(specimens=False, tissue_mutant=True)
    for entry in bundle["entry"]:
        if entry["resource"].get("specimen"):
            entry["resource"]["specimen"] = {"reference": "Condition/mets-liver"}
    imported = case_from_bundle(bundle)
    assert imported.case["biomarkers"]["kras"] == "mutant"
    assert {p.path for p in imported.issues if "which is not a Specimen" in p.found} == NAMING_A_SPECIMEN


def test_with_its_specimens_the_chart_reads_as_before() -> None:
    """Plasma results are the liquid biopsy, the whole-blood one is reported, the tissue result is the tumour's."""
    imported = case_from_bundle(chart(tissue_mutant=True))
    markers = imported.case["biomarkers"]
    assert markers["kras"] == "mutant" and markers["liquid_ras"] == "wild_type"
    assert markers["liquid_ras_date"] == "2026-10-01"
    assert not any("which is not in the bundle" in p.found for p in imported.issues)


def test_the_service_keeps_its_reason_and_its_models_read_it_the_same() -> None:
    bundle = chart(specimens=False, tissue_mutant=True)
    full = case_from_bundle(bundle, unread_specimens="HTTP 500 from the FHIR server")
    with shared_parses():
        thin = case_from_bundle(bundle, unread_specimens="HTTP 500 from the FHIR server")
    assert thin.case == full.case and full.case["biomarkers"]["kras"] == "mutant"
    assert {p.path for p in full.issues if "which could not be read (HTTP 500" in p.found} == NAMING_A_SPECIMEN
    assert [(p.path, p.found) for p in thin.issues] == [(p.path, p.found) for p in full.issues]
