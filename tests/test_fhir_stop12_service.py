"""The CDS Hooks service reads creatinine clearance and tumour response too (issue 11, stop 12).

The service asks the EHR for Observations by code (`prefetch.PREFETCH["observations"]`); a code left out of
that query is never fetched, so its fact is unknown in the service though the CLI reads it from the same
chart (TMB and bilirubin were missing that way). Checked: the query holds every code the readers parse
(but eGFR, parsed only to say it is not creatinine clearance), a prefetched clearance of 25 mL/min keeps
capecitabine out of the plan card, and a fallback fetch from a FHIR server that honours the code filter
(as a real server does) brings the clearance and the course's response.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.test_service_support import patient_view, prefetch_from, running

pytest.importorskip("fastapi")
pytest.importorskip("fhir.resources")

from fastapi import FastAPI, Request

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.parse import OBSERVATION_CODES
from rectoplan.service.app import Settings, create_app
from rectoplan.service.models import OwnResponse
from rectoplan.service.prefetch import PREFETCH

STOP12 = FIXTURES / "stop12-fhir"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((STOP12 / f"{name}.json").read_text())
    return data


def queried_codes() -> set[tuple[str, str]]:
    query = PREFETCH["observations"].split("&code=", 1)[1]
    return {tuple(item.split("|", 1)) for item in query.split(",")}  # type: ignore[misc]


def test_the_observation_query_asks_for_every_code_the_readers_parse() -> None:
    codes = queried_codes()
    assert set(fc.CREATININE_CLEARANCE_TESTS) | set(fc.DISEASE_STATUS_CODES) <= codes
    assert {(fc.TMB_CODE.system, fc.TMB_CODE.code), (fc.BILIRUBIN_TOTAL.system, fc.BILIRUBIN_TOTAL.code)} <= codes
    assert codes == OBSERVATION_CODES - set(fc.EGFR_TESTS)


def plan_detail(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    cards = OwnResponse.model_validate(response.json()).cards
    return str(cards[0].detail)


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[str]:
    """A FHIR server over the creatinine clearance bundle; Observation searches honour `code=system|code,...`."""
    resources = [e["resource"] for e in load("rectal-renal-crcl")["entry"]]
    app = FastAPI()

    @app.get("/fhir/{kind}/{ident}")
    def read(kind: str, ident: str) -> Any:
        return next(r for r in resources if r["resourceType"] == kind and r["id"] == ident)

    @app.get("/fhir/{kind}")
    def search(kind: str, request: Request) -> Any:
        wanted = request.query_params.get("code")
        codes = {tuple(c.split("|", 1)) for c in wanted.split(",")} if wanted else None
        hits = [
            r
            for r in resources
            if r["resourceType"] == kind
            and (codes is None or any((c.get("system"), c.get("code")) in codes for c in r["code"]["coding"]))
        ]
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in hits]}

    with running(app) as url:
        yield url + "/fhir"


@pytest.fixture(scope="module")
def service(fhir_server: str) -> Iterator[str]:
    settings = Settings(insecure_dev=True, fhir_servers=(("*", fhir_server),))
    with running(create_app(settings)) as url:
        yield url


def post(base: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base}/cds-services/rectoplan-options", json=body, timeout=20)


def test_a_prefetched_clearance_of_25_keeps_capecitabine_out_of_the_plan_card(service: str) -> None:
    body = patient_view("renal-crcl-patient", prefetch_from(load("rectal-renal-crcl")))
    detail = plan_detail(post(service, body))
    assert "CAPOX" in detail and "Creatinine clearance below 30" in detail


def test_without_the_clearance_the_card_does_not_exclude_capecitabine_for_it(service: str) -> None:
    bundle = load("rectal-renal-crcl")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "crcl-cockcroft-gault"]
    detail = plan_detail(post(service, patient_view("renal-crcl-patient", prefetch_from(bundle))))
    assert "Creatinine clearance below 30" not in detail


def test_observations_fetched_by_the_code_query_bring_the_clearance(service: str, fhir_server: str) -> None:
    prefetch = prefetch_from(load("rectal-renal-crcl"))
    del prefetch["observations"]  # not prefetched: fetched from fhirServer with the template's code filter
    body = patient_view("renal-crcl-patient", prefetch, fhirServer=fhir_server)
    detail = plan_detail(post(service, body))
    assert "Creatinine clearance below 30" in detail
