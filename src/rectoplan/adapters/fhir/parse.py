"""Bundle entries -> fhir.resources R4B models, and loose resources -> one Bundle.

Only the resource types rectoplan reads are validated (R4B: the R5 default rejects a third of the published
mCODE examples); everything else is recorded as ignored with the reason, and an invalid resource becomes
an issue rather than a failure of the whole bundle. fhir.resources is imported lazily, on first parse.
Within a service request (`shared_parses`), the lean models of `lean` are used instead: they check only
the fields rectoplan reads, at a small part of the cost, which is what a hook call with a new chart needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.lean import MODELS as LEAN_MODELS
from rectoplan.core.errors import CaseError, Problem

READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Procedure",
        "Medication",
        "BodyStructure",
        "Specimen",
    }
)


@lru_cache(maxsize=4096)
def _parse_text(kind: str, text: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(kind).model_validate_json(text)


def parse_resource(resource: dict[str, Any]) -> Any:
    """An R4B model of `resource` (raises pydantic's ValidationError, or ValueError for an unknown type).

    Validating a FHIR resource with fhir.resources costs about half a millisecond; an EHR re-sends the same
    resources every time a chart is opened, so parsed models are kept in a bounded in-process LRU keyed by
    the resource's canonical JSON (models are only read, never changed). Nothing is written anywhere.
    Within `shared_parses` a resource type rectoplan reads gets its lean model instead (tens of
    microseconds, no cache needed); other types still get the full model.
    """
    memo = _SAME_REQUEST.get()
    if memo is not None and (seen := memo.get(id(resource))) is not None and seen[0] is resource:
        return seen[1]
    lean = LEAN_VALIDATORS.get(resource.get("resourceType")) if memo is not None else None  # type: ignore[arg-type]
    if lean is not None:
        model: Any = lean(resource)
    else:
        model = _parse_text(str(resource["resourceType"]), json.dumps(resource, separators=(",", ":")))
    if memo is not None:
        memo[id(resource)] = (resource, model)
    return model


# model.model_validate without its Python wrapper: once per resource of every hook call
LEAN_VALIDATORS = {kind: model.__pydantic_validator__.validate_python for kind, model in LEAN_MODELS.items()}
_SAME_REQUEST: ContextVar[dict[int, tuple[dict[str, Any], Any]] | None] = ContextVar("fhir_parses", default=None)


@contextmanager
def shared_parses() -> Iterator[None]:
    """The scope of one service request: a resource object parsed once (e.g. by the request check) is not
    parsed again, and the resource types rectoplan reads are validated with the lean models (`lean`).

    Only for a scope in which resource dicts are not changed, such as one HTTP request. The CLI and the
    cohort reader do not enter it: they keep the full fhir.resources models, where speed does not matter.

    The memo is emptied on the way out: a task or timer created during the request keeps a copy of the
    request's context (asyncio keeps a cancelled timer's until it leaves the loop's heap), and with it
    the memo; a full one held every resource of the chart and its model, hundreds of objects per request
    that the cyclic garbage collector then walked again and again (most of a hook call's CPU)."""
    memo: dict[int, tuple[dict[str, Any], Any]] = {}
    token = _SAME_REQUEST.set(memo)
    try:
        yield
    finally:
        _SAME_REQUEST.reset(token)
        memo.clear()


def _bundle_problem(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors()[:5]:
        path = "Bundle." + ".".join(str(p) for p in err["loc"])
        out.append(
            Problem(
                path,
                str(err.get("input"))[:60] if err["type"] != "missing" else "nothing",
                f"a valid FHIR R4 Bundle ({err['msg']})",
            )
        )
    return out


def _parse_entries(
    bundle: dict[str, Any], check_shell: bool = True
) -> tuple[dict[str, Any], dict[str, str], list[Problem], dict[str, str]]:
    """Parse the resource types rectoplan reads; return (ref -> model, ignored, issues, fullUrl -> ref)."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise CaseError([Problem("Bundle.entry", type(entries).__name__, "a list of entries")])
    if check_shell:  # the Bundle's own fields, without its resources (those are parsed one by one below)
        from fhir.resources.R4B.bundle import Bundle

        shell = {k: v for k, v in bundle.items() if k != "entry"}
        shell["entry"] = [
            {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in entries
        ]
        try:
            Bundle.model_validate(shell)
        except ValidationError as exc:
            raise CaseError(_bundle_problem(exc)) from None
    parsed: dict[str, Any] = {}
    ignored: dict[str, str] = {}
    issues: list[Problem] = []
    urls: dict[str, str] = {}
    for i, entry in enumerate(entries):
        resource = entry.get("resource")
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(kind, str):
            issues.append(Problem(f"Bundle.entry[{i}]", "an entry without a resource", "a FHIR resource"))
            continue
        ident, url = resource.get("id"), entry.get("fullUrl")
        ref = (
            f"{kind}/{ident}"
            if isinstance(ident, str) and ident
            else url
            if isinstance(url, str) and url
            else f"{kind}/(Bundle.entry[{i}], no id)"
        )
        if ref in parsed or ref in ignored:
            ignored.setdefault(f"{ref} (Bundle.entry[{i}])", "the same resource appears earlier in the bundle")
            continue
        if isinstance(url, str) and url != ref:
            urls[url] = ref
        if kind == "OperationOutcome" and (failed := _failed_read(resource)) is not None:
            issues.append(  # a read that failed: what it would have given is unknown, never "none"
                Problem(
                    ref,
                    f"a failed FHIR read (OperationOutcome: {failed})",
                    "the resources it stood for; the facts they would give are unknown, not absent",
                )
            )
            continue
        if kind not in READ_TYPES:
            ignored[ref] = f"resource type {kind} is not read by rectoplan"
            continue
        if kind == "Observation" and (unread := _unread_observation(resource)) is not None:
            ignored[ref] = f"observation {unread} is not read by rectoplan"  # labs, vitals...: not parsed
            continue
        try:
            parsed[ref] = parse_resource(resource)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            issues.append(Problem(ref, f"{where}: {err['msg']}"[:160], f"a valid FHIR R4 {kind} (resource not used)"))
    return parsed, ignored, issues, urls


def _failed_read(resource: dict[str, Any]) -> str | None:
    """The diagnostics of an OperationOutcome reporting an error or fatal issue (a failed read), else None."""
    for issue in resource.get("issue") or []:
        if isinstance(issue, dict) and issue.get("severity") in ("error", "fatal"):
            detail = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code")
            return str(detail or "no detail")[:120]
    return None


OBSERVATION_CODES = frozenset(
    {
        (c.system, c.code)
        for c in (
            fc.ECOG_CODE,
            fc.GENOMIC_VARIANT,
            fc.HISTORY_OF_METASTASIS,
            fc.HISTORY_OF_LIVER_METASTASIS,
            fc.TMB_CODE,
            fc.BILIRUBIN_TOTAL,
        )
    }
    | set(fc.MARKER_TESTS)
    | set(fc.STAGE_GROUP_CODES)
    | set(fc.CREATININE_CLEARANCE_TESTS)
    | set(fc.EGFR_TESTS)  # parsed only to say why it is not creatinine clearance
    | set(fc.DISEASE_STATUS_CODES)
)


def _unread_observation(resource: dict[str, Any]) -> str | None:
    """'LOINC 8302-2' when a well-formed Observation's codes are none that rectoplan reads; None otherwise.

    Large records hold hundreds of lab and vital-sign observations; skipping their validation keeps big
    bundles cheap. Anything not plainly shaped is parsed (and reported if invalid) as usual."""
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list) or not codings or not all(isinstance(c, dict) for c in codings):
        return None
    pairs = [(c.get("system"), c.get("code")) for c in codings]
    if not all(isinstance(system, str) and isinstance(value, str) for system, value in pairs):
        return None
    if any(pair in OBSERVATION_CODES for pair in pairs):
        return None
    system, value = pairs[0]
    return f"{fc.SYSTEM_NAMES.get(str(system), system)} {value}"


def bundle_of(resources: Iterable[Any], bundle_id: str = "prefetch") -> dict[str, Any]:
    """Flatten resources and search-set Bundles (e.g. CDS Hooks prefetch values) into one Bundle.

    OperationOutcomes that report a failed read are kept (the mapper reports each as an issue: the facts
    it hid are unknown); informational ones are dropped."""
    entries: list[dict[str, Any]] = []
    for item in resources:
        if not isinstance(item, dict):
            continue
        if item.get("resourceType") == "Bundle":
            entries += [
                e
                for e in item.get("entry") or []
                if isinstance(e, dict)
                and isinstance(e.get("resource"), dict)
                and (e["resource"].get("resourceType") != "OperationOutcome" or _failed_read(e["resource"]))
            ]
        else:
            entries.append({"resource": item})
    return {"resourceType": "Bundle", "id": bundle_id, "type": "collection", "entry": entries}
