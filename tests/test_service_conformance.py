"""Conformance against the FHIR test-case collection's CDS Hooks instances and the reference validator.

Every request in tests/fixtures/cds-hooks/validator/ (a copy of the shared fixtures) is sent to the running
service: those the reference validator rejects (an error or fatal issue in outcomes/) must get a 400 naming
a field it flagged; the
good ones a 200. Good requests point `fhirServer` at a local mock FHIR server (a changed copy: the fixtures
name hosts that do not exist here), so the fallback fetch is exercised too. Response and discovery
fixtures are checked against the card model the service uses for its own responses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import FIXTURES
from tests.test_service_support import running

pytest.importorskip("fastapi")

from fastapi import FastAPI

from rectoplan.service.app import SERVICES, Settings, create_app
from rectoplan.service.models import CdsResponse, Discovery, OwnResponse

CDS_HOOKS = FIXTURES / "cds-hooks"
# The one validator file whose outcome is not named after it.
OUTCOME_NAMES = {"cdshooks-request-order-sign-bad-1": "cdshooks-request-bad-1"}
SERVICE_FOR = {hook: ident for ident, (hook, _, _) in SERVICES.items()}


def verdict(stem: str) -> list[dict[str, Any]] | None:
    """The reference validator's error/fatal issues, or None when it has no outcome for the file."""
    path = CDS_HOOKS / "outcomes" / f"R4.{OUTCOME_NAMES.get(stem, stem)}-logical.json"
    if not path.is_file():
        return None
    issues = json.loads(path.read_text()).get("issue", [])
    return [i for i in issues if i.get("severity") in ("error", "fatal")]


def fixtures(kind: str) -> list[Path]:
    return sorted((CDS_HOOKS / "validator").glob(f"cdshooks-{kind}-*.json"))


@pytest.fixture(scope="module")
def mock_fhir() -> Iterator[str]:
    app = FastAPI()

    @app.get("/fhir/Patient/{ident}")
    def patient(ident: str) -> dict[str, Any]:
        return {"resourceType": "Patient", "id": ident}

    @app.get("/fhir/{kind}")
    def search(kind: str) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}

    with running(app) as url:
        yield url + "/fhir"


@pytest.fixture(scope="module")
def service(mock_fhir: str) -> Iterator[str]:
    with running(create_app(Settings(insecure_dev=True, fhir_servers=(("*", mock_fhir),)))) as url:
        yield url


def test_every_request_fixture_has_a_verdict() -> None:
    files = fixtures("request")
    assert len(files) >= 8
    missing = [f.name for f in files if verdict(f.stem) is None and "bad" not in f.stem]
    assert missing == []


@pytest.mark.parametrize("path", fixtures("request"), ids=lambda p: p.stem)
def test_request_fixture(path: Path, service: str, mock_fhir: str) -> None:
    body = json.loads(path.read_text())
    errors = verdict(path.stem)
    bad = bool(errors) or errors is None  # a 'bad' file without an outcome is bad by its name
    if not bad:
        body = copy.deepcopy(body) | {"fhirServer": mock_fhir}
    response = httpx.post(f"{service}/cds-services/{SERVICE_FOR[body['hook']]}", json=body, timeout=20)
    if not bad:
        assert response.status_code == 200, response.text
        OwnResponse.model_validate(response.json())
        return
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    text = " ".join(i["diagnostics"] for i in outcome["issue"])
    flagged = {seg.split("/")[0].split("[")[0] for i in errors or [] for seg in i["expression"][0].split(".")[1:3]}
    named = {f for f in flagged if f and f in text}
    assert named, f"none of the flagged fields {sorted(flagged)} is named in: {text}"


@pytest.mark.parametrize("path", fixtures("response"), ids=lambda p: p.stem)
def test_response_fixture_against_the_card_model(path: Path) -> None:
    errors = verdict(path.stem)
    data = json.loads(path.read_text())
    if errors is None:  # 'empty-bad' / 'empty-good' have no reference verdict: judge by name
        errors = [{"name": path.stem}] if path.stem.endswith("bad") else []
    if errors:
        with pytest.raises(ValidationError):
            CdsResponse.model_validate(data)
            _suggestion_resources_have_ids(data)
    else:
        CdsResponse.model_validate(data)


def _suggestion_resources_have_ids(data: dict[str, Any]) -> None:
    """The reference also requires an id on a resource in an update action (not a card-model rule)."""
    for card in data.get("cards", []):
        for suggestion in card.get("suggestions") or []:
            for action in suggestion.get("actions") or []:
                if action.get("type") == "update" and "id" not in (action.get("resource") or {}):
                    raise ValidationError.from_exception_data("resource id", [])


@pytest.mark.parametrize("path", fixtures("services"), ids=lambda p: p.stem)
def test_discovery_fixture(path: Path) -> None:
    Discovery.model_validate(json.loads(path.read_text()))  # extensions are tolerated on discovery
