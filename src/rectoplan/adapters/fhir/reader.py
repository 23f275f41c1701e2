"""The state one import collects, and the bookkeeping every per-resource reader shares.

The mapping walks the parsed resources once; each resource type has its own reader (conditions,
observations, treatments), all writing into this one state, so that every resource ends up in exactly one
of `used`, `ignored` or `issues`. The concrete mapper in `bundle` combines the readers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rectoplan.adapters.fhir.values import _local_day
from rectoplan.core.errors import Problem

# Where the case date comes from, as every message about a date after it says.
CASE_DATE = "the case date (the service's request date, else Bundle.timestamp, else today)"
# Choice types of a date element that are not a date (FHIR onset[x], abatement[x], performed[x]): an age, a
# range of ages or free text cannot be compared with the case date, so the resource's date cannot be read.
_NOT_DATES = ("String", "Age", "Range")


@dataclass(frozen=True, slots=True)
class _Finding:
    value: Any
    when: datetime | None
    ref: str
    note: str


@dataclass(frozen=True, slots=True)
class _Dose:
    """One drug given: contract 1's stop reason (`status`), and what contract 2's courses need besides."""

    drug: str
    when: datetime | None
    status: str | None
    ref: str
    end: datetime | None = None
    setting: str | None = None  # TREATMENT_INTENTS meaning, or None when not recorded
    course_status: str | None = None  # ongoing | completed | stopped | None (unknown)
    stopped_for: str | None = None  # a contract-2 stop reason, with course_status "stopped"


@dataclass(frozen=True, slots=True)
class _Status:
    """One tumour-response assessment (mCODE CancerDiseaseStatus), waiting to be attached to its course."""

    when: datetime | None
    meaning: str | None  # a contract-2 best_response, or None when the answer is not graded
    ref: str
    shown: str  # the answer as coded, for messages
    targets: tuple[str, ...]  # references to the treatment it assesses (partOf, basedOn)


class Reader:
    """What the readers collect about one patient, and how they record it; `visit` dispatches by type."""

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
        self.stage_iv_dates: list[tuple[datetime, str]] = []
        self.advanced_dates: list[tuple[datetime, str]] = []  # onsets of metastases and local recurrences
        self.resection_dates: list[tuple[datetime, str]] = []
        self.stoma: list[str] = []
        self.other_cancers: dict[str, str] = {}  # reference (id or fullUrl) -> meaning, of non-rectal primaries
        self.statuses: list[_Status] = []  # tumour-response assessments, attached to courses in fhir/response.py
        # Why the patient's Specimens could not be read (the service's `specimens` prefetch), else None.
        self.unread_specimens: str | None = None

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def use(self, ref: str, what: str) -> None:
        if what not in self.used.get(ref, "").split("; "):
            self.used[ref] = f"{self.used[ref]}; {what}" if ref in self.used else what

    def issue(self, ref: str, found: str, expected: str) -> None:
        self.issues.append(Problem(ref, found, expected))

    def after_case_date(
        self, ref: str, on: str, dates: Iterable[tuple[str, Any]], thing: str = "record", kept: str = ""
    ) -> bool:
        """Report each date of a resource that is after the case date, or that cannot be read, and return True
        when there is one: the caller then does not use the resource, so what it says stays unknown.

        Why: the case is assessed as of its date; a record dated later was not known then, and a future date
        is an entry error no reading can repair. A date that cannot be read (free text, an age) is not known
        to be on or before the case date, so it is never taken as if it were. Day precision, on the day as
        written (`_local_day`): the case date's evening in a time zone behind UTC is not after it; a partial
        date ('2026-03') counts from its first day. `on` names the resource ('condition SNOMED 94381002');
        `thing` what is not used ('result', 'condition', 'procedure', 'treatment record'); `kept`, when the
        caller keeps the resource without these dates (the end of a treatment that began by the case date:
        it was given, and hiding it would be the favourable reading), says so instead."""
        today, problems = self.today, []
        for name, value in dates:
            if value is None:
                continue
            if name.endswith(_NOT_DATES):
                problems.append(f"{name} {_shown(value)}, which is not a date that can be compared with the case date")
            elif (day := _local_day(value)) is None:
                problems.append(f"{name} {_shown(value)}, a date that cannot be read")
            elif day > today:
                problems.append(f"{name} {day.isoformat()}, after the case date {today.isoformat()}")
        for problem in problems:
            self.issue(
                ref,
                f"{problem}, on {on}",
                f"a {thing} dated on or before {CASE_DATE}; "
                + (kept or f"the {thing} is not used, so what it says is left unknown"),
            )
        return bool(problems)

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
        if kind in ("Patient", "Medication", "BodyStructure", "Specimen"):
            return  # read through references; the Patient is handled by the caller
        other = self.other_patient(resource)
        if other is not None:
            self.issue(ref, f"a {kind} about {other}", f"data about {self.patient} only (not used)")
            return
        handler = getattr(self, f"_{kind.lower()}")
        handler(ref, resource)

    def for_other_cancer(self, references: list[str]) -> str | None:
        """The other cancer these references all point to (e.g. a breast primary), if they do."""
        known = [self.other_cancers.get(r) for r in references]
        return known[0] if references and all(known) else None


def _shown(value: Any) -> str:
    """A date element as a message shows it: free text quoted, an age or range by its numbers."""
    if isinstance(value, str):
        return repr(value[:40])
    low, high = getattr(value, "low", None), getattr(value, "high", None)
    if low is not None or high is not None:
        return f"{_shown(low) if low is not None else '?'} to {_shown(high) if high is not None else '?'}"
    number, unit = getattr(value, "value", None), getattr(value, "unit", None) or getattr(value, "code", None)
    return f"{number} {unit or ''}".strip() if number is not None else "(no value)"
