"""The case (contract `rectoplan.case/2`, which reads every contract 1 case) as frozen dataclasses.

`None` always means *unknown*; it is never read as a favourable default. Validation happens at the edge
(`rectoplan.adapters.case_json`), so a `Case` that exists is already well formed and consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Final

from rectoplan.core.fields import FIELDS

# The enumerations of the list-shaped parts of contract 1 (those of its scalar fields are in
# `rectoplan.core.fields`). Kept as tuples so the fact schema, the pydantic edge, the cohort compiler and
# the verifier all read the same lists.
RESECTABILITY: Final = ("resectable", "potentially_resectable", "unresectable", "unknown")
SITES: Final = ("liver", "lung", "peritoneum", "distant_lymph_nodes", "bone", "brain", "other")
SYMPTOMS: Final = ("obstruction", "bleeding", "pain")
STOPPED_FOR: Final = ("progression", "intolerance", "completed", "ongoing")
# The settings of a `Course` that make a line for advanced disease (neoadjuvant, adjuvant and perioperative
# courses do not: `adapters.courses`); the validator and the generators read them here.
LINE_SETTINGS: Final = ("advanced", "maintenance")


@dataclass(frozen=True, slots=True)
class Primary:
    status: str | None = None
    symptoms: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LocalRecurrence:
    resectability: str | None = None
    symptoms: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Metastasis:
    site: str
    count: int | None = None
    resectability: str | None = None
    largest_mm: int | None = None  # largest lesion at this site (contract 2), for the local-therapy rules


@dataclass(frozen=True, slots=True)
class Biomarkers:
    kras: str | None = None
    kras_variant: str | None = None
    nras: str | None = None
    braf: str | None = None
    mmr: str | None = None
    her2: str | None = None
    ntrk_fusion: str | None = None
    ret_fusion: str | None = None


@dataclass(frozen=True, slots=True)
class SystemicLine:
    """One line for advanced disease. `progressed_on` names the drugs the cancer grew on when that is not all
    of them: progression during maintenance after an induction that did not progress (contract 2 courses)
    is not progression on the induction-only drugs (oxaliplatin, irinotecan)."""

    agents: tuple[str, ...]
    stopped_for: str | None = None
    progressed_on: tuple[str, ...] | None = None

    @property
    def progressed_agents(self) -> tuple[str, ...]:
        if self.stopped_for != "progression":
            return ()
        return self.agents if self.progressed_on is None else self.progressed_on


@dataclass(frozen=True, slots=True)
class Course:
    """One treatment course as recorded (contract 2): kept for display; the rules read the lines and the
    declared history facts the edge derives from the courses (`rectoplan.adapters.courses`)."""

    agents: tuple[str, ...]
    setting: str
    status: str | None = None
    stopped_for: str | None = None
    best_response: str | None = None
    start_days_ago: int | None = None  # days before the case date (from a date, or months x 30.44): for order only
    end_days_ago: int | None = None
    # The times as recorded, a date or whole months before the case date: months are counted from these, in
    # calendar months (31 Aug to 28 Feb is 6 months), never from the days (which lose a month at month ends).
    start_as_recorded: date | int | None = None
    end_as_recorded: date | int | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """`systemic_lines` are the lines for advanced disease only: adjuvant or perioperative courses are not
    lines, except a relapse within 6 months of their end, which counts as a line that progressed."""

    pelvic_radiation: bool | None = None
    systemic_lines: tuple[SystemicLine, ...] | None = None
    surgeries: tuple[str, ...] | None = None
    courses: tuple[Course, ...] | None = None


@dataclass(frozen=True, slots=True)
class Health:
    dpyd: str | None = None
    days_since_major_surgery: int | None = None
    bleeding_risk: bool | None = None
    fit_for_intensive_therapy: bool | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """A validated patient case. Absent parts are unknown; `metastases=()` states there are none."""

    id: str
    age: int | None = None
    ecog: int | None = None
    primary: Primary = field(default_factory=Primary)
    local_recurrence: LocalRecurrence | None = None
    metastases: tuple[Metastasis, ...] | None = None
    biomarkers: Biomarkers = field(default_factory=Biomarkers)
    prior: Prior = field(default_factory=Prior)
    health: Health = field(default_factory=Health)
    wants_clinical_trials: bool | None = None
    # The declared scalar fields of contract 2 (`rectoplan.core.fields`), as (fact, value) pairs of the
    # known ones only, sorted by fact: absent means unknown.
    declared: tuple[tuple[str, object], ...] = ()
    as_of: str | None = None

    def value(self, fact: str) -> object:
        """The value of one field of `rectoplan.core.fields`, None when unknown."""
        get = _ATTRIBUTE.get(fact)
        if get is not None:
            return get(self)
        for name, value in self.declared:
            if name == fact:
                return value
        return None


# The fields of contract 1 are attributes of `Case` at their path (`rectoplan.core.fields`).
_ATTRIBUTE: Final = {f.fact: attrgetter(f.fact) for f in FIELDS if f.contract == 1}
