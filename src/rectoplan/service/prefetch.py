"""Prefetch templates and the fallback that queries the EHR's FHIR server for what the EHR did not send.

The service reads: the Patient, their Conditions, the Observations whose codes rectoplan knows (ECOG,
TNM stage group, tumour markers, genomic variants), medication requests, administrations and statements,
and procedures. A missing or null prefetch key is fetched from `fhirServer` with the given bearer token;
if that cannot be done the caller answers 412 with an OperationOutcome, as CDS Hooks 2.0 requires.
"""

from __future__ import annotations

from typing import Any

from rectoplan.adapters import fhir_codes as fc


def _observation_codes() -> str:
    codes = [fc.ECOG_CODE, fc.GENOMIC_VARIANT, fc.HISTORY_OF_METASTASIS, fc.HISTORY_OF_LIVER_METASTASIS]
    keys = sorted({(c.system, c.code) for c in codes} | set(fc.MARKER_TESTS) | set(fc.STAGE_GROUP_CODES))
    return ",".join(f"{system}|{code}" for system, code in keys)


PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=" + _observation_codes(),
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
}
MAX_PAGES = 20


class PrefetchError(Exception):
    """The data a prefetch key stands for could not be had (-> 412)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"prefetch {key!r}: {why}")
        self.key = key


def _query(template: str, context: dict[str, Any]) -> str:
    return template.replace("{{context.patientId}}", str(context["patientId"]))


async def gather(
    prefetch: dict[str, Any] | None,
    context: dict[str, Any],
    fhir_server: str | None,
    token: str | None,
    allow_http: bool,
    timeout_s: float = 5.0,
) -> list[dict[str, Any]]:
    """Every prefetch value, fetching the missing ones; raises PrefetchError when that is impossible."""
    given = prefetch or {}
    values: list[dict[str, Any]] = []
    missing = [k for k in PREFETCH if not isinstance(given.get(k), dict)]
    values += [v for k, v in given.items() if k in PREFETCH and isinstance(v, dict)]
    if not missing:
        return values
    if fhir_server is None:
        raise PrefetchError(missing[0], "not sent, and no fhirServer was given to query")
    if not fhir_server.startswith("https://") and not allow_http:
        raise PrefetchError(missing[0], "not sent, and fhirServer is not https (refused outside --insecure-dev)")
    import httpx

    headers = {"Accept": "application/fhir+json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    base = fhir_server.rstrip("/") + "/"
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers, follow_redirects=False) as client:
        for key in missing:
            url: str | None = base + _query(PREFETCH[key], context)
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    raise PrefetchError(key, f"the FHIR server could not be reached ({type(exc).__name__})") from None
                if key == "patient" and response.status_code == 404:
                    break
                if response.status_code != 200:
                    raise PrefetchError(key, f"the FHIR server answered HTTP {response.status_code}")
                try:
                    body = response.json()
                except (ValueError, RecursionError):
                    raise PrefetchError(key, "the FHIR server answered with something that is not JSON") from None
                if not isinstance(body, dict):
                    raise PrefetchError(key, "the FHIR server answered with something that is not a resource")
                values.append(body)
                url = next(
                    (link.get("url") for link in body.get("link") or [] if link.get("relation") == "next"),
                    None,
                )
                if url is not None and not str(url).startswith(base):
                    url = None  # never follow a paging link to another host
    return values
