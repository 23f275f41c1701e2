"""Hostile requests against an in-process `rectoplan serve` (loopback only, every loop bounded).

Before authentication: oversized and over-many headers (431), a request head that trickles in (408 and
closed), forged tokens whose algorithm does not fit the key (401, not 500), long-lived and non-numeric
`exp`. Through `fhirServer`: a server off the allow-list (403, nothing fetched, no token sent), paging
without end, a server that drips bytes (one deadline), paging links to another host. And what an
integrator needs to see: CORS on a 413, a 401 that explains the audience, one JSON log line per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_service_support import ISSUER, KID, Keys, running

pytest.importorskip("fastapi")

import contextlib

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from rectoplan.service.app import Settings, create_app
from rectoplan.service.transport import uvicorn_options

SANDBOX = Path(__file__).parent / "fixtures" / "cds-sandbox"
TOKEN = {"access_token": "secret-fhir-token", "token_type": "Bearer", "expires_in": 300, "scope": "x", "subject": "y"}


def omar(fhir_server: str | None, drop: str = "medicationRequests") -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SANDBOX / "omar-request.json").read_text())
    del body["prefetch"][drop]
    body.pop("fhirServer")
    if fhir_server is not None:
        body |= {"fhirServer": fhir_server, "fhirAuthorization": TOKEN}
    return body


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("jwks"))


class Recorder:
    """A FHIR server that records what it was asked; its answers are set per test."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.app = FastAPI()
        self.mode = "ok"

        @self.app.get("/fhir/{kind}")
        async def search(kind: str, page: int = 1, authorization: str = "") -> Any:
            self.seen.append((kind, str(page)))
            if self.mode == "endless":
                return {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "link": [{"relation": "next", "url": f"{self.url}/fhir/{kind}?page={page + 1}"}],
                    "entry": [],
                }
            if self.mode == "elsewhere":
                return {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "link": [{"relation": "next", "url": f"http://127.0.0.2:9/fhir/{kind}"}],
                    "entry": [],
                }
            if self.mode == "drip":

                async def drip() -> AsyncIterator[bytes]:
                    for ch in '{"resourceType": "Bundle", "type": "searchset"}':
                        await asyncio.sleep(0.3)
                        yield ch.encode()

                return StreamingResponse(drip(), media_type="application/fhir+json")
            return {"resourceType": "Bundle", "type": "searchset", "entry": []}

        self.url = ""


@pytest.fixture(scope="module")
def fhir() -> Iterator[Recorder]:
    recorder = Recorder()
    with running(recorder.app) as url:
        recorder.url = url
        yield recorder


def serve(keys: Keys, **settings: Any) -> Any:
    base = Settings(issuers={ISSUER: str(keys.jwks_path)}, allow_http_fhir=True)
    merged = Settings(**(base.__dict__ | settings))
    return running(create_app(merged), **uvicorn_options(merged))


def post(url: str, path: str, keys: Keys, body: Any, **token: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {keys.token(url + path, **token)}"}
    return httpx.post(url + path, json=body, headers=headers, timeout=15)


# --- Server-side request forgery through fhirServer ----------------------------------------------------
def test_a_fhir_server_off_the_allow_list_is_refused_and_never_contacted(keys: Keys, fhir: Recorder) -> None:
    fhir.seen.clear()
    with serve(keys, fhir_servers=(("https://other-issuer.example", fhir.url + "/fhir"),)) as url:
        response = post(url, "/cds-services/rectoplan-options", keys, omar(fhir.url + "/fhir"))
    assert response.status_code == 403 and "allow-list" in response.json()["issue"][0]["diagnostics"]
    assert response.json()["issue"][0]["expression"] == ["CDSHooksRequest.fhirServer"]
    assert fhir.seen == []


@pytest.mark.parametrize(
    "spelling",
    ["http://127.0.0.1:{port}/fhir/../fhir", "http://user@127.0.0.1:{port}/fhir", "http://127.0.0.1:{port}/fhir?x=1"],
)
def test_no_spelling_of_an_allowed_url_passes_for_another(keys: Keys, fhir: Recorder, spelling: str) -> None:
    port = fhir.url.rsplit(":", 1)[1]
    with serve(keys, fhir_servers=(("*", fhir.url + "/fhir"),)) as url:
        response = post(url, "/cds-services/rectoplan-options", keys, omar(spelling.format(port=port)))
    assert response.status_code in (400, 403)


def test_paging_is_bounded_and_the_rest_is_unknown(keys: Keys, fhir: Recorder) -> None:
    fhir.seen.clear()
    fhir.mode = "endless"
    try:
        with serve(keys, fhir_servers=(("*", fhir.url + "/fhir"),), fhir_max_pages=3) as url:
            response = post(url, "/cds-services/rectoplan-options", keys, omar(fhir.url + "/fhir"))
    finally:
        fhir.mode = "ok"
    assert response.status_code == 200
    assert len(fhir.seen) == 3
    first = response.json()["cards"][0]
    assert first["indicator"] == "warning" and "more than 3 pages" in first["detail"]


def test_a_paging_link_to_another_host_is_not_followed(keys: Keys, fhir: Recorder) -> None:
    fhir.mode = "elsewhere"
    try:
        with serve(keys, fhir_servers=(("*", fhir.url + "/fhir"),)) as url:
            response = post(url, "/cds-services/rectoplan-options", keys, omar(fhir.url + "/fhir"))
    finally:
        fhir.mode = "ok"
    assert response.status_code == 200 and "outside fhirServer" in response.json()["cards"][0]["detail"]


def test_one_deadline_bounds_a_dripping_fhir_server(keys: Keys, fhir: Recorder) -> None:
    fhir.mode = "drip"
    try:
        with serve(keys, fhir_servers=(("*", fhir.url + "/fhir"),), fhir_timeout_s=1.0) as url:
            start = time.monotonic()
            response = post(url, "/cds-services/rectoplan-options", keys, omar(fhir.url + "/fhir"))
            took = time.monotonic() - start
    finally:
        fhir.mode = "ok"
    assert response.status_code == 200 and took < 3.0
    assert "deadline" in response.json()["cards"][0]["detail"]


def test_an_allowed_fhir_server_gets_the_token_and_completes_the_chart(keys: Keys, fhir: Recorder) -> None:
    fhir.seen.clear()
    with serve(keys, fhir_servers=((ISSUER, fhir.url + "/fhir"),)) as url:
        response = post(url, "/cds-services/rectoplan-options", keys, omar(fhir.url + "/fhir"))
    assert response.status_code == 200 and fhir.seen == [("MedicationRequest", "1")]
    assert not any(c["summary"].startswith("Incomplete chart") for c in response.json()["cards"])


# --- Tokens -----------------------------------------------------------------------------------------------
def _jwks_with(tmp_path: Path, private: Any, kind: str) -> Path:
    algorithm = jwt.algorithms.RSAAlgorithm if kind == "RSA" else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(private.public_key())) | {"kid": KID}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return path


@pytest.mark.parametrize(("kind", "alg"), [("EC", "RS256"), ("EC", "PS256"), ("RSA", "ES384")])
def test_an_algorithm_that_does_not_fit_the_key_is_401_not_500(tmp_path: Path, kind: str, alg: str) -> None:
    private: Any = ec.generate_private_key(ec.SECP384R1()) if kind == "EC" else rsa.generate_private_key(65537, 2048)
    jwks = _jwks_with(tmp_path, private, kind)
    signer: Any = rsa.generate_private_key(65537, 2048) if alg[0] in "RP" else ec.generate_private_key(ec.SECP384R1())
    with running(create_app(Settings(issuers={ISSUER: str(jwks)}))) as url:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": url + "/cds-services", "exp": now + 60, "iat": now, "jti": "x1"}
        token = jwt.encode(claims, signer, algorithm=alg, headers={"kid": KID})
        response = httpx.get(url + "/cds-services", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("why", "claims"),
    [
        ("year 9999", {"exp": 253402300799}),
        ("an hour", {"exp": int(time.time()) + 3600}),
        ("string exp", {"exp": str(int(time.time()) + 60)}),
    ],
)
def test_long_lived_or_non_numeric_tokens_are_refused(keys: Keys, why: str, claims: dict[str, Any]) -> None:
    with serve(keys) as url:
        headers = {"Authorization": f"Bearer {keys.token(url + '/cds-services', **claims)}"}
        response = httpx.get(url + "/cds-services", headers=headers, timeout=10)
    assert response.status_code == 401, why


def test_a_slow_jwks_url_does_not_block_other_requests(keys: Keys) -> None:
    """The JWKS is fetched off the event loop: /healthz answers at once while a key fetch waits."""
    jwks_app = FastAPI()

    @jwks_app.get("/jwks.json")
    async def slow() -> Any:
        await asyncio.sleep(1.5)
        return json.loads(keys.jwks_path.read_text())

    with running(jwks_app) as jwks_url, running(create_app(Settings(issuers={ISSUER: jwks_url + "/jwks.json"}))) as url:
        import threading

        results: list[int] = []
        token = keys.token(url + "/cds-services")
        waiting = threading.Thread(
            target=lambda: results.append(
                httpx.get(url + "/cds-services", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
            )
        )
        waiting.start()
        time.sleep(0.3)
        start = time.monotonic()
        assert httpx.get(url + "/healthz", timeout=10).status_code == 200
        assert time.monotonic() - start < 0.5
        waiting.join(10)
    assert results == [200]


# --- The HTTP layer ------------------------------------------------------------------------------------
def _raw(url: str, data: bytes, wait: float = 5.0) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


def test_oversized_headers_get_431(keys: Keys) -> None:
    with serve(keys) as url:
        big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * 2_000_000 + b"\r\n\r\n"
        assert _raw(url, big).startswith(b"HTTP/1.1 431")
        many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(500)) + b"\r\n"
        assert _raw(url, many).startswith(b"HTTP/1.1 431")
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200


def test_a_slow_request_head_is_timed_out(keys: Keys) -> None:
    with serve(keys, header_timeout_s=1.0) as url:
        host, port = url.removeprefix("http://").split(":")
        start = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            closed = b""
            for _ in range(10):  # a slowloris: one header byte at a time, forever
                try:
                    sock.sendall(b"X")
                    sock.settimeout(0.4)
                    closed = sock.recv(1024)
                    if closed:
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
        assert time.monotonic() - start < 3.0
        assert closed.startswith(b"HTTP/1.1 408")


def test_a_too_large_body_gets_cors_headers(keys: Keys) -> None:
    with serve(keys, max_body_bytes=1000) as url:
        response = httpx.post(
            url + "/cds-services/rectoplan-options",
            content=b"{" + b" " * 5000 + b"}",
            headers={"Origin": "https://sandbox.cds-hooks.org", "Content-Type": "application/json"},
            timeout=5,
        )
    assert response.status_code == 413 and response.headers.get("access-control-allow-origin")


def test_a_wrong_audience_says_how_to_set_the_public_url(keys: Keys) -> None:
    with serve(keys, public_url="https://cds.example.org") as url:
        response = httpx.get(
            url + "/cds-services", headers={"Authorization": f"Bearer {keys.token(url + '/cds-services')}"}, timeout=5
        )
    assert response.status_code == 401 and "--public-url" in response.json()["issue"][0]["diagnostics"]


def test_every_request_has_one_json_log_line_and_a_401_says_why(keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rectoplan.access"), serve(keys) as url:
        httpx.get(url + "/cds-services", headers={"Authorization": "Bearer not-a-jwt"}, timeout=5)
        post(url, "/cds-services/rectoplan-options", keys, omar(None, drop="procedures"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "rectoplan.access"]
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/cds-services", 401),
        ("/cds-services/rectoplan-options", 200),
    ]
    assert "malformed bearer token" in lines[0]["reason"] and lines[1]["unknown"] == ["procedures"]
    text = caplog.text
    assert "omar" not in text and "not-a-jwt" not in text and "secret" not in text


def test_serve_refuses_plain_http_jwks_and_fhir_servers(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from rectoplan.service.command import register, serve

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"), None)
    args = parser.parse_args(["serve", "--jwt-issuer", "https://ehr.example.org=http://ehr.example.org/jwks.json"])
    assert serve(args) == 2 and "plain http" in capsys.readouterr().err
    args = parser.parse_args(
        [
            "serve",
            "--jwt-issuer",
            "https://ehr.example.org=https://ehr.example.org/jwks.json",
            "--fhir-server",
            "http://fhir.example.org/r4",
        ]
    )
    assert serve(args) == 2 and "plain http" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--fhir-server", "https://fhir.example.org/r4?_format=json"])
