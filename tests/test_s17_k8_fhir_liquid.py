"""Stop 17 (K8): a liquid-biopsy RAS result from FHIR reaches `biomarkers.liquid_ras` and its date.

Before this stop the FHIR reader had no liquid biopsy at all: a KRAS result on a plasma specimen was read as
the tumour's KRAS status (so a newer ctDNA "KRAS absent" overrode a tissue KRAS mutation), and its date never
reached `biomarkers.liquid_ras_date`, which the JSON path turns into the biopsy's age and its timing against
the last anti-EGFR course (CHRONOS). See `rectoplan.adapters.fhir.liquid` for the reading.

Fixture `tests/fixtures/s17-k8-fhir/rectal-liquid-biopsy.json`: stop 12's `rectal-response-courses` (FOLFOX +
cetuximab stopped 2025-06-30, FOLFIRI + bevacizumab running, Bundle.timestamp 2026-11-20) plus a tissue
KRAS/NRAS "absent" result (no specimen: the tumour's), a plasma ctDNA KRAS G12D of 2025-01-15, a whole-blood
KRAS "absent" of 2026-09-01, and a plasma ctDNA KRAS/NRAS "absent" of 2026-10-01. The specimen codes are those
of `fhir_codes.BLOOD_SPECIMENS` (v2-0487 PLAS, BLD; SNOMED 119361006), each seen in a public source (cited there).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.test_service_support import patient_view, prefetch_from, running

pytest.importorskip("fhir.resources")

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.parse import shared_parses
from rectoplan.adapters.fhir_mcode import case_from_bundle
from rectoplan.api import validate_case
from rectoplan.core.facts import case_facts
from rectoplan.kb.loader import default_knowledge

BUNDLE = FIXTURES / "s17-k8-fhir" / "rectal-liquid-biopsy.json"
PATIENT = "response-courses-patient"


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE.read_text())
    return data


def resource(bundle: dict[str, Any], ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == ident)
    return found


def without(bundle: dict[str, Any], *ids: str) -> dict[str, Any]:
    bundle = copy.deepcopy(bundle)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in ids]
    return bundle


def facts(case: dict[str, Any]) -> dict[str, Any]:
    kb = default_knowledge()
    return dict(case_facts(validate_case(case, kb), kb.resistance_class, kb.drug_classes))


def test_the_latest_plasma_result_gives_liquid_ras_and_its_date() -> None:
    result = case_from_bundle(load())
    markers = result.case["biomarkers"]
    assert markers["liquid_ras"] == "wild_type" and markers["liquid_ras_date"] == "2026-10-01"
    assert result.case["format"] == "rectoplan.case/2" and result.case["as_of"] == "2026-11-20"
    assert result.provenance["biomarkers.liquid_ras_date"] == "Observation/ctdna-ras-2026-10"
    assert (
        "superseded by the more recent liquid biopsy of 2026-10-01" in result.ignored["Observation/ctdna-kras-2025-01"]
    )
    assert "Specimen/plasma-2026-10" in result.used and "Specimen/plasma-2026-10" not in result.ignored


def test_the_date_reaches_the_derived_timing_against_the_courses() -> None:
    derived = facts(case_from_bundle(load()).case)
    assert derived["biomarkers.liquid_ras_months"] == 1
    assert derived["biomarkers.liquid_ras_after_anti_egfr"] is True  # cetuximab ended 2025-06-30
    assert derived["biomarkers.liquid_ras_after_last_line"] is False  # FOLFIRI + bevacizumab still running


def test_plasma_results_are_not_the_tumours_ras_status() -> None:
    """The 2025 ctDNA KRAS G12D does not make the tumour KRAS mutant, and a tissue result stays the tumour's."""
    case = case_from_bundle(without(load(), "ctdna-ras-2026-10", "tissue-ras-absent")).case
    assert "kras" not in case.get("biomarkers", {})
    assert case["biomarkers"]["liquid_ras"] == "mutant" and case["biomarkers"]["liquid_ras_date"] == "2025-01-15"
    tissue = case_from_bundle(load()).case["biomarkers"]
    assert tissue["kras"] == "wild_type" and tissue["nras"] == "wild_type"


def test_without_the_specimen_the_result_is_read_as_before() -> None:
    """A specimen that is not in the bundle cannot be told from tissue: the result is read as the tumour's."""
    case = case_from_bundle(without(load(), "plasma-2025-01", "plasma-2026-10", "whole-blood-2026-09")).case
    assert "liquid_ras" not in case["biomarkers"]
    assert case["biomarkers"]["kras"] == "wild_type"  # the newest dated KRAS result, as before this stop


def test_a_whole_blood_result_is_reported_and_not_used() -> None:
    result = case_from_bundle(load())
    [issue] = [p for p in result.issues if p.path == "Observation/blood-kras-2026-09"]
    assert "a KRAS result on a whole blood specimen (Specimen/whole-blood-2026-09" in issue.found
    assert "liquid biopsy on plasma" in issue.expected and "not used" in issue.expected


def test_one_gene_wild_type_leaves_liquid_ras_unknown() -> None:
    bundle = load()
    ctdna = resource(bundle, "ctdna-ras-2026-10")
    ctdna["component"] = [
        c for c in ctdna["component"] if c["valueCodeableConcept"]["coding"][0]["code"] != "HGNC:7989"
    ]
    result = case_from_bundle(bundle)
    assert "liquid_ras" not in result.case["biomarkers"]
    assert any("reporting KRAS wild type only" in p.found for p in result.issues)


def test_a_mutation_on_the_latest_day_wins() -> None:
    bundle = load()
    resource(bundle, "ctdna-kras-2025-01")["effectiveDateTime"] = "2026-10-01"
    assert case_from_bundle(bundle).case["biomarkers"]["liquid_ras"] == "mutant"


def test_an_undated_liquid_biopsy_is_reported() -> None:
    bundle = without(load(), "ctdna-kras-2025-01")
    del resource(bundle, "ctdna-ras-2026-10")["effectiveDateTime"]
    result = case_from_bundle(bundle)
    assert "liquid_ras" not in result.case["biomarkers"]
    assert any(p.path == "Observation/ctdna-ras-2026-10" and "undated" in p.found for p in result.issues)


def test_a_liquid_biopsy_after_the_case_date_is_reported_not_read() -> None:
    result = case_from_bundle(load(), today=date(2026, 9, 15))
    assert result.case["biomarkers"]["liquid_ras_date"] == "2025-01-15"  # the 2026-10-01 one is after 2026-09-15
    assert any(p.path == "Observation/ctdna-ras-2026-10" and "after the case date" in p.found for p in result.issues)


def test_without_courses_the_case_date_is_still_given() -> None:
    """`liquid_ras_date` needs `as_of` (the JSON path refuses one without the other)."""
    meds = [e["resource"]["id"] for e in load()["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    case = case_from_bundle(without(load(), *meds)).case
    assert case["as_of"] == "2026-11-20" and case["biomarkers"]["liquid_ras_date"] == "2026-10-01"
    validate_case(case)


def test_the_lean_models_read_the_fixture_as_the_full_ones() -> None:
    full = case_from_bundle(load())
    with shared_parses():
        lean = case_from_bundle(load())
    assert lean.case == full.case and lean.provenance == full.provenance
    assert [p.message() for p in lean.issues] == [p.message() for p in full.issues]


# -- the CDS Hooks service: Specimens sent with the observations (as a search with _include would) ----------


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    pytest.importorskip("fastapi")
    from rectoplan.service.app import Settings, create_app

    with running(create_app(Settings(insecure_dev=True))) as url:
        yield url


def linked_case(base: str, prefetch: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{base}/cds-services/rectoplan-options", json=patient_view(PATIENT, prefetch), timeout=20)
    assert response.status_code == 200, response.text
    plan = response.json()["cards"][0]
    encoded = plan["links"][0]["url"].split("case=", 1)[1]
    case: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return case


def test_the_service_reads_the_liquid_biopsy_when_its_specimen_is_sent(service: str) -> None:
    bundle = load()
    prefetch = prefetch_from(bundle)
    specimens = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Specimen"]
    prefetch["observations"]["entry"] += [{"resource": e["resource"], "search": {"mode": "include"}} for e in specimens]
    case = linked_case(service, prefetch)
    assert case["biomarkers"]["liquid_ras"] == "wild_type" and case["biomarkers"]["liquid_ras_date"] == "2026-10-01"


def test_the_service_without_specimens_reads_no_liquid_biopsy(service: str) -> None:
    case = linked_case(service, prefetch_from(load()))  # the prefetch templates ask for no Specimen
    assert "liquid_ras" not in case.get("biomarkers", {})


# -- every blood specimen code of the table: it names a source, and it is read as listed -------------------


@pytest.mark.parametrize("key", list(fc.BLOOD_SPECIMENS), ids=lambda k: f"{k[0].rsplit('/', 1)[-1]}-{k[1]}")
def test_blood_specimen_code(key: tuple[str, str]) -> None:
    entry = fc.BLOOD_SPECIMENS[key]
    assert entry.source in fc.SOURCES and entry.meaning
    bundle = without(load(), "ctdna-kras-2025-01", "blood-kras-2026-09")
    resource(bundle, "plasma-2026-10")["type"] = {"coding": [{"system": key[0], "code": key[1]}]}
    result = case_from_bundle(bundle)
    if entry.meaning == "plasma":
        assert result.case["biomarkers"]["liquid_ras_date"] == "2026-10-01"
    else:
        assert "liquid_ras" not in result.case["biomarkers"]
        assert any(p.path == "Observation/ctdna-ras-2026-10" and entry.meaning in p.found for p in result.issues)


def test_a_liquid_biopsy_of_the_case_dates_evening_behind_utc_is_that_day() -> None:
    """Taken 2026-11-20 at 23:30 in New York (2026-11-21 in UTC): dated 2026-11-20, the case date, which the
    JSON path accepts (a date after as_of would be an input error there)."""
    bundle = load()
    resource(bundle, "ctdna-ras-2026-10")["effectiveDateTime"] = "2026-11-20T23:30:00-05:00"
    case = case_from_bundle(bundle).case
    assert case["biomarkers"]["liquid_ras_date"] == "2026-11-20" and case["as_of"] == "2026-11-20"
    assert facts(case)["biomarkers.liquid_ras_months"] == 0
