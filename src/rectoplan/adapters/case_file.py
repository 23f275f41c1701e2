"""Reading a case file: contract 1 JSON or a FHIR R4 Bundle, from a path or stdin ('-'), with precise errors.

The CLI (`recommend`, `explain`) and `why-not` read their case through `load_case`, so both give the same
words for a missing file, an oversized one or a CDS Hooks request given by mistake.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Any

from rectoplan.adapters.case_json import decode_json, parse_case
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.knowledge import KnowledgeBase

MAX_INPUT_BYTES = 20 * 1024 * 1024
# OS errors in words (the raw strerror reads "found No such file or directory").
_OS_ERRORS = {
    errno.ENOENT: "no such file",
    errno.EISDIR: "a folder, not a file",
    errno.EACCES: "a file this user may not read",
    errno.EPERM: "a file this user may not read",
    errno.ENOTDIR: "a path through something that is not a folder",
    errno.ENAMETOOLONG: "a file name too long for the system",
    errno.ELOOP: "a chain of links that never ends",
}


def read_input(path: str) -> object:
    """Read a JSON document from a file or stdin ('-'), with precise errors instead of tracebacks."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        found = _OS_ERRORS.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).lower()
        raise CaseError([Problem(path, found, "a readable JSON file (a case or a FHIR Bundle)")]) from None
    if len(raw) > MAX_INPUT_BYTES:
        raise CaseError([Problem(path, "more than 20 MiB", "a case or bundle of at most 20 MiB")])
    return decode_json(raw)


def _not_a_case(data: dict[str, Any]) -> Problem | None:
    """A CDS Hooks request is a common mistake to give `recommend`: say what it is, not "unknown field hook"."""
    if isinstance(data.get("hook"), str) and ("hookInstance" in data or "context" in data):
        return Problem(
            "hook",
            f"a CDS Hooks request (hook {str(data['hook'])[:40]!r}), not a case",
            "a case (rectoplan.case JSON) or a FHIR R4 Bundle; a CDS Hooks request is answered by "
            "`rectoplan serve` (POST /cds-services/rectoplan-options), or give its prefetch resources as a Bundle",
        )
    return None


def load_case(path: str, kb: KnowledgeBase) -> tuple[Any, dict[str, Any] | None, list[Problem]]:
    """A case from contract 1 JSON or a FHIR R4 Bundle; returns (case, input provenance, warnings)."""
    data = read_input(path)
    if isinstance(data, dict) and (wrong := _not_a_case(data)) is not None:
        raise CaseError([wrong])
    if isinstance(data, dict) and data.get("resourceType") is not None:
        if data.get("resourceType") != "Bundle":
            raise CaseError([Problem("resourceType", repr(data.get("resourceType")), "'Bundle' (a FHIR R4 Bundle)")])
        try:  # the FHIR models are imported lazily, on first parse: check for them before any work
            importlib.import_module("fhir.resources.R4B")
            fhir = importlib.import_module("rectoplan.adapters.fhir_mcode")
        except ModuleNotFoundError as exc:
            raise CaseError(
                [
                    Problem(
                        "resourceType",
                        f"a FHIR Bundle, but no module {exc.name!r} to read it",
                        "the 'fhir' extra installed (pip install 'rectoplan[fhir]')",
                    )
                ]
            ) from None
        imported = fhir.case_from_bundle(data)
        case = parse_case(imported.case, kb.vocabulary.drugs, kb.vocabulary.procedures)
        provenance = {
            "provenance": dict(imported.provenance),
            "issues": [p.message() for p in imported.issues],
            "not_read": dict(imported.ignored),  # resources rectoplan does not use, and why
        }
        return case, provenance, list(imported.issues)
    return parse_case(data, kb.vocabulary.drugs, kb.vocabulary.procedures), None, []
