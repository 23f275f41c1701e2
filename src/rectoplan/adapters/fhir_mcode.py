"""FHIR R4 Bundle (mCODE STU4 style) -> a contract-1 case, with the resource behind every fact.

Resources are parsed with the maintained `fhir.resources` R4B models (the R5 default rejects a third of
the published mCODE examples). Only the resource types rectoplan reads are parsed; every resource in the
bundle ends up in exactly one of three places, so nothing is dropped silently: `used` (it gave a fact),
`ignored` (why it does not matter to rectoplan) or `issues` (it matters but could not be interpreted, or
it conflicts with another one). Codes come from the cited table in `fhir_codes`; displays are never read
to recognise a gene, a site or a test. Unknown stays unknown: nothing is filled in from absence.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from rectoplan.adapters import fhir_codes as fc
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
    }
)
RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
# Drugs first given within 4 weeks of a line's start belong to that line; later, a new drug starts a new line
# unless every drug of the running line is given the same day (an addition, not a switch).
LINE_WINDOW = timedelta(days=28)
_AA = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Ter": "*",
}
# Medication statuses that mean the drug was given (value: contract-1 `stopped_for`, "stopped" = see reason).
_GIVEN: dict[str, str | None] = {
    "on-hold": "ongoing",
    "completed": "completed",
    "stopped": "stopped",
    "unknown": None,
}
_P_HGVS = re.compile(r"p\.\(?([A-Z][a-z]{2}|[A-Z])(\d+)([A-Z][a-z]{2}|[A-Z]|\*)\)?$")


@dataclass(frozen=True)
class FhirImport:
    """The case (contract 1), where each field came from, and what could not be used and why."""

    case: dict[str, Any]
    provenance: dict[str, str]
    issues: list[Problem]
    used: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Finding:
    value: Any
    when: datetime | None
    ref: str
    note: str


@dataclass(frozen=True, slots=True)
class _Dose:
    drug: str
    when: datetime | None
    status: str | None
    ref: str


def _when(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant (or a partial date string) as a comparable UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parts = [int(p) for p in re.findall(r"\d+", str(value))[:3]]
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(1)
    try:
        return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
    except ValueError:
        return None


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when else "undated"


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _describe(coding: Any) -> str:
    system = fc.SYSTEM_NAMES.get(coding.system or "", coding.system or "no system")
    shown = f" '{coding.display}'" if coding.display else ""
    return f"{system} {coding.code}{shown}"


def _lookup(concept: Any, table: dict[tuple[str, str], fc.Code]) -> fc.Code | None:
    for coding in _codings(concept):
        hit = table.get((coding.system or "", coding.code or ""))
        if hit is not None:
            return hit
    return None


def _first_code(concept: Any) -> str:
    codings = _codings(concept)
    return _describe(codings[0]) if codings else f"text {getattr(concept, 'text', None)!r}"


def _profiles(resource: Any) -> set[str]:
    meta = getattr(resource, "meta", None)
    return {p.rsplit("/", 1)[-1] for p in (getattr(meta, "profile", None) or [])}


def _hgvs_protein(text: str) -> str | None:
    """'NP_004976.2:p.Gly12Cys', 'p.(G12C)' -> 'G12C'; None when not a simple substitution."""
    match = _P_HGVS.search(text.strip().split(":")[-1])
    if not match:
        return None
    ref, pos, alt = match.groups()
    one = [_AA.get(a, a) if len(a) == 3 else a for a in (ref, alt)]
    return f"{one[0]}{pos}{one[1]}" if all(len(a) == 1 for a in one) else None


class _Mapper:
    """Walks the parsed resources once, collecting findings, then resolves them into one case."""

    def __init__(self, patient: str, aliases: set[str], today: date, resources: dict[str, Any]) -> None:
        self.patient, self.aliases, self.today, self.resources = patient, aliases, today, resources
        self.used: dict[str, str] = {}
        self.ignored: dict[str, str] = {}
        self.issues: list[Problem] = []
        self.findings: dict[str, list[_Finding]] = defaultdict(list)
        self.cancers: list[tuple[str, str, str]] = []  # (meaning, described code, ref)
        self.sites: dict[str, list[str]] = defaultdict(list)
        self.local_recurrence: list[str] = []
        self.doses: list[_Dose] = []
        self.surgeries: dict[str, list[str]] = defaultdict(list)
        self.resected: list[str] = []
        self.major_surgery: list[tuple[datetime, str]] = []
        self.pelvic_rt: list[str] = []
        self.stage_iv: list[str] = []
        self.other_cancers: dict[str, str] = {}  # reference (id or fullUrl) -> meaning, of non-rectal primaries

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def use(self, ref: str, what: str) -> None:
        if what not in self.used.get(ref, "").split("; "):
            self.used[ref] = f"{self.used[ref]}; {what}" if ref in self.used else what

    def issue(self, ref: str, found: str, expected: str) -> None:
        self.issues.append(Problem(ref, found, expected))

    def find(self, fact: str, value: Any, when: datetime | None, ref: str, note: str = "") -> None:
        self.findings[fact].append(_Finding(value, when, ref, note))
        self.use(ref, note or f"{fact} = {value}")

    def other_patient(self, resource: Any) -> str | None:
        subject = getattr(resource, "subject", None) or getattr(resource, "patient", None)
        ref = getattr(subject, "reference", None)
        if not ref or ref in self.aliases or ref.endswith(f"/{self.patient}"):
            return None
        return str(ref)

    # -- resources -----------------------------------------------------------------------------------------
    def visit(self, ref: str, resource: Any) -> None:
        kind = resource.get_resource_type()
        if kind in ("Patient", "Medication", "BodyStructure"):
            return  # read through references; the Patient is handled by the caller
        other = self.other_patient(resource)
        if other is not None:
            self.issue(ref, f"a {kind} about {other}", f"data about {self.patient} only (not used)")
            return
        handler = getattr(self, f"_{kind.lower()}")
        handler(ref, resource)

    def _condition(self, ref: str, res: Any) -> None:
        verification = {c.code for c in _codings(res.verificationStatus)}
        if verification & {"refuted", "entered-in-error"}:
            self.ignored[ref] = f"verification status {', '.join(sorted(verification))}"
            return
        clinical = {c.code for c in _codings(res.clinicalStatus)}
        cancer = _lookup(res.code, fc.CANCER_CONDITIONS)
        site = _lookup(res.code, fc.METASTASIS_SITES)
        icd = next((c.code for c in _codings(res.code) if c.system == fc.ICD10CM and c.code), "")
        secondary = (
            "mcode-secondary-cancer-condition" in _profiles(res)
            or site is not None
            or (icd.startswith(fc.ICD10_SECONDARY_PREFIXES) or icd.startswith("C77"))
        )
        if secondary and cancer is None:
            self._metastasis(ref, res, site, icd, clinical)
        elif cancer is not None:
            self.cancers.append((cancer.meaning, _first_code(res.code), ref))
            if cancer.meaning == "rectal":
                self.use(ref, f"rectal cancer ({_first_code(res.code)})")
            elif cancer.meaning == "local_recurrence":
                if clinical & {"resolved", "inactive", "remission"}:
                    self.ignored[ref] = f"local recurrence recorded as {', '.join(sorted(clinical))}"
                else:
                    self.local_recurrence.append(ref)
                    self.use(ref, "local recurrence of rectal cancer")
            else:
                self.ignored[ref] = f"cancer condition outside rectoplan's scope ({cancer.meaning})"
        elif icd[:3] in fc.ICD10_OTHER_PRIMARY:
            self.cancers.append((fc.ICD10_OTHER_PRIMARY[icd[:3]], _first_code(res.code), ref))
            self.ignored[ref] = f"cancer condition outside rectoplan's scope ({fc.ICD10_OTHER_PRIMARY[icd[:3]]})"
        elif "mcode-primary-cancer-condition" in _profiles(res):
            self.cancers.append(("unrecognised", _first_code(res.code), ref))
            self.issue(
                ref,
                f"a primary cancer condition coded {_first_code(res.code)}",
                "a cancer code in rectoplan's terminology table (the primary site could not be told)",
            )
        else:
            self.ignored[ref] = f"condition {_first_code(res.code)} is not a cancer condition rectoplan reads"

    def for_other_cancer(self, references: list[str]) -> str | None:
        """The other cancer these references all point to (e.g. a breast primary), if they do."""
        known = [self.other_cancers.get(r) for r in references]
        return known[0] if references and all(known) else None

    def _metastasis(self, ref: str, res: Any, site: fc.Code | None, icd: str, clinical: set[str]) -> None:
        if clinical & {"resolved", "inactive", "remission"}:
            self.ignored[ref] = f"metastasis recorded as {', '.join(sorted(clinical))}: not a current metastasis"
            return
        related = [e.valueReference.reference for e in res.extension or [] if e.url == RELATED and e.valueReference]
        if other := self.for_other_cancer(related):
            self.ignored[ref] = f"metastasis of another cancer ({other}, {related[0]})"
            return
        meaning = (
            site.meaning if site is not None else ("other" if icd.startswith(fc.ICD10_SECONDARY_PREFIXES) else None)
        )
        if meaning is None:
            self.issue(
                ref,
                f"a secondary cancer condition coded {_first_code(res.code)}",
                "a metastatic site code in rectoplan's terminology table (site not mapped)",
            )
        elif meaning.startswith("?"):
            self.issue(
                ref,
                f"a secondary cancer condition coded {_first_code(res.code)}",
                f"a distant metastatic site ({meaning[1:]}); not counted",
            )
        else:
            self.sites[meaning].append(ref)
            self.use(ref, f"metastasis: {meaning}")

    def _observation(self, ref: str, res: Any) -> None:
        if res.status not in ("final", "amended", "corrected"):
            self.ignored[ref] = f"observation status {res.status!r} (only final, amended or corrected results count)"
            return
        when = _when(
            res.effectiveDateTime
            or res.effectiveInstant
            or (res.effectivePeriod and res.effectivePeriod.start)
            or res.issued
        )
        codes = {(c.system or "", c.code or "") for c in _codings(res.code)}
        if (fc.ECOG_CODE.system, fc.ECOG_CODE.code) in codes:
            self._ecog(ref, res, when)
        elif (fc.GENOMIC_VARIANT.system, fc.GENOMIC_VARIANT.code) in codes:
            self._variant(ref, res, when)
        elif (stage := _lookup(res.code, fc.STAGE_GROUP_CODES)) is not None:
            value = _lookup(res.valueCodeableConcept, fc.STAGE_VALUES)
            if value is None:
                self.issue(
                    ref,
                    f"TNM {stage.meaning} stage group {_first_code(res.valueCodeableConcept)}",
                    "a stage value in rectoplan's terminology table (stage not read)",
                )
                return
            if value.meaning == "IV":
                self.stage_iv.append(ref)
            self.use(ref, f"TNM {stage.meaning} stage group {value.meaning} ({_day(when)}): context only")
        elif (test := _lookup(res.code, fc.MARKER_TESTS)) is not None:
            self._marker(ref, res, when, test.meaning)
        elif codes & {
            (fc.SNOMED, fc.HISTORY_OF_METASTASIS.code),
            (fc.SNOMED, fc.HISTORY_OF_LIVER_METASTASIS.code),
        }:
            self.ignored[ref] = (
                "history of metastatic cancer: past disease, not a current metastasis "
                "(current sites come from secondary cancer conditions)"
            )
        else:
            self.ignored[ref] = f"observation {_first_code(res.code)} is not read by rectoplan"

    def _ecog(self, ref: str, res: Any, when: datetime | None) -> None:
        score = res.valueInteger
        if score is None:
            answer = _lookup(res.valueCodeableConcept, fc.ECOG_ANSWERS) or next(
                (
                    fc.ECOG_ANSWERS[k]
                    for i in res.interpretation or []
                    for c in _codings(i)
                    if (k := (c.system or "", c.code or "")) in fc.ECOG_ANSWERS
                ),
                None,
            )
            score = int(answer.meaning) if answer else None
        if score is None or not 0 <= score <= 4:
            self.issue(ref, f"ECOG value {score if score is not None else 'missing'}", "an ECOG score 0-4")
            return
        self.find("ecog", score, when, ref, f"ECOG {score} ({_day(when)})")

    def _value(self, res: Any) -> str | None:
        hit = _lookup(res.valueCodeableConcept, fc.RESULT_ANSWERS)
        if hit is None and res.valueCodeableConcept is None:
            hit = next(
                (
                    fc.RESULT_ANSWERS[k]
                    for i in res.interpretation or []
                    for c in _codings(i)
                    if (k := (c.system or "", c.code or "")) in fc.RESULT_ANSWERS
                ),
                None,
            )
        return str(hit.meaning) if hit else None

    def _protein_change(self, res: Any) -> str | None:
        for comp in res.component or []:
            if any(c.code == fc.AMINO_ACID_CHANGE.code for c in _codings(comp.code)):
                texts = [c.code or c.display or "" for c in _codings(comp.valueCodeableConcept)]
                texts += [comp.valueString or "", getattr(comp.valueCodeableConcept, "text", None) or ""]
                for text in texts:
                    if text and (change := _hgvs_protein(text)):
                        return change
        return _hgvs_protein(res.valueString) if res.valueString else None

    def _marker(self, ref: str, res: Any, when: datetime | None, test: str) -> None:
        value = self._value(res)
        change = self._protein_change(res)
        if value is None and change is not None and test == "kras":
            value = "positive"
        label = f"{test.upper()} {value} ({_day(when)})"
        if value is None or value == "indeterminate":
            shown = _first_code(res.valueCodeableConcept) if res.valueCodeableConcept else repr(res.valueString)
            self.issue(ref, f"{test.upper()} result {shown}", "a coded positive/negative (or MSI) result")
        elif test == "kras":
            self.find("kras", "mutant" if value == "positive" else "wild_type", when, ref, label)
            if value == "positive" and change:
                self.find("kras_variant", change, when, ref, f"KRAS variant {change}")
        elif test == "kras+nras":
            if value == "negative":
                self.find("kras", "wild_type", when, ref, label)
                self.find("nras", "wild_type", when, ref, label)
            else:
                self.issue(ref, "a positive combined KRAS+NRAS result", "the mutated gene (KRAS or NRAS) named")
        elif test == "nras":
            self.find("nras", "mutant" if value == "positive" else "wild_type", when, ref, label)
        elif test == "braf_v600e":
            self.find(
                "braf",
                "v600e" if value == "positive" else "wild_type",
                when,
                ref,
                label + (": V600E-specific test, other BRAF variants not excluded" if value == "negative" else ""),
            )
        elif test == "msi":
            high = value in ("msi_high", "positive")
            self.find(
                "mmr",
                "dmmr_msi_h" if high else "pmmr_mss",
                when,
                ref,
                f"MSI {'high' if high else 'stable'} ({_day(when)})",
            )
        elif test in ("her2", "ntrk"):
            fact = "her2" if test == "her2" else "ntrk_fusion"
            if value in ("positive", "negative"):
                self.find(fact, value, when, ref, label)
            else:
                self.issue(ref, f"{test.upper()} result {value}", "positive or negative")

    def _variant(self, ref: str, res: Any, when: datetime | None) -> None:
        studied = [
            c.code
            for comp in res.component or []
            if any(k.code == fc.GENE_STUDIED.code for k in _codings(comp.code))
            for c in _codings(comp.valueCodeableConcept)
            if (c.system or "") in fc.HGNC_SYSTEMS
        ]
        genes = [fc.GENES[c].meaning for c in studied if c in fc.GENES]
        value, change = self._value(res), self._protein_change(res)
        if not genes:
            self.ignored[ref] = "genomic variant in genes rectoplan does not read"
            return
        if value not in ("positive", "negative"):
            self.issue(
                ref,
                f"variant result {_first_code(res.valueCodeableConcept)} for {'/'.join(genes)}",
                "Present (LA9633-4) or Absent (LA9634-2)",
            )
            return
        label = f"{'/'.join(genes)} variant {'present' if value == 'positive' else 'absent'} ({_day(when)})"
        if value == "negative":
            readable = [g for g in genes if g in ("KRAS", "NRAS", "BRAF")]
            if change or not readable:
                self.ignored[ref] = (
                    "absence of one named variant (or of variants in NTRK/RET/ERBB2) does not "
                    "establish wild type or fusion-negative status"
                )
                return
            for gene in readable:
                self.find(gene.lower(), "wild_type", when, ref, label)
        elif len(studied) >= 2:  # a fusion names two genes
            fusions = {"ntrk_fusion" for g in genes if g.startswith("NTRK")} | {
                "ret_fusion" for g in genes if g == "RET"
            }
            for fact in sorted(fusions):
                self.find(fact, "positive", when, ref, f"{'/'.join(genes)} fusion ({_day(when)})")
            if not fusions:
                self.issue(
                    ref,
                    f"a variant involving {', '.join(genes)}",
                    "a single-gene result or an NTRK/RET fusion",
                )
        else:
            gene = genes[0]
            if gene in ("KRAS", "NRAS"):
                self.find(gene.lower(), "mutant", when, ref, label + (f" {change}" if change else ""))
                if gene == "KRAS" and change:
                    self.find("kras_variant", change, when, ref, f"KRAS variant {change}")
            elif gene == "BRAF" and change:
                self.find("braf", "v600e" if change == "V600E" else "other_mutation", when, ref, f"BRAF {change}")
            else:
                why = {
                    "BRAF": "the BRAF protein change (V600E or another variant)",
                    "ERBB2": "a HER2 IHC/ISH result (an ERBB2 sequence variant is not HER2 positivity)",
                }
                self.issue(
                    ref,
                    f"a {gene} variant without the detail rectoplan needs",
                    why.get(gene, "a fusion partner (a single-gene NTRK/RET variant is not a fusion)"),
                )

    def _medication(self, ref: str, res: Any, status_map: dict[str, str | None], when: Any) -> None:
        if res.status not in status_map:
            self.ignored[ref] = f"medication status {res.status!r}: not a treatment given"
            return
        if other := self.for_other_cancer(_reasons(res)):
            self.ignored[ref] = f"treatment of another cancer ({other})"
            return
        concept = res.medicationCodeableConcept
        if concept is None and res.medicationReference is not None:
            med = self.resources.get(res.medicationReference.reference or "")
            concept = getattr(med, "code", None)
        drug = _lookup(concept, fc.DRUGS)
        status = status_map[res.status]
        reasons = res.statusReason if isinstance(res.statusReason, list) else [res.statusReason]
        stop = next((hit for r in reasons if (hit := _lookup(r, fc.STOP_REASONS))), None)
        if status == "stopped":
            status = stop.meaning if stop else None
        if drug is None:
            if "mcode-cancer-related-medication-request" in _profiles(
                res
            ) or "mcode-cancer-related-medication-administration" in _profiles(res):
                self.issue(
                    ref,
                    f"cancer-related medication {_first_code(concept)}",
                    "a drug of rectoplan's vocabulary with its RxNorm code in the terminology table "
                    "(not counted in prior lines)",
                )
            else:
                self.ignored[ref] = f"medication {_first_code(concept)} is not a drug rectoplan reads"
            return
        self.doses.append(_Dose(drug.meaning, _when(when), status, ref))
        self.use(ref, f"{drug.meaning} ({_day(_when(when))}, {status or 'stop reason unknown'})")

    def _medicationrequest(self, ref: str, res: Any) -> None:
        self._medication(ref, res, _GIVEN | {"active": "ongoing"}, res.authoredOn)

    def _medicationadministration(self, ref: str, res: Any) -> None:
        # One dose given ('completed') says nothing about why the course ended: stopped_for stays unknown.
        start = res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.start)
        self._medication(ref, res, _GIVEN | {"in-progress": "ongoing", "completed": None}, start)

    def _medicationstatement(self, ref: str, res: Any) -> None:
        start = res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.start) or res.dateAsserted
        self._medication(ref, res, _GIVEN | {"active": "ongoing"}, start)

    def _procedure(self, ref: str, res: Any) -> None:
        if res.status not in ("completed", "in-progress"):
            self.ignored[ref] = f"procedure status {res.status!r}: not a treatment given"
            return
        if other := self.for_other_cancer(_reasons(res)):
            self.ignored[ref] = f"treatment of another cancer ({other})"
            return
        codes = {(c.system or "", c.code or "") for c in _codings(res.code)}
        radiotherapy = (fc.SNOMED, fc.RADIOTHERAPY_COURSE.code) in codes or (
            fc.SNOMED,
            fc.CHEMORADIATION.code,
        ) in codes
        if radiotherapy or "mcode-radiotherapy-course-summary" in _profiles(res):
            self._radiotherapy(ref, res)
            return
        proc = _lookup(res.code, fc.PROCEDURES)
        if proc is None:
            if "mcode-cancer-related-surgical-procedure" in _profiles(res):
                self.issue(
                    ref,
                    f"cancer-related surgery {_first_code(res.code)}",
                    "a procedure code in rectoplan's terminology table (not counted in prior surgeries)",
                )
            else:
                self.ignored[ref] = f"procedure {_first_code(res.code)} is not read by rectoplan"
            return
        ids = proc.meaning.split("+")
        for ident in ids:
            self.surgeries[ident].append(ref)
        when = _when(
            res.performedDateTime or (res.performedPeriod and (res.performedPeriod.end or res.performedPeriod.start))
        )
        if proc.code in fc.RECTAL_RESECTIONS:
            self.resected.append(ref)
        if when is not None and set(ids) & fc.MAJOR_SURGERY:
            self.major_surgery.append((when, ref))
        self.use(ref, f"surgery: {', '.join(ids)} ({_day(when)})")

    def _radiotherapy(self, ref: str, res: Any) -> None:
        concepts = list(res.bodySite or [])
        for ext in res.extension or []:
            for sub in ext.extension or []:
                target = getattr(sub.valueReference, "reference", None) if sub.valueReference else None
                body = self.resources.get(target or "")
                if body is not None and getattr(body, "location", None) is not None:
                    concepts.append(body.location)
        if any(_lookup(c, fc.PELVIC_SITES) for c in concepts):
            self.pelvic_rt.append(ref)
            self.use(ref, "pelvic radiotherapy")
        elif concepts:
            self.ignored[ref] = "radiotherapy to a site outside the pelvis"
        else:
            self.issue(
                ref,
                "a radiotherapy course without a coded treatment site",
                "a body site or treatment volume (pelvic radiation is not assumed either way)",
            )

    # -- resolution ----------------------------------------------------------------------------------------
    def resolve(self, fact: str, changing: bool = False) -> tuple[Any, str] | None:
        """One value per fact. Disagreeing results: the newest wins only when every one is dated."""
        found = self.findings.get(fact)
        if not found:
            return None
        newest = max(found, key=lambda f: f.when or datetime.min.replace(tzinfo=UTC))
        values = {f.value for f in found}
        if len(values) == 1:
            return newest.value, ", ".join(dict.fromkeys(f.ref for f in found))
        dated = all(f.when for f in found) and sum(f.when == newest.when for f in found) == 1
        for f in found:
            if f.value == newest.value and dated:
                continue
            if changing and dated:
                self.used.pop(f.ref, None)
                self.ignored[f.ref] = f"superseded by the newer {fact} result in {newest.ref} ({_day(newest.when)})"
                continue
            others = ", ".join(f"{o.ref}: {o.value} ({_day(o.when)})" for o in found if o.value != f.value)
            outcome = (
                f"the newest dated result {newest.ref} is used"
                if dated
                else f"the results are not all dated, so {fact} is left unknown"
            )
            self.issue(
                f.ref,
                f"{fact} {f.value} ({_day(f.when)}), conflicting with {others}",
                f"agreeing results; {outcome}",
            )
        return (newest.value, newest.ref) if dated else None

    def lines(self) -> Iterator[tuple[list[str], str | None, list[str]]]:
        """Group drug exposures into lines: undated ones first, then by start date (see LINE_WINDOW)."""
        undated = [d for d in self.doses if d.when is None]
        if undated:
            for d in undated:
                self.issue(d.ref, f"{d.drug} without a date", "a dated treatment (placed in a separate first line)")
            yield self._line(undated)
        dated = sorted((d for d in self.doses if d.when is not None), key=lambda d: (d.when, d.drug))
        current: list[_Dose] = []
        for day, group in _by_day(dated):
            agents, today = {d.drug for d in current}, {d.drug for d in group}
            # A switch: a new drug, past the window, while not all of the line's drugs are given that day
            # (a drug added on top of a running regimen, e.g. bevacizumab at cycle 3, stays in the line).
            if current and today - agents and not agents <= today and day - current[0].when > LINE_WINDOW:  # type: ignore[operator]
                yield self._line(current)
                current = []
            current += group
        if current:
            yield self._line(current)

    @staticmethod
    def _line(doses: list[_Dose]) -> tuple[list[str], str | None, list[str]]:
        agents = list(dict.fromkeys(d.drug for d in doses))
        last = {d.drug: d.status for d in sorted(doses, key=lambda d: d.when or datetime.min.replace(tzinfo=UTC))}
        statuses = set(last.values())
        stopped: str | None = next((s for s in ("progression", "intolerance", "ongoing") if s in statuses), None)
        if stopped is None and statuses == {"completed"}:
            stopped = "completed"
        return agents, stopped, list(dict.fromkeys(d.ref for d in doses))


def _reasons(resource: Any) -> list[str]:
    return [r.reference for r in getattr(resource, "reasonReference", None) or [] if r.reference]


def _by_day(doses: list[_Dose]) -> Iterator[tuple[datetime, list[_Dose]]]:
    groups: dict[datetime, list[_Dose]] = defaultdict(list)
    for d in doses:
        groups[d.when].append(d)  # type: ignore[index]
    yield from groups.items()


@lru_cache(maxsize=4096)
def _parse_text(kind: str, text: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(kind).model_validate_json(text)


def parse_resource(resource: dict[str, Any]) -> Any:
    """An R4B model of `resource` (raises pydantic's ValidationError, or ValueError for an unknown type).

    Validating a FHIR resource with fhir.resources costs about half a millisecond; an EHR re-sends the same
    resources every time a chart is opened, so parsed models are kept in a bounded in-process LRU keyed by
    the resource's canonical JSON (models are only read, never changed). Nothing is written anywhere.
    """
    memo = _SAME_REQUEST.get()
    if memo is not None and (seen := memo.get(id(resource))) is not None and seen[0] is resource:
        return seen[1]
    model = _parse_text(str(resource["resourceType"]), json.dumps(resource, separators=(",", ":")))
    if memo is not None:
        memo[id(resource)] = (resource, model)
    return model


_SAME_REQUEST: ContextVar[dict[int, tuple[dict[str, Any], Any]] | None] = ContextVar("fhir_parses", default=None)


@contextmanager
def shared_parses() -> Iterator[None]:
    """Within this block, a resource object parsed once (e.g. by a request check) is not parsed again.

    Only for a scope in which resource dicts are not changed, such as one HTTP request."""
    token = _SAME_REQUEST.set({})
    try:
        yield
    finally:
        _SAME_REQUEST.reset(token)


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
    from fhir.resources.R4B.bundle import Bundle

    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise CaseError([Problem("Bundle.entry", type(entries).__name__, "a list of entries")])
    shell = {k: v for k, v in bundle.items() if k != "entry"}
    shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in entries]
    try:
        if check_shell:
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


OBSERVATION_CODES = frozenset(
    {
        (c.system, c.code)
        for c in (fc.ECOG_CODE, fc.GENOMIC_VARIANT, fc.HISTORY_OF_METASTASIS, fc.HISTORY_OF_LIVER_METASTASIS)
    }
    | set(fc.MARKER_TESTS)
    | set(fc.STAGE_GROUP_CODES)
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
    bundle: dict[str, Any], patient_id: str | None = None, today: date | None = None, *, trusted_shell: bool = False
) -> FhirImport:
    """Map a FHIR R4 Bundle to a contract-1 case; `today` fixes the date for age and days since surgery.

    `trusted_shell` skips validating the Bundle's own fields (not its resources) when the caller built the
    bundle itself with `bundle_of`, as the CDS Hooks service does.
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
    m.ignored.update(ignored)
    m.issues.extend(issues)
    for key, resource in resources.items():  # primaries of other cancers, so their metastases are not counted
        if resource.get_resource_type() == "Condition":
            hit = _lookup(resource.code, fc.CANCER_CONDITIONS)
            if hit is not None and hit.meaning not in ("rectal", "local_recurrence"):
                m.other_cancers[key] = hit.meaning
    for ref, resource in parsed.items():
        if ref.startswith(("Medication/", "BodyStructure/")):
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
    prior: dict[str, Any] = {}
    if m.pelvic_rt:
        prior["pelvic_radiation"] = True
        prov["prior.pelvic_radiation"] = ", ".join(m.pelvic_rt)
    lines = list(m.lines())
    if lines:
        prior["systemic_lines"] = []
        for i, (agents, stopped, refs) in enumerate(lines):
            if stopped == "ongoing" and i != len(lines) - 1:
                stopped = None
            prior["systemic_lines"].append({"agents": agents} | ({"stopped_for": stopped} if stopped else {}))
            prov[f"prior.systemic_lines[{i}]"] = ", ".join(refs)
    if m.surgeries:
        prior["surgeries"] = list(m.surgeries)
        for i, refs in enumerate(m.surgeries.values()):
            prov[f"prior.surgeries[{i}]"] = ", ".join(dict.fromkeys(refs))
    if prior:
        case["prior"] = prior
    if m.major_surgery:
        when, ref = max(m.major_surgery)
        days = (m.today - when.date()).days
        if days >= 0:
            case["health"] = {"days_since_major_surgery": days}
            prov["health.days_since_major_surgery"] = ref
    return case, prov


def bundle_of(resources: Iterable[Any], bundle_id: str = "prefetch") -> dict[str, Any]:
    """Flatten resources and search-set Bundles (e.g. CDS Hooks prefetch values) into one Bundle."""
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
                and e["resource"].get("resourceType") != "OperationOutcome"
            ]
        else:
            entries.append({"resource": item})
    return {"resourceType": "Bundle", "id": bundle_id, "type": "collection", "entry": entries}
