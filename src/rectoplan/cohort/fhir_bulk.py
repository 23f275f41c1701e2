"""A FHIR bulk-export folder (NDJSON files, one resource per line) as a cohort: one record per patient.

Resources are grouped by the patient they are about (`Patient/<id>` in subject/patient/beneficiary), each
group becomes one Bundle for `rectoplan.adapters.fhir_mcode.case_from_bundle`, and its case goes through
the edge validator. A patient the importer or the validator rejects is an error row with their messages;
lines that cannot be read, or resources about no patient, are listed as warnings. Ages and days since
surgery are counted to the export's `transactionTime` (from the folder's bulk-data manifest, if any), so
re-running the same export gives the same result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from rectoplan.cohort.columns import flatten
from rectoplan.cohort.readers import Cohort, ErrorRow, InputError, canonical_table
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.knowledge import KnowledgeBase

SHARED_TYPES = ("Medication", "BodyStructure")
_PATIENT_KEYS = ("subject", "patient", "beneficiary", "individual")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith((".ndjson", ".jsonl")))


def _as_of(folder: Path) -> date | None:
    """The export's transactionTime, from a bulk-data manifest (a .json file) in the folder."""
    for p in sorted(folder.glob("*.json")):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, OSError, RecursionError):
            continue
        stamp = data.get("transactionTime") if isinstance(data, dict) else None
        if isinstance(stamp, str) and len(stamp) >= 10:
            try:
                return date.fromisoformat(stamp[:10])
            except ValueError:
                continue
    return None


def _patient_of(resource: dict[str, Any]) -> str | None:
    if resource.get("resourceType") == "Patient":
        ident = resource.get("id")
        return ident if isinstance(ident, str) and ident else None
    for key in _PATIENT_KEYS:
        ref = resource.get(key)
        ref = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(ref, str) and ref.startswith("Patient/"):
            return ref.split("/", 1)[1]
    return None


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            yield ref
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def read_fhir_folder(folder: Path, kb: KnowledgeBase) -> Cohort:
    """One record per patient of a bulk export; see the module docstring.

    Long by design: one pass (read, group by patient, map, validate) whose steps share the error accounting; split,
    that state would be passed around."""
    files = _files(folder)
    if not files:
        raise InputError([Problem(str(folder), "no .ndjson files", "a FHIR bulk-export folder")])
    try:
        from rectoplan.adapters.fhir.parse import READ_TYPES
        from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle
    except ModuleNotFoundError as exc:
        raise InputError(
            [
                Problem(
                    str(folder),
                    f"FHIR input, but no module {exc.name!r} to read it",
                    "the 'fhir' extra installed (pip install 'rectoplan[fhir]')",
                )
            ]
        ) from None
    from rectoplan.adapters.case_json import parse_case

    patients: dict[str, list[dict[str, Any]]] = {}
    shared: dict[str, dict[str, Any]] = {}
    warnings: list[ErrorRow] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    warnings.append(
                        ErrorRow(
                            0,
                            None,
                            (
                                f"{path.name} line {lineno}: found invalid JSON ({exc}); "
                                "expected one FHIR resource per line",
                            ),
                        )
                    )
                    continue
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    warnings.append(
                        ErrorRow(
                            0, None, (f"{path.name} line {lineno}: found no resourceType; expected a FHIR resource",)
                        )
                    )
                    continue
                kind = resource["resourceType"]
                if kind == "OperationOutcome":  # a bulk export's error file: some resources were not exported
                    errors_of = [
                        i.get("diagnostics") or i.get("code") or "no detail"
                        for i in resource.get("issue") or []
                        if isinstance(i, dict) and i.get("severity") in ("error", "fatal")
                    ]
                    if errors_of:
                        message = (
                            f"{path.name} line {lineno}: the export reports a failed read "
                            f"({str(errors_of[0])[:120]}); facts from the resources it lost are unknown, not absent"
                        )
                        warnings.append(ErrorRow(0, _patient_of(resource), (message,)))
                    continue
                if kind in SHARED_TYPES and isinstance(resource.get("id"), str):
                    shared[f"{kind}/{resource['id']}"] = resource
                    continue
                patient = _patient_of(resource)
                if patient is None:
                    if kind in READ_TYPES and kind not in ("Patient", *SHARED_TYPES):  # clinical data, of nobody
                        where = f"{path.name} line {lineno}: {kind}/{resource.get('id', '?')}"
                        message = f"{where}: found no patient reference; expected subject or patient = Patient/<id>"
                        warnings.append(ErrorRow(0, None, (message,)))
                    continue  # about no patient (Organization, Practitioner, ...): not read by rectoplan
                patients.setdefault(patient, []).append(resource)
    today = _as_of(folder)
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    for number, (patient, resources) in enumerate(patients.items(), start=1):
        wanted = {ref for r in resources for ref in _references(r) if ref in shared}
        bundle = bundle_of([*resources, *(shared[ref] for ref in sorted(wanted))], bundle_id=f"bulk-{patient}")
        try:
            imported = case_from_bundle(bundle, patient_id=patient, today=today)
            case = parse_case(imported.case, drugs, procedures)
        except CaseError as exc:
            errors.append(ErrorRow(number, patient, tuple(exc.messages())))
            continue
        warnings += [ErrorRow(number, patient, (p.message(),)) for p in imported.issues]
        rows.append(flatten(case))
        numbers.append(number)
    cohort = Cohort(canonical_table(rows, numbers), "fhir-bulk", errors, len(patients))
    cohort.warnings = warnings
    return cohort
