"""Stop 18: the CDS Hooks service asks for the Specimens that a liquid biopsy's reading needs.

Why: stop 17 read a KRAS/NRAS result on a plasma Specimen as a liquid biopsy (`adapters/fhir/liquid.py`),
but the service's prefetch templates and its fallback queries asked for no Specimen, so in the service a
plasma ctDNA result was read as the tumour's RAS status: a newer ctDNA "KRAS absent" then made a tumour
with a KRAS mutation in an older plasma result wild type, the favourable reading. Now the templates ask
for `Specimen?patient=...` (an optional key, fetched from fhirServer when missing and needed), and when the
Specimens cannot be read each RAS result naming one is reported and not used: unknown, never the tumour's.

Fixture: stop 17's `tests/fixtures/s17-k8-fhir/rectal-liquid-biopsy.json` without its tissue RAS result, so
every RAS result in it names a blood Specimen (plasma ctDNA KRAS G12D 2025-01-15, whole blood 2026-09-01,
plasma KRAS/NRAS absent 2026-10-01). The fake FHIR server listens on loopback only.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.test_service_support import patient_view, prefetch_from, running

pytest.importorskip("fhir.resources")
pytest.importorskip("fastapi")

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rectoplan.adapters.fhir_mcode import case_from_bundle
from rectoplan.service.app import Settings, create_app
from rectoplan.service.prefetch import KEY_TYPES, OPTIONAL_KEYS, PREFETCH, Gathered, drop_unneeded_optional

PATIENT = "response-courses-patient"
TISSUE = "tissue-ras-absent"


def chart() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((FIXTURES / "s17-k8-fhir" / "rectal-liquid-biopsy.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != TISSUE]
    return bundle


def specimens() -> list[dict[str, Any]]:
    return [e["resource"] for e in chart()["entry"] if e["resource"]["resourceType"] == "Specimen"]


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


class FakeFhir:
    """A FHIR server over the chart's Specimens (loopback only), recording each query; `mode` 'fail' answers 500."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.mode = "ok"
        self.app = FastAPI()

        @self.app.get("/fhir/Specimen")
        def search(request: Request) -> Any:
            self.seen.append(str(request.url.query))
            if self.mode == "fail":
                outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
                return JSONResponse(outcome, status_code=500)
            return searchset([s for s in specimens() if request.query_params.get("patient") == PATIENT])


@pytest.fixture(scope="module")
def fhir() -> Iterator[tuple[FakeFhir, str]]:
    fake = FakeFhir()
    with running(fake.app) as url:
        yield fake, url + "/fhir"


@pytest.fixture(scope="module")
def service(fhir: tuple[FakeFhir, str]) -> Iterator[str]:
    with running(create_app(Settings(insecure_dev=True, fhir_servers=(("*", fhir[1]),)))) as url:
        yield url


def answer(base: str, prefetch: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{base}/cds-services/rectoplan-options", json=patient_view(PATIENT, prefetch, **extra), timeout=30
    )
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def linked_case(cards: list[dict[str, Any]]) -> dict[str, Any]:
    plan = next(c for c in cards if c.get("links"))
    encoded = plan["links"][0]["url"].split("case=", 1)[1]
    case: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return case


# -- the templates ----------------------------------------------------------------------------------------


def test_the_prefetch_templates_ask_for_the_patients_specimens() -> None:
    assert PREFETCH["specimens"] == "Specimen?patient={{context.patientId}}"
    assert KEY_TYPES["specimens"] == "Specimen" and "specimens" in OPTIONAL_KEYS


def test_discovery_lists_the_specimen_template(service: str) -> None:
    services = httpx.get(f"{service}/cds-services", timeout=10).json()["services"]
    view = next(s for s in services if s["id"] == "rectoplan-options")
    assert view["prefetch"]["specimens"] == "Specimen?patient={{context.patientId}}"


# -- prefetched, fetched, or unread ---------------------------------------------------------------------


def test_prefetched_specimens_make_the_plasma_results_a_liquid_biopsy(service: str) -> None:
    prefetch = prefetch_from(chart()) | {"specimens": searchset(specimens())}
    case = linked_case(answer(service, prefetch))
    assert case["biomarkers"]["liquid_ras"] == "wild_type" and case["biomarkers"]["liquid_ras_date"] == "2026-10-01"
    assert "kras" not in case["biomarkers"]  # a plasma result is not the tumour's


def test_without_the_specimens_a_plasma_result_is_not_read_as_the_tumours(service: str) -> None:
    """Before: the newest plasma 'absent' made the tumour KRAS wild type (the favourable reading)."""
    cards = answer(service, prefetch_from(chart()))  # no `specimens` key, and no fhirServer to fetch it from
    case = linked_case(cards)
    assert "kras" not in case.get("biomarkers", {}) and "nras" not in case.get("biomarkers", {})
    assert "liquid_ras" not in case.get("biomarkers", {})
    detail = next(c for c in cards if c.get("links"))["detail"]
    assert "Observation/ctdna-ras-2026-10" in detail and "Specimen/plasma-2026-10, which could not be read" in detail
    assert "RAS status it would give is left unknown" in detail


def test_a_failed_specimen_prefetch_leaves_the_ras_results_unknown(service: str) -> None:
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    case = linked_case(answer(service, prefetch_from(chart()) | {"specimens": failed}))
    assert not {"kras", "nras", "liquid_ras"} & set(case.get("biomarkers", {}))


def test_missing_specimens_are_fetched_from_the_fhir_server(service: str, fhir: tuple[FakeFhir, str]) -> None:
    fake, url = fhir
    fake.seen.clear()
    case = linked_case(answer(service, prefetch_from(chart()), fhirServer=url))
    assert fake.seen == [f"patient={PATIENT}"]
    assert case["biomarkers"]["liquid_ras"] == "wild_type" and "kras" not in case["biomarkers"]


def test_a_failed_specimen_query_leaves_the_ras_results_unknown(service: str, fhir: tuple[FakeFhir, str]) -> None:
    fake, url = fhir
    fake.mode = "fail"
    try:
        cards = answer(service, prefetch_from(chart()), fhirServer=url)
    finally:
        fake.mode = "ok"
    case = linked_case(cards)
    assert not {"kras", "nras", "liquid_ras"} & set(case.get("biomarkers", {}))
    assert "HTTP 500" in next(c for c in cards if c.get("links"))["detail"]
    assert not any(c["summary"].startswith("Incomplete chart") for c in cards)  # only those results depend on it


def test_a_server_off_the_allow_list_leaves_the_specimens_unread_not_the_call_refused(service: str) -> None:
    """Only the optional key was to be fetched: the call is answered (not 403), and the RAS results unknown."""
    cards = answer(service, prefetch_from(chart()), fhirServer="http://127.0.0.1:9/fhir")
    case = linked_case(cards)
    assert not {"kras", "nras", "liquid_ras"} & set(case.get("biomarkers", {}))
    assert "allow-list" in next(c for c in cards if c.get("links"))["detail"]


def test_no_specimen_query_when_no_result_names_a_specimen(service: str, fhir: tuple[FakeFhir, str]) -> None:
    """An EHR that does not prefetch Specimens costs nothing more, and sees no warning, for such a chart."""
    fake, url = fhir
    fake.seen.clear()
    bundle = chart()
    for entry in bundle["entry"]:
        entry["resource"].pop("specimen", None)
    cards = answer(service, prefetch_from(bundle), fhirServer=url)
    assert fake.seen == [] and not any(c["summary"].startswith("Incomplete chart") for c in cards)


def test_a_specimen_sent_with_the_observations_needs_no_query() -> None:
    got = Gathered(values=[searchset([*specimens(), *(e["resource"] for e in chart()["entry"])])])
    got.to_fetch["specimens"], got.unknown["specimens"] = "Specimen?patient=x", "not prefetched by the EHR"
    drop_unneeded_optional(got)
    assert not got.to_fetch and not got.unknown


# -- the mapper -------------------------------------------------------------------------------------------


def test_the_mapper_reports_each_ras_result_whose_specimen_could_not_be_read() -> None:
    bundle = copy.deepcopy(chart())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Specimen"]
    cli = case_from_bundle(bundle)  # stop 19 (F3): the CLI no longer reads them as the tumour's either
    assert not {"kras", "nras", "liquid_ras"} & set(cli.case.get("biomarkers", {}))
    result = case_from_bundle(bundle, unread_specimens="the EHR's FHIR server failed")
    assert not {"kras", "nras", "liquid_ras"} & set(result.case.get("biomarkers", {}))
    reported = {p.path for p in result.issues if "which could not be read" in p.found}
    assert reported == {
        "Observation/ctdna-kras-2025-01",
        "Observation/blood-kras-2026-09",
        "Observation/ctdna-ras-2026-10",
    }
