"""Helpers for the service tests: a real uvicorn server on loopback, JWT minting, prefetch building.

Kept in a test module (not conftest.py, which the lead owns); the service tests import from here.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("jwt")

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa

BUNDLES = Path(__file__).parent / "fhir_bundles"
ISSUER = "https://ehr.example.org"
KID = "test-key-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Any, **options: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread (with these uvicorn `options`, e.g. those
    of `rectoplan.service.transport.uvicorn_options`); yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


class Keys:
    """A key pair (ES384 by default, or RS384), its JWKS file, and a minter of tokens (valid or broken)."""

    def __init__(self, directory: Path, alg: str = "ES384") -> None:
        self.alg = alg
        private: Any
        if alg == "RS384":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        else:
            private = ec.generate_private_key(ec.SECP384R1())
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
        self.private = private
        jwk |= {"kid": KID, "alg": alg, "use": "sig"}
        self.jwks_path = directory / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [jwk]}))

    def token(self, audience: str, **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
        headers = {"kid": KID, "typ": "JWT"} | changes.pop("headers", {})
        key = changes.pop("key", self.private)
        alg = changes.pop("alg", self.alg)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, key, algorithm=alg, headers=headers)


def load_bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLES / f"{name}.json").read_text())
    return data


def prefetch_from(bundle: dict[str, Any]) -> dict[str, Any]:
    """Split a bundle into the service's prefetch keys, as an EHR would send them."""
    resources = [e["resource"] for e in bundle["entry"]]

    def search(*kinds: str) -> dict[str, Any]:
        entries = [{"resource": r} for r in resources if r["resourceType"] in kinds]
        return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}

    patient = next(r for r in resources if r["resourceType"] == "Patient")
    return {
        "patient": patient,
        "conditions": search("Condition"),
        "observations": search("Observation"),
        "medicationRequests": search("MedicationRequest"),
        "medicationAdministrations": search("MedicationAdministration"),
        "medicationStatements": search("MedicationStatement"),
        "procedures": search("Procedure"),
    }


def patient_view(patient_id: str, prefetch: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body | extra
