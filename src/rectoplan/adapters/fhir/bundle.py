"""A FHIR R4 Bundle -> one contract-1 case: patient selection, the mapping walk, and the case's assembly.

`case_from_bundle` is the entry point: it picks the one patient, runs every parsed resource through the
readers, refuses a bundle without a rectal cancer, and assembles the case with the resource behind each
field (provenance). Unknown stays unknown: nothing is filled in from absence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.conditions import ConditionReader
from rectoplan.adapters.fhir.history import add_history
from rectoplan.adapters.fhir.labs import BILIRUBIN_FACTS
from rectoplan.adapters.fhir.liquid import liquid_ras
from rectoplan.adapters.fhir.observations import ObservationReader
from rectoplan.adapters.fhir.parse import _parse_entries
from rectoplan.adapters.fhir.treatments import TreatmentReader
from rectoplan.adapters.fhir.values import _lookup, _when
from rectoplan.core.errors import CaseError, Problem


@dataclass(frozen=True)
class FhirImport:
    """The case (contract 1), where each field came from, and what could not be used and why."""

    case: dict[str, Any]
    provenance: dict[str, str]
    issues: list[Problem]
    used: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)


class _Mapper(ConditionReader, ObservationReader, TreatmentReader):
    """Walks the parsed resources once, collecting findings, then resolves them into one case."""


def _pick_patient(parsed: dict[str, Any], patient_id: str | None, bundle: dict[str, Any]) -> tuple[str, str, Any]:
    """(reference of the patient, case id, Patient model or None)."""
    patients = {ref: r for ref, r in parsed.items() if r.get_resource_type() == "Patient"}
    if patient_id is not None:
        return f"Patient/{patient_id}", patient_id, patients.get(f"Patient/{patient_id}")
    if len(patients) > 1:
        raise CaseError(
            [
                Problem(
                    "Bundle",
                    f"{len(patients)} patients ({', '.join(sorted(patients))})",
                    "a bundle about one patient",
                )
            ]
        )
    if patients:
        ref, patient = next(iter(patients.items()))
        return ref, patient.id or str(bundle.get("id") or ref.rsplit(":", 1)[-1]), patient
    subjects = {getattr(getattr(r, "subject", None), "reference", None) for r in parsed.values()} - {None}
    if len(subjects) > 1:
        raise CaseError(
            [
                Problem(
                    "Bundle",
                    f"resources about {len(subjects)} different subjects",
                    "a bundle about one patient",
                )
            ]
        )
    if subjects:
        ref = str(next(iter(subjects)))
        return ref, ref.rsplit("/", 1)[-1], None
    return "Patient/(none)", str(bundle.get("id") or "fhir-bundle"), None


def _no_rectal_cancer(cancers: list[tuple[str, str, str]]) -> CaseError:
    if not cancers:
        found = "no cancer condition"
    else:
        found = "; ".join(
            f"cancer condition coded {code} ({m.replace('_', ' ')}) in {ref}" for m, code, ref in cancers[:5]
        )
    return CaseError(
        [
            Problem(
                "Condition",
                found,
                "a rectal cancer condition (e.g. SNOMED 363351006 or ICD-10-CM C20): rectoplan covers "
                "stage 4 or recurrent rectal adenocarcinoma only, so it makes no recommendation here",
            )
        ]
    )


def case_from_bundle(
    bundle: dict[str, Any],
    patient_id: str | None = None,
    today: date | None = None,
    *,
    trusted_shell: bool = False,
    unread_specimens: str | None = None,
) -> FhirImport:
    """Map a FHIR R4 Bundle to a contract-1 case; `today` fixes the date for age and days since surgery.

    `trusted_shell` skips validating the Bundle's own fields (not its resources) when the caller built the
    bundle itself with `bundle_of`, as the CDS Hooks service does. `unread_specimens` says why the patient's
    Specimens could not be read, when they could not (the service's `specimens` prefetch): a RAS result
    naming a Specimen that is not in the bundle is then reported and not used (see `fhir/liquid.py`).
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise CaseError([Problem("resourceType", repr(found), "'Bundle' (a FHIR R4 Bundle)")])
    parsed, ignored, issues, urls = _parse_entries(bundle, check_shell=not trusted_shell)
    pref, pid, patient = _pick_patient(parsed, patient_id, bundle)
    aliases = {pref} | {url for url, ref in urls.items() if ref == pref}
    stamp = _when(bundle.get("timestamp"))
    today = today or (stamp.date() if stamp else date.today())
    resources = dict(parsed) | {url: parsed[ref] for url, ref in urls.items() if ref in parsed}
    m = _Mapper(pref, aliases, today, resources)
    m.unread_specimens = unread_specimens
    m.ignored.update(ignored)
    m.issues.extend(issues)
    for key, resource in resources.items():  # primaries of other cancers, so their metastases are not counted
        if resource.get_resource_type() == "Condition":
            hit = _lookup(resource.code, fc.CANCER_CONDITIONS)
            if hit is not None and hit.meaning not in ("rectal", "local_recurrence"):
                m.other_cancers[key] = hit.meaning
    for ref, resource in parsed.items():
        if ref.startswith(("Medication/", "BodyStructure/", "Specimen/")):
            m.ignored[ref] = "read only through references"
        elif resource.get_resource_type() == "Patient":
            if ref != pref:
                m.issue(ref, f"a second patient ({ref})", f"data about {pref} only (not used)")
        else:
            m.visit(ref, resource)
    if not any(meaning in ("rectal", "local_recurrence") for meaning, _, _ in m.cancers):
        raise _no_rectal_cancer(m.cancers)
    case, provenance = _assemble(m, pref, pid, patient)
    return FhirImport(case, provenance, m.issues, m.used, m.ignored)


def _assemble(m: _Mapper, ref: str, pid: str, patient: Any) -> tuple[dict[str, Any], dict[str, str]]:
    case: dict[str, Any] = {"format": "rectoplan.case/1", "id": pid[:200]}
    prov: dict[str, str] = {}
    if patient is not None:
        if patient.deceasedBoolean or patient.deceasedDateTime:
            raise CaseError([Problem(ref, "a patient recorded as deceased", "a living patient")])
        if patient.birthDate:
            born = _when(patient.birthDate)
            assert born is not None
            case["age"] = m.today.year - born.year - ((m.today.month, m.today.day) < (born.month, born.day))
            prov["age"] = ref
            m.use(ref, f"age {case['age']} on {m.today.isoformat()}")
        else:
            m.ignored[ref] = "no birth date"
    if (ecog := m.resolve("ecog", changing=True)) is not None:
        case["ecog"], prov["ecog"] = ecog
    if m.resected:
        case["primary"] = {"status": "resected"}
        prov["primary.status"] = ", ".join(m.resected)
    if m.local_recurrence:
        case["local_recurrence"] = {}
        prov["local_recurrence"] = ", ".join(m.local_recurrence)
    if m.sites:
        case["metastases"] = [{"site": site} for site in m.sites]
        for i, refs in enumerate(m.sites.values()):
            prov[f"metastases[{i}]"] = ", ".join(refs)
    elif m.stage_iv:
        for ref in m.stage_iv:
            m.issue(
                ref,
                "TNM stage group IV but no metastatic site coded",
                "secondary cancer conditions naming the sites (metastases left unknown)",
            )
    markers: dict[str, Any] = {}
    for fact in ("kras", "nras", "braf", "mmr", "her2", "ntrk_fusion", "ret_fusion"):
        if (hit := m.resolve(fact)) is not None:
            markers[fact], prov[f"biomarkers.{fact}"] = hit
    if markers.get("kras") == "mutant" and (variant := m.resolve("kras_variant")) is not None:
        markers["kras_variant"], prov["biomarkers.kras_variant"] = variant
    if markers:
        case["biomarkers"] = markers
    _declared(m, case, markers, prov)
    prior: dict[str, Any] = {}
    if m.pelvic_rt:
        prior["pelvic_radiation"] = True
        prov["prior.pelvic_radiation"] = ", ".join(m.pelvic_rt)
    add_history(m, case, prior, prov)
    if m.surgeries:
        prior["surgeries"] = list(m.surgeries)
        for i, refs in enumerate(m.surgeries.values()):
            prov[f"prior.surgeries[{i}]"] = ", ".join(dict.fromkeys(refs))
    if prior:
        case["prior"] = prior
    _liquid_biopsy(m, case, prov)
    if m.major_surgery:
        when, ref = max(m.major_surgery)
        days = (m.today - when.date()).days
        if days >= 0:
            case.setdefault("health", {})["days_since_major_surgery"] = days
            prov["health.days_since_major_surgery"] = ref
    return case, prov


def _liquid_biopsy(m: _Mapper, case: dict[str, Any], prov: dict[str, str]) -> None:
    """`biomarkers.liquid_ras` and its date (contract 2, so the case date `as_of` too: the JSON path derives the
    biopsy's age and its timing against the courses from them)."""
    found = liquid_ras(m)
    if found is None:
        return
    value, day, refs = found
    case.setdefault("biomarkers", {}).update(liquid_ras=value, liquid_ras_date=day)
    prov["biomarkers.liquid_ras"] = prov["biomarkers.liquid_ras_date"] = refs
    case["format"] = "rectoplan.case/2"
    if "as_of" not in case:
        case["as_of"] = m.today.isoformat()
        prov["as_of"] = "the date of the import (request date, else Bundle.timestamp, else today)"


_HER2_RESULT = {"3+": "ihc3", "0": "ihc0_1", "1+": "ihc0_1"}


def _declared(m: _Mapper, case: dict[str, Any], markers: dict[str, Any], prov: dict[str, str]) -> None:
    """Contract 2's declared fields a chart can give: TMB, HER2 as reported, bilirubin, creatinine clearance,
    a stoma."""
    found: dict[tuple[str, str], tuple[Any, str]] = {}
    if (tmb := m.resolve("tmb", changing=True)) is not None:
        found["biomarkers", "tmb"] = tmb
    if (ihc := m.resolve("her2_ihc", changing=True)) is not None:
        result = _HER2_RESULT.get(ihc[0])
        if ihc[0] == "2+" and (ish := m.resolve("her2_ish", changing=True)) is not None:
            result, ihc = f"ihc2_ish_{ish[0]}", (None, f"{ihc[1]}, {ish[1]}")
        implied = "positive" if result in ("ihc3", "ihc2_ish_positive") else "negative"
        if result is not None and markers.get("her2", implied) != implied:
            m.issue(
                ihc[1].split(", ")[0],
                f"HER2 result {result} while other results give HER2 {markers['her2']}",
                "agreeing HER2 results (the reported HER2 result is left out)",
            )
        elif result is not None:
            found["biomarkers", "her2_result"] = (result, ihc[1])
    for fact in BILIRUBIN_FACTS:
        if (bili := m.resolve_readable(fact)) is not None:
            found["health", fact] = bili
    if (crcl := m.resolve("creatinine_clearance", changing=True)) is not None:
        found["health", "creatinine_clearance"] = crcl
    if m.stoma:
        found["primary", "stoma"] = (True, ", ".join(m.stoma))
    for (section, name), (value, ref) in found.items():
        case.setdefault(section, {})[name] = value
        prov[f"{section}.{name}"] = ref
    if found:
        case["format"] = "rectoplan.case/2"
