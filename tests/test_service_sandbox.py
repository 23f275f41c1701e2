"""Replays of the official CDS Hooks sandbox's own requests, and the variants a real EHR produces.

The requests in tests/fixtures/cds-sandbox/ were captured from the sandbox (see its README). From them:
a prefetch key that is an OperationOutcome (the EHR's FHIR server failed), `null`, omitted, a search with
an error entry, or paged; a value of the wrong resource type; the sandbox's order-select / order-sign
calls with their invalid-but-real draftOrders. A fact that could not be read must be unknown and said
so in a warning card, never read as "none" (a patient who progressed on FOLFOX planned as untreated).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_service_support import running

pytest.importorskip("fastapi")

from fastapi import FastAPI, Request

from rectoplan.service.app import Settings, create_app
from rectoplan.service.models import OwnResponse

SANDBOX = Path(__file__).parent / "fixtures" / "cds-sandbox"
FAILED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "database timeout"}],
}


def sandbox(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SANDBOX / f"{name}.json").read_text())
    return data


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with running(create_app(Settings(insecure_dev=True))) as url:
        yield url


def post(base: str, body: dict[str, Any], service_id: str = "rectoplan-options") -> httpx.Response:
    return httpx.post(f"{base}/cds-services/{service_id}", json=body, timeout=20)


def cards(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    OwnResponse.model_validate(response.json())
    found: list[dict[str, Any]] = response.json()["cards"]
    return found


def offline(body: dict[str, Any]) -> dict[str, Any]:
    """The request without its fhirServer (the sandbox's test server is not running)."""
    return {k: v for k, v in body.items() if k != "fhirServer"}


@pytest.mark.parametrize("name", ["ines-request", "omar-request", "pv-request"])
def test_patient_view_replays_answer_without_an_unknown_warning(service: str, name: str) -> None:
    found = cards(post(service, sandbox(name)))
    assert not any(c["summary"].startswith("Incomplete chart") for c in found)


def test_omar_progressed_on_folfox_is_not_planned_as_untreated(service: str) -> None:
    found = cards(post(service, sandbox("omar-request")))
    assert found and "FOLFOX" not in found[0]["summary"].split("preferred:")[-1]


@pytest.mark.parametrize(
    ("why", "value"),
    [("an OperationOutcome", FAILED), ("null", None), ("omitted", "omit")],
)
def test_unread_medications_are_unknown_and_said_so(service: str, why: str, value: Any) -> None:
    body = offline(sandbox("omar-request"))
    if value == "omit":
        del body["prefetch"]["medicationRequests"]
    else:
        body["prefetch"]["medicationRequests"] = value
    found = cards(post(service, body))
    first = found[0]
    assert first["indicator"] == "warning" and first["summary"].startswith("Incomplete chart"), why
    assert "prior systemic therapy" in first["detail"] and "medicationRequests" in first["detail"]
    if value is FAILED:
        assert "database timeout" in first["detail"]
    assert all("Computed with incomplete data" in c["detail"] for c in found[1:])


def test_an_error_entry_in_a_search_makes_the_key_unknown(service: str) -> None:
    body = offline(sandbox("omar-request"))
    body["prefetch"]["medicationRequests"]["entry"].append({"resource": FAILED, "search": {"mode": "outcome"}})
    first = cards(post(service, body))[0]
    assert first["summary"].startswith("Incomplete chart") and "database timeout" in first["detail"]


def test_unread_conditions_give_a_warning_card_not_silence(service: str) -> None:
    body = offline(sandbox("omar-request"))
    body["prefetch"]["conditions"] = FAILED
    (card,) = cards(post(service, body))
    assert card["indicator"] == "warning" and "cannot assess" in card["summary"]
    assert "diagnosis" in card["detail"]


def test_nothing_usable_answers_412(service: str) -> None:
    body = offline(sandbox("omar-request"))
    body["prefetch"] = {key: None for key in body["prefetch"]}
    response = post(service, body)
    assert response.status_code == 412 and response.json()["resourceType"] == "OperationOutcome"


def _split(bundle: dict[str, Any], next_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    first, second = copy.deepcopy(bundle), copy.deepcopy(bundle)
    first["entry"], second["entry"] = bundle["entry"][:1], bundle["entry"][1:]
    first["link"] = [*bundle.get("link", []), {"relation": "next", "url": next_url}]
    return first, second


def test_a_paged_prefetch_is_followed_on_an_allowed_server() -> None:
    body = sandbox("omar-request")
    whole = cards(post_insecure(body))
    page_two: dict[str, Any] = {}
    fhir = FastAPI()

    @fhir.get("/fhir/MedicationRequest")
    def more(request: Request) -> Any:
        return page_two

    with running(fhir) as fhir_url:
        first, page_two_value = _split(
            body["prefetch"]["medicationRequests"], fhir_url + "/fhir/MedicationRequest?page=2"
        )
        page_two.update(page_two_value)
        paged = copy.deepcopy(body) | {"fhirServer": fhir_url + "/fhir"}
        paged["prefetch"]["medicationRequests"] = first
        settings = Settings(insecure_dev=True, fhir_servers=(("*", fhir_url + "/fhir"),))
        with running(create_app(settings)) as url:
            followed = cards(post(url, paged))
    assert [c["summary"] for c in followed] == [c["summary"] for c in whole]
    # Without a server to follow it on, the cut search is unknown, never read as the whole list.
    alone = offline(paged)
    first_card = cards(post_insecure(alone))[0]
    assert first_card["summary"].startswith("Incomplete chart") and "first page" in first_card["detail"]


def post_insecure(body: dict[str, Any]) -> httpx.Response:
    with running(create_app(Settings(insecure_dev=True))) as url:
        return post(url, offline(body))


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("patient", {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, "prefetch.patient"),
        ("conditions", {"resourceType": "Patient", "id": "omar-rectal-recurrence"}, "prefetch.conditions"),
    ],
)
def test_a_prefetch_value_of_the_wrong_type_is_refused(service: str, key: str, value: Any, named: str) -> None:
    body = offline(sandbox("omar-request"))
    body["prefetch"][key] = value
    response = post(service, body)
    assert response.status_code == 400
    assert named in response.json()["issue"][0]["diagnostics"]


def test_a_wrong_resource_in_a_search_is_refused(service: str) -> None:
    body = offline(sandbox("omar-request"))
    body["prefetch"]["conditions"]["entry"].append({"resource": body["prefetch"]["patient"]})
    response = post(service, body)
    assert response.status_code == 400 and "prefetch.conditions.entry[3]" in response.text


@pytest.mark.parametrize(
    ("name", "service_id"),
    [("order-select-request", "rectoplan-order-select"), ("order-sign-request", "rectoplan-order-sign")],
)
def test_the_sandbox_order_hooks_are_answered(service: str, name: str, service_id: str) -> None:
    cards(post(service, sandbox(name), service_id))


def _order(body: dict[str, Any], text: str, coding: list[dict[str, str]]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    resource = body["context"]["draftOrders"]["entry"][0]["resource"]
    resource["medicationCodeableConcept"] = {"text": text, "coding": coding}
    return body


def test_a_cetuximab_order_by_name_gets_one_warning_with_unique_reasons(service: str) -> None:
    """ines is KRAS G12C: cetuximab alone is excluded; the sandbox sends names and codes it does not know."""
    body = _order(sandbox("order-select-request"), "cetuximab 2 MG/ML Injectable Solution", [])
    found = cards(post(service, body, "rectoplan-order-select"))
    warned = [c for c in found if "cetuximab" in c["summary"].lower()]
    assert len(warned) == 1 and warned[0]["indicator"] == "warning"
    reasons = [line for line in warned[0]["detail"].splitlines() if line.startswith("- ")]
    assert reasons and len(reasons) == len(set(reasons))
    assert "fullUrl" in warned[0]["detail"] and "category" in warned[0]["detail"]  # tolerated, reported


def test_the_sandbox_regorafenib_order_is_recognised(service: str) -> None:
    found = cards(post(service, sandbox("order-sign-request"), "rectoplan-order-sign"))
    assert any("regorafenib" in c["summary"].lower() for c in found)


def test_a_non_cancer_drug_order_gets_no_card(service: str) -> None:
    body = _order(sandbox("order-sign-request"), "Ibuprofen 400 MG Oral Tablet", [])
    assert cards(post(service, body, "rectoplan-order-sign")) == []


def test_draft_orders_that_cannot_be_read_are_refused(service: str) -> None:
    body = copy.deepcopy(sandbox("order-sign-request"))
    body["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"] = ["cetuximab"]
    response = post(service, body, "rectoplan-order-sign")
    assert response.status_code == 400 and "medicationCodeableConcept" in response.text
