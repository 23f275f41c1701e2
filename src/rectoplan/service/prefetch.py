"""Prefetch templates, and what the service makes of what the EHR sent: read, failed, missing or partial.

The service reads the Patient, their Conditions, the Observations whose codes rectoplan knows (ECOG, TNM
stage group, tumour markers, genomic variants, TMB, bilirubin, creatinine clearance, tumour response),
medication requests, administrations and statements, and procedures. A fact that could not be read must
stay *unknown*, never become "none": a patient who progressed on FOLFOX but whose medication list failed to
load must not be planned as untreated. So every prefetch key ends in one of two states, and
`Gathered.unknown` names each key that could not be read completely, with the reason (shown to the clinician
in a warning card):

- a resource or search Bundle: read (a search Bundle with a `next` link is followed, bounded);
- an OperationOutcome (the EHR's FHIR server failed), an OperationOutcome entry of severity error or
  fatal inside a search Bundle, `null`, or an omitted key: fetched again from `fhirServer` when that is
  allowed (see `fetch.py`), otherwise unknown.

`gather` raises `PrefetchError` (-> 412) only when nothing usable remains: no key could be read at all.

Specimens (`specimens`): a liquid biopsy is a RAS result whose `Observation.specimen` is a plasma Specimen
(`adapters/fhir/liquid.py`), and a prefetch template cannot follow that reference (`_include` is optional
for FHIR servers), so the service asks for the patient's Specimens by a plain search. It is an *optional*
key (`OPTIONAL_KEYS`): when it cannot be read (failed, null, omitted and not fetched), no chart-wide warning
is given, because only the RAS results that name a Specimen depend on it; those are reported on the plan
card and not used (`case_from_bundle(unread_specimens=...)`), so the tumour's RAS status or the liquid
biopsy they would give stays unknown, never read from a plasma result as the tumour's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.parse import OBSERVATION_CODES


def _observation_codes() -> str:
    """Every Observation code the readers parse (`OBSERVATION_CODES`, one list for both), but eGFR, which is
    parsed only to say that it is not creatinine clearance: a code left out here is never fetched, and its
    fact would be unknown in the service though the CLI reads it from the same chart."""
    keys = sorted(OBSERVATION_CODES - set(fc.EGFR_TESTS))
    return ",".join(f"{system}|{code}" for system, code in keys)


PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=" + _observation_codes(),
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "specimens": "Specimen?patient={{context.patientId}}",
}
# Keys whose failure leaves only the facts that depend on them unknown (the mapper reports those), with no
# warning card for the chart: see the module doc.
OPTIONAL_KEYS = frozenset({"specimens"})
# The resource type each key holds (a single resource for `patient`, search Bundles of it for the others).
KEY_TYPES: dict[str, str] = {
    "patient": "Patient",
    "conditions": "Condition",
    "observations": "Observation",
    "medicationRequests": "MedicationRequest",
    "medicationAdministrations": "MedicationAdministration",
    "medicationStatements": "MedicationStatement",
    "procedures": "Procedure",
    "specimens": "Specimen",
}
# What the clinician loses when a key cannot be read (the warning card names these facts as unknown).
KEY_FACTS: dict[str, str] = {
    "patient": "age",
    "conditions": "the rectal cancer diagnosis, metastatic sites and local recurrence",
    "observations": "ECOG performance status, stage, tumour markers (KRAS, NRAS, BRAF, MMR/MSI, HER2, NTRK, RET, "
    "TMB), bilirubin, creatinine clearance and tumour response",
    "medicationRequests": "prior systemic therapy (drugs, lines, why each stopped)",
    "medicationAdministrations": "prior systemic therapy (drugs, lines, why each stopped)",
    "medicationStatements": "prior systemic therapy (drugs, lines, why each stopped)",
    "procedures": "prior surgery, pelvic radiotherapy and days since major surgery",
    "specimens": "whether a KRAS/NRAS result that names its specimen is a liquid biopsy (plasma) or the tumour's",
}


class PrefetchError(Exception):
    """Nothing usable could be had (-> 412 naming `key`)."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(f"prefetch {key!r}: {why}")
        self.key = key


@dataclass
class Gathered:
    """The resources and search Bundles that were read, and each key that could not be read fully."""

    values: list[dict[str, Any]] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)  # key -> why its facts are unknown
    # optional key -> why it could not be read (moved out of `unknown` by `set_aside_optional`)
    unread_optional: dict[str, str] = field(default_factory=dict)
    # key -> the URL to fetch it (or its next page) from, for the keys still to be fetched
    to_fetch: dict[str, str | None] = field(default_factory=dict)


def failure(resource: dict[str, Any]) -> str | None:
    """The diagnostics of an OperationOutcome that reports an error, or None when it reports none."""
    if resource.get("resourceType") != "OperationOutcome":
        return None
    issues = [i for i in resource.get("issue") or [] if isinstance(i, dict)]
    bad = [i for i in issues if i.get("severity") in ("error", "fatal")] or ([] if issues else [{}])
    if not bad:
        return None
    first = bad[0]
    detail = first.get("diagnostics") or (first.get("details") or {}).get("text") or first.get("code") or "no detail"
    return str(detail)[:160]


def next_link(bundle: dict[str, Any]) -> str | None:
    """The `next` paging link of a search Bundle, if any."""
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None


def read_bundle(key: str, bundle: dict[str, Any], out: Gathered) -> str | None:
    """Keep a search Bundle's entries (without error OperationOutcomes); return its next page's URL.

    An OperationOutcome entry reporting an error (search mode `outcome`) means the search is incomplete:
    the key is marked unknown, and its matches are still kept (each is a true fact about the patient)."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    kept = []
    for entry in entries:
        why = failure(entry["resource"])
        if why is not None:
            out.unknown.setdefault(key, f"the EHR's FHIR server reported an error in the search: {why}")
        elif entry["resource"].get("resourceType") != "OperationOutcome":
            kept.append(entry)
    out.values.append({k: v for k, v in bundle.items() if k != "entry"} | {"entry": kept})
    return next_link(bundle)


def sort_prefetch(prefetch: dict[str, Any] | None, context: dict[str, Any]) -> Gathered:
    """Read what the EHR prefetched; list in `to_fetch` each key to fetch (again, or its next page)."""
    given = prefetch or {}
    out = Gathered()
    for key in PREFETCH:
        value = given.get(key)
        query = PREFETCH[key].replace("{{context.patientId}}", str(context["patientId"]))
        if key not in given:
            out.unknown[key] = "not prefetched by the EHR"
            out.to_fetch[key] = query
        elif value is None:
            out.unknown[key] = "prefetched as null by the EHR (no data, or the data could not be had)"
            out.to_fetch[key] = query
        elif value.get("resourceType") == "OperationOutcome":  # in place of the data: a failed read
            out.unknown[key] = f"the EHR's FHIR server failed: {failure(value) or 'no detail'}"
            out.to_fetch[key] = query
        elif value.get("resourceType") == "Bundle":
            page = read_bundle(key, value, out)
            if page is not None:
                out.unknown[key] = "only the first page was prefetched (the search has more)"
                out.to_fetch[key] = page
        else:
            out.values.append(value)
    return out


def drop_unneeded_optional(out: Gathered) -> None:
    """Forget the `specimens` key when nothing depends on it: no Observation read names a Specimen that is not
    among the resources read, and no Observations are still to be fetched. Then it is not fetched (no cost,
    no request to the EHR's server for EHRs that do not prefetch it) and nothing is reported about it."""
    if "specimens" not in out.to_fetch or "observations" in out.to_fetch or _names_missing_specimen(out.values):
        return
    del out.to_fetch["specimens"]
    out.unknown.pop("specimens", None)


def _names_missing_specimen(values: list[dict[str, Any]]) -> bool:
    """True when an Observation among `values` (resources and search Bundles) names a Specimen not in them."""
    resources: list[dict[str, Any]] = []
    urls: set[str] = set()
    for value in values:
        if value.get("resourceType") != "Bundle":
            resources.append(value)
            continue
        for entry in value.get("entry") or []:
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                resources.append(entry["resource"])
                if entry["resource"].get("resourceType") == "Specimen" and isinstance(entry.get("fullUrl"), str):
                    urls.add(entry["fullUrl"])
    urls |= {f"Specimen/{r.get('id')}" for r in resources if r.get("resourceType") == "Specimen"}
    for resource in resources:
        specimen = resource.get("specimen") if resource.get("resourceType") == "Observation" else None
        target = specimen.get("reference") if isinstance(specimen, dict) else None
        if isinstance(target, str) and target not in urls:
            return True
    return False


def set_aside_optional(out: Gathered) -> None:
    """Move the optional keys that could not be read (after the fallback fetch) from `unknown`, which makes
    the chart-wide warning card, to `unread_optional`, which the mapper reads (see the module doc)."""
    for key in OPTIONAL_KEYS & set(out.unknown):
        out.unread_optional[key] = out.unknown.pop(key)


def check_nothing_usable(out: Gathered) -> None:
    """412 when no key at all could be read: there is nothing to base an answer on (the optional keys alone
    are not a chart)."""
    required = set(PREFETCH) - OPTIONAL_KEYS
    if required <= set(out.unknown):
        key = next(iter(PREFETCH))
        raise PrefetchError(key, f"no prefetch key could be read ({out.unknown[key]}); nothing usable remains")
