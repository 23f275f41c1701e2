"""Fetching what the EHR did not prefetch from its FHIR server: only allowed servers, bounded, on a deadline.

A hook request names `fhirServer` and hands over a bearer token for it; without a check, any caller with
a valid JWT could make the service connect to any host and port (loopback and private ranges included)
and send that token there. So rectoplan fetches only from FHIR base URLs on an allow-list (per trusted
issuer, or for every issuer), compared after normalisation (scheme, host, port, path; no userinfo, query
or `..`), follows paging links only under that same base, never follows redirects, and bounds the work:
pages per key, resources per call, bytes per answer, and one deadline for the whole hook call. What could
not be read within those bounds stays unknown (the answer's warning card says which facts), never "none".
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rectoplan.service.prefetch import KEY_TYPES, Gathered, failure, read_bundle

ANY_ISSUER = "*"


class FhirServerRefused(Exception):
    """fhirServer is not one this service may fetch from (-> 403; the message says why)."""


@dataclass(frozen=True)
class FetchLimits:
    """Bounds of the fallback fetch of one hook call (defaults well under the ~5 s an EHR waits)."""

    deadline_s: float = 3.0
    max_pages: int = 5
    max_resources: int = 2_000
    max_bytes: int = 5_000_000


def normalise(url: str, *, base: bool) -> str | None:
    """`scheme://host:port/path` (lower-case scheme and host, explicit port, no trailing '/'), or None.

    None for anything that is not a plain http(s) URL: userinfo, a fragment, a `..` segment, or (for a
    base) a query, so that no spelling of a URL can pass for an allowed one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None:
        return None
    if parts.fragment or (base and parts.query) or any(seg in ("..", ".") for seg in parts.path.split("/")):
        return None
    port = port or (443 if scheme == "https" else 80)
    path = parts.path.rstrip("/")
    return f"{scheme}://{host}:{port}{path}" + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class AllowList:
    """FHIR base URLs the service may fetch from: issuer (or `*` for any) -> normalised base URLs."""

    bases: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> AllowList:
        bases: dict[str, set[str]] = {}
        for issuer, url in pairs:
            norm = normalise(url, base=True)
            if norm is None:
                raise ValueError(f"FHIR server {url!r}: expected a plain http(s) base URL (no query or userinfo)")
            bases.setdefault(issuer, set()).add(norm)
        return cls({k: frozenset(v) for k, v in bases.items()})

    def allows(self, issuer: str | None, url: str) -> bool:
        norm = normalise(url, base=True)
        allowed = self.bases.get(ANY_ISSUER, frozenset()) | (self.bases.get(issuer, frozenset()) if issuer else set())
        return norm is not None and norm in allowed


def under(base: str, url: str) -> bool:
    """True when `url` (a paging link) lies under the base URL `base` (same origin, path below it)."""
    norm_base, norm = normalise(base, base=True), normalise(url, base=False)
    return norm_base is not None and norm is not None and norm.startswith(norm_base + "/")


async def fetch_missing(out: Gathered, fhir_server: str, base_url: str, token: str | None, limits: FetchLimits) -> None:
    """Fetch every key of `out.to_fetch` from the allowed `fhir_server`, concurrently, within the deadline.

    A key read completely leaves `out.unknown`; one that failed, was cut by a bound or by the deadline
    stays there with the reason; resources read on the way are kept (each is a true fact)."""
    import httpx

    headers = {"Accept": "application/fhir+json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    base = fhir_server.rstrip("/") + "/"
    budget = [limits.max_resources]
    partial: dict[str, Gathered] = {key: Gathered() for key in out.to_fetch}
    timeout = httpx.Timeout(limits.deadline_s)
    async with httpx.AsyncClient(timeout=timeout, headers=headers, follow_redirects=False) as client:
        tasks = {
            asyncio.ensure_future(_fetch_key(client, key, url or base, base, limits, budget, partial[key])): key
            for key, url in out.to_fetch.items()
        }
        _, pending = await asyncio.wait(tasks, timeout=limits.deadline_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    for task, key in tasks.items():
        got = partial[key]
        out.values += got.values
        if task in pending:
            out.unknown[key] = f"the FHIR server did not answer within the {limits.deadline_s:g} s deadline"
        elif task.exception() is not None:
            out.unknown[key] = f"the FHIR server could not be read ({type(task.exception()).__name__})"
        elif (why := task.result()) is not None:
            out.unknown[key] = why
        else:
            out.unknown.pop(key, None)
    out.to_fetch.clear()


async def _fetch_key(
    client: Any, key: str, url: str, base: str, limits: FetchLimits, budget: list[int], into: Gathered
) -> str | None:
    """Read `key` from `url` (following `next` links under `base`); None when read completely, else why not."""
    import httpx

    if not url.startswith(("http://", "https://")):
        url = base + url
    for _ in range(limits.max_pages):
        if not under(base, url):
            return "a paging link leads outside fhirServer (not followed)"
        try:
            status, raw = await _get(client, url, limits.max_bytes)
        except httpx.HTTPError as exc:
            return f"the FHIR server could not be reached ({type(exc).__name__})"
        if raw is None:
            return f"the FHIR server's answer is over {limits.max_bytes} bytes (not read)"
        if key == "patient" and status == 404:
            return None  # no such Patient: nothing to read, and nothing unknown about it
        if status != 200:
            return f"the FHIR server answered HTTP {status}"
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return "the FHIR server answered with something that is not JSON"
        if not isinstance(body, dict):
            return "the FHIR server answered with something that is not a FHIR resource"
        if body.get("resourceType") == "OperationOutcome":
            return f"the FHIR server failed: {failure(body) or 'no detail'}"
        expected = KEY_TYPES[key] if key == "patient" else "Bundle"
        if body.get("resourceType") != expected:
            return f"the FHIR server answered a {str(body.get('resourceType'))[:40]}, expected a {expected}"
        if key == "patient":
            into.values.append(body)
            return None
        budget[0] -= len(body.get("entry") or [])
        if budget[0] < 0:
            return f"the search returned more than {limits.max_resources} resources (not read)"
        page = read_bundle(key, body, into)
        if key in into.unknown:
            return into.unknown[key]
        if page is None:
            return None
        url = page
    return f"the search has more than {limits.max_pages} pages (the rest not read)"


async def _get(client: Any, url: str, max_bytes: int) -> tuple[int, bytes | None]:
    """(status, body), the body None when it is longer than `max_bytes` (the rest is never read)."""
    async with client.stream("GET", url) as response:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                return response.status_code, None
            chunks.append(chunk)
        return response.status_code, b"".join(chunks)
