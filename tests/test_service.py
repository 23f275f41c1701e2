"""The CDS Hooks service over real HTTP on loopback: security, cards, prefetch fallback, /recommend."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_service_support import ISSUER, Keys, load_bundle, patient_view, prefetch_from, running

pytest.importorskip("fastapi")

from fastapi import FastAPI, Request

from rectoplan import api
from rectoplan.service.app import Settings, create_app
from rectoplan.service.models import Discovery, OwnResponse

ANTI_EGFR = {"cetuximab", "panitumumab"}
G12C = {"sotorasib", "adagrasib"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("jwks"))


@pytest.fixture(scope="module")
def secure(keys: Keys, fhir_server: tuple[str, list[str]]) -> Iterator[str]:
    settings = Settings(
        issuers={ISSUER: str(keys.jwks_path)}, allow_http_fhir=True, fhir_servers=((ISSUER, fhir_server[0]),)
    )
    with running(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[tuple[str, list[str]]]:
    """A tiny FHIR R4 server over the rectal KRAS G12C bundle; records the Authorization headers it saw."""
    bundle = load_bundle("rectal_stage4_kras_g12c")
    resources = [e["resource"] for e in bundle["entry"]]
    seen: list[str] = []
    app = FastAPI()

    @app.get("/fhir/{kind}/{ident}")
    def read(kind: str, ident: str, request: Request) -> Any:
        seen.append(request.headers.get("authorization", ""))
        return next(r for r in resources if r["resourceType"] == kind and r["id"] == ident)

    @app.get("/fhir/{kind}")
    def search(kind: str, request: Request) -> Any:
        seen.append(request.headers.get("authorization", ""))
        entries = [{"resource": r} for r in resources if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    with running(app) as url:
        yield url + "/fhir", seen


def call(base: str, path: str, keys: Keys, body: Any = None, **token: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {keys.token(base + path, **token)}"}
    if body is None:
        return httpx.get(base + path, headers=headers, timeout=10)
    return httpx.post(base + path, json=body, headers=headers, timeout=10)


def test_discovery_lists_the_services_with_prefetch(secure: str, keys: Keys) -> None:
    response = call(secure, "/cds-services", keys)
    assert response.status_code == 200
    services = Discovery.model_validate(response.json()).services
    by_id = {s.id: s for s in services}
    assert by_id["rectoplan-options"].hook == "patient-view"
    assert "{{context.patientId}}" in (by_id["rectoplan-options"].prefetch or {})["conditions"]


@pytest.mark.parametrize(
    ("why", "token"),
    [
        ("expired", {"exp": 1_000_000, "iat": 999_000}),
        ("wrong audience", {"aud": "https://elsewhere.example/cds-services"}),
        ("unknown issuer", {"iss": "https://evil.example"}),
        ("no jti", {"jti": None}),
        ("no exp", {"exp": None}),
        ("symmetric algorithm", {"alg": "HS256", "key": "a-shared-secret-of-enough-length-000000"}),
        ("unknown kid", {"headers": {"kid": "another-key"}}),
        ("no iat", {"iat": None}),
    ],
)
def test_bad_tokens_are_refused(secure: str, keys: Keys, why: str, token: dict[str, Any]) -> None:
    response = call(secure, "/cds-services", keys, **token)
    assert response.status_code == 401, why
    assert response.json()["resourceType"] == "OperationOutcome"


def test_missing_unsigned_forged_and_replayed_tokens_are_refused(secure: str, keys: Keys, tmp_path: Path) -> None:
    assert httpx.get(secure + "/cds-services").status_code == 401
    for garbage in ("not-a-jwt", "a.b.c", "e30.e30.", "W10.W10.x"):
        response = httpx.get(secure + "/cds-services", headers={"Authorization": f"Bearer {garbage}"})
        assert response.status_code == 401, garbage
    import jwt

    unsigned = jwt.encode({"iss": ISSUER, "aud": secure + "/cds-services", "exp": 9e9, "jti": "u"}, None, "none")
    assert httpx.get(secure + "/cds-services", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401
    forged = Keys(tmp_path).token(secure + "/cds-services")  # same kid, another key
    assert httpx.get(secure + "/cds-services", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    token = keys.token(secure + "/cds-services")
    first = httpx.get(secure + "/cds-services", headers={"Authorization": f"Bearer {token}"})
    again = httpx.get(secure + "/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert (first.status_code, again.status_code) == (200, 401)
    assert "replay" in again.json()["issue"][0]["diagnostics"]


def test_patient_view_cards_follow_the_recommendation(secure: str, keys: Keys) -> None:
    bundle = load_bundle("rectal_stage4_kras_g12c")
    body = patient_view("ines-rectal-liver", prefetch_from(bundle))
    response = call(secure, "/cds-services/rectoplan-options", keys, body)
    assert response.status_code == 200
    cards = OwnResponse.model_validate(response.json()).cards
    from rectoplan.adapters.fhir_mcode import case_from_bundle

    rec = api.recommend(case_from_bundle(bundle).case)
    excluded = [e.title for e in rec.excluded if not e.held]
    # One plan card first (exclusions inside it, a link to the full plan), then case-level safety warnings only.
    assert [c.summary[:60] for c in cards[1:]] == [w[:60] for w in rec.warnings]
    assert all(c.indicator in ("warning", "critical") for c in cards[1:])
    assert all(c.source.label and (c.source.url or c is cards[0]) for c in cards)
    preferred = cards[0]
    assert preferred.indicator == "info" and rec.options[0].title in preferred.summary
    assert all(title in preferred.detail for title in excluded)
    # KRAS-mutant: no anti-EGFR antibody may be suggested unless combined with a G12C inhibitor.
    for option in rec.options:
        if set(option.components) & ANTI_EGFR:
            assert set(option.components) & G12C
            continue
        assert option.title not in excluded


def test_no_rectal_cancer_gives_no_cards(secure: str, keys: Keys) -> None:
    body = patient_view("carl-colon", prefetch_from(load_bundle("colon_stage4_not_rectal")))
    response = call(secure, "/cds-services/rectoplan-options", keys, body)
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_missing_prefetch_is_fetched_with_the_given_token(
    secure: str, keys: Keys, fhir_server: tuple[str, list[str]]
) -> None:
    base, seen = fhir_server
    seen.clear()
    body = patient_view(
        "ines-rectal-liver",
        None,
        fhirServer=base,
        fhirAuthorization={
            "access_token": "opaque-fhir-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "rectoplan",
        },
    )
    response = call(secure, "/cds-services/rectoplan-options", keys, body)
    assert response.status_code == 200
    assert response.json()["cards"] and any(
        c["summary"].startswith("rectoplan preferred") for c in response.json()["cards"]
    )
    assert seen and set(seen) == {"Bearer opaque-fhir-token"}


def test_unobtainable_prefetch_makes_facts_unknown_and_nothing_usable_answers_412(secure: str, keys: Keys) -> None:
    prefetch = prefetch_from(load_bundle("rectal_stage4_kras_g12c"))
    prefetch["observations"] = None  # the EHR could not prefetch it, and gives no fhirServer
    response = call(secure, "/cds-services/rectoplan-options", keys, patient_view("ines-rectal-liver", prefetch))
    assert response.status_code == 200
    first = response.json()["cards"][0]
    assert first["indicator"] == "warning" and "tumour markers" in first["detail"] and "observations" in first["detail"]
    nothing = {key: None for key in prefetch}
    response = call(secure, "/cds-services/rectoplan-options", keys, patient_view("ines-rectal-liver", nothing))
    assert response.status_code == 412
    issue = response.json()["issue"][0]
    assert "nothing usable" in issue["diagnostics"] and issue["expression"] == ["CDSHooksRequest.prefetch.patient"]


def test_order_select_warns_about_an_excluded_drug(secure: str, keys: Keys) -> None:
    bundle = load_bundle("rectal_stage4_kras_g12c")
    order = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/ines-rectal-liver"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "318341"}]
        },
    }
    body = patient_view("ines-rectal-liver", prefetch_from(bundle), hook="order-select")
    body["context"] |= {
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:0b6f1a4e-1111-4e1e-9000-000000000001", "resource": order}],
        },
    }
    response = call(secure, "/cds-services/rectoplan-order-select", keys, body)
    assert response.status_code == 200
    rec = api.recommend(__import__("rectoplan.adapters.fhir_mcode", fromlist=["x"]).case_from_bundle(bundle).case)
    offered = {c for o in rec.options for c in o.components}
    expect_warning = "cetuximab" not in offered and any(
        "cetuximab" in e.components and not e.held for e in rec.excluded
    )
    warned = [c for c in response.json()["cards"] if "cetuximab" in c["summary"]]
    assert bool(warned) == expect_warning


def test_feedback(secure: str, keys: Keys) -> None:
    ok = {"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-03-01T10:00:00Z"}]}
    assert call(secure, "/cds-services/rectoplan-options/feedback", keys, ok).status_code == 200
    bad = {"feedback": [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-03-01T10:00:00Z"}]}
    response = call(secure, "/cds-services/rectoplan-options/feedback", keys, bad)
    assert response.status_code == 400 and "acceptedSuggestions" in response.text


def test_recommend_endpoint_matches_the_api(secure: str, keys: Keys) -> None:
    from tests.conftest import BASE_CASE

    response = call(secure, "/recommend", keys, BASE_CASE)
    assert response.status_code == 200
    assert response.json() == api.recommend(BASE_CASE).to_dict()
    broken = copy.deepcopy(BASE_CASE) | {"ecog": 7}
    response = call(secure, "/recommend", keys, broken)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["ecog"]


def test_recommend_endpoint_applies_the_json_checks_of_the_cli(secure: str, keys: Keys) -> None:
    url = secure + "/recommend"

    def post(text: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {keys.token(url)}", "Content-Type": "application/json"}
        return httpx.post(url, content=text, headers=headers, timeout=10)

    repeated = post('{"id": "a", "metastases": [{"site": "liver", "count": 2, "count": 3}]}')
    assert repeated.status_code == 400
    assert repeated.json()["issue"][0]["expression"] == ["metastases[0]"]
    assert "the key 'count' twice" in repeated.json()["issue"][0]["diagnostics"]
    deep = post("[" * 5000 + "]" * 5000)
    assert deep.status_code == 400 and "nesting deeper than" in deep.json()["issue"][0]["diagnostics"]
    assert "expected a JSON object" in post("[1, 2]").json()["issue"][0]["diagnostics"]


def test_a_key_given_twice_in_a_hook_request_is_refused(secure: str, keys: Keys) -> None:
    """A prefetched Patient with two birth dates: the parser would keep one; the service names the repetition."""
    import json

    body = patient_view("ines-rectal-liver", prefetch_from(load_bundle("rectal_stage4_kras_g12c")))
    assert body["prefetch"]["patient"]["resourceType"] == "Patient"
    text = json.dumps(body).replace(
        '"resourceType": "Patient"',
        '"resourceType": "Patient", "birthDate": "1950-01-01", "birthDate": "1990-01-01"',
        1,
    )
    url = secure + "/cds-services/rectoplan-options"
    headers = {"Authorization": f"Bearer {keys.token(url)}", "Content-Type": "application/json"}
    response = httpx.post(url, content=text, headers=headers, timeout=10)
    assert response.status_code == 400
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["CDSHooksRequest.prefetch.patient"]
    assert "the key 'birthDate' is given twice" in issue["diagnostics"]
    assert call(secure, "/cds-services/rectoplan-options", keys, body).status_code == 200  # the same, once each


def test_request_size_is_limited(secure: str, keys: Keys) -> None:
    body = patient_view("x", {"patient": {"resourceType": "Patient", "id": "x", "text": {"div": "a" * 3_000_000}}})
    assert call(secure, "/cds-services/rectoplan-options", keys, body).status_code == 413


def test_cors_preflight(secure: str) -> None:
    response = httpx.options(
        secure + "/cds-services",
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] in (
        "*",
        "https://sandbox.cds-hooks.org",
    )


def test_page_shows_the_disclaimer_escaped(secure: str) -> None:
    page = httpx.get(secure + "/")
    assert page.status_code == 200 and "rectoplan" in page.text and "textContent" in page.text
    assert "innerHTML" not in page.text


def test_logs_carry_no_patient_data(keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    bundle = load_bundle("rectal_stage4_kras_g12c")
    with caplog.at_level(logging.DEBUG), running(create_app(Settings(insecure_dev=True))) as url:
        response = httpx.post(
            url + "/cds-services/rectoplan-options", json=patient_view("ines-rectal-liver", prefetch_from(bundle))
        )
    assert response.status_code == 200
    text = caplog.text
    line = next(json.loads(r.getMessage()) for r in caplog.records if r.name == "rectoplan.access")
    assert (line["method"], line["route"], line["hook"], line["status"]) == (
        "POST",
        "/cds-services/rectoplan-options",
        "patient-view",
        200,
    )
    assert isinstance(line["ms"], float) and line["time"].endswith("Z")
    for secret in ("ines-rectal-liver", "1961-06-14", "Ines", "G12C"):
        assert secret not in text


def test_keys_from_a_jwks_url_and_jku_allow_list(keys: Keys) -> None:
    """An issuer whose JWKS is published at a URL: its tokens pass; a jku naming another URL does not."""
    jwks = FastAPI()

    @jwks.get("/jwks.json")
    def published() -> Any:
        import json

        return json.loads(keys.jwks_path.read_text())

    with running(jwks) as jwks_url, running(create_app(Settings(issuers={ISSUER: jwks_url + "/jwks.json"}))) as url:
        good = call(url, "/cds-services", keys, headers={"jku": jwks_url + "/jwks.json"})
        assert good.status_code == 200
        evil = call(url, "/cds-services", keys, headers={"jku": "https://evil.example/jwks.json"})
        assert evil.status_code == 401 and "jku" in evil.json()["issue"][0]["diagnostics"]


def test_an_internal_error_logs_no_patient_data(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import rectoplan.service.hooks as service_app

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("ines-rectal-liver 1961-06-14")

    app = create_app(Settings(insecure_dev=True))
    monkeypatch.setattr(service_app, "case_from_bundle", broken)
    body = patient_view("ines-rectal-liver", prefetch_from(load_bundle("rectal_stage4_kras_g12c")))
    with caplog.at_level(logging.DEBUG), running(app) as url:
        response = httpx.post(url + "/cds-services/rectoplan-options", json=body)
    assert response.status_code == 500 and response.json()["resourceType"] == "OperationOutcome"
    printed = caplog.text + "".join(capfd.readouterr())  # the log and anything the server printed
    assert "KeyError" in caplog.text and "ines-rectal-liver" not in printed and "1961" not in printed


def test_serve_refuses_to_start_without_a_trusted_issuer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import argparse

    from rectoplan.service.command import _issuer, register, serve

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    register(commands, None)
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.insecure_dev) == ("127.0.0.1", 8080, False)
    assert serve(args) == 2 and "--jwt-issuer" in capsys.readouterr().err
    jwks = tmp_path / "jwks.json"
    jwks.write_text("{}")
    assert _issuer(f"https://ehr.example.org={jwks}") == ("https://ehr.example.org", str(jwks))
    with pytest.raises(argparse.ArgumentTypeError):
        _issuer("https://ehr.example.org=/no/such/file.json")


def test_audience_is_the_configured_public_url_not_the_host_header(keys: Keys) -> None:
    settings = Settings(issuers={ISSUER: str(keys.jwks_path)}, public_url="https://cds.example.org")
    with running(create_app(settings)) as url:
        for audience, expected in ((url + "/cds-services", 401), ("https://cds.example.org/cds-services", 200)):
            token = keys.token(audience)
            response = httpx.get(url + "/cds-services", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == expected, audience
