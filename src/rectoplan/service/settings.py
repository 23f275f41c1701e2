"""How the service runs: one frozen dataclass, built by `rectoplan serve` (and by tests and the benchmark).

Every limit a hospital's security review asks about lives here with its default, so that docs/service.md
(Security) and the code cannot drift: request size and time, header size and count, connections, token
lifetime, and where and how much the service may fetch from an EHR's FHIR server.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Settings:
    """How the service runs. `issuers` maps each trusted JWT `iss` to a JWKS file path or URL."""

    insecure_dev: bool = False
    issuers: dict[str, str] = field(default_factory=dict)
    # The base URL the EHR calls, for the JWT `aud`. None (tests only) takes it from the request's Host header,
    # which the caller controls; the `serve` command always sets it.
    public_url: str | None = None
    max_body_bytes: int = 2_000_000
    cors_origins: tuple[str, ...] = ("*",)
    # FHIR base URLs the service may fetch missing prefetch from: (issuer, base URL) pairs, issuer "*" for
    # any trusted issuer (and the only entries used with --insecure-dev, where no issuer is verified).
    fhir_servers: tuple[tuple[str, str], ...] = ()
    fhir_timeout_s: float = 3.0  # one deadline for all of a hook call's fetches
    fhir_max_pages: int = 5  # per prefetch key
    fhir_max_resources: int = 2_000  # per hook call
    fhir_max_bytes: int = 5_000_000  # per FHIR answer
    allow_http_fhir: bool = False
    # With several worker processes: the SQLite file they share as the JWT replay cache (see security.py).
    replay_file: str | None = None
    max_token_lifetime_s: int = 300  # exp - iat; CDS Hooks asks for short-lived tokens
    jwks_cache_s: float = 300.0  # a JWKS fetched from a URL is fresh this long, then refreshed in the background
    jwks_timeout_s: float = 3.0
    # Before authentication (see transport.py): limits of the HTTP layer.
    max_header_bytes: int = 32_768
    max_headers: int = 100
    header_timeout_s: float = 10.0  # the whole request head must arrive within this
    body_timeout_s: float = 15.0  # and the body within this
    limit_concurrency: int = 200  # connections and requests at once, per worker (503 beyond)
    keep_alive_s: int = 5

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data: dict[str, Any] = json.loads(text)
        data["cors_origins"] = tuple(data["cors_origins"])
        data["fhir_servers"] = tuple((str(a), str(b)) for a, b in data["fhir_servers"])
        return cls(**data)
