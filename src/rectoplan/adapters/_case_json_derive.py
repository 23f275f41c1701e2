"""What contract 2 derives at the edge from a validated case: lines from courses, the KRAS variant
from a lab notation, HER2 from the reported test, declined treatments, months from dates.

Split from `rectoplan.adapters.case_json`: the derivations read several fields and dates at once and
can find contradictions of their own (a HER2 status against its test result, courses given with
lines); the readings themselves live in `case_v2.py` and `courses.py`, and a new derived field is wired
in here (`_contract2`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, NamedTuple

from rectoplan.adapters._case_json_checks import SINCE_LAST_LINE, _check_vocabulary, _shown
from rectoplan.adapters._case_json_models import BiomarkersIn, PriorIn
from rectoplan.adapters.case_v2 import (
    declines,
    her2_from_result,
    liquid_days,
    merge_derived,
    read_courses,
    read_timeline,
    read_variant,
)
from rectoplan.adapters.courses import calendar_months, liquid_biopsy_after_anti_egfr
from rectoplan.core.case import Course, SystemicLine
from rectoplan.core.errors import Problem
from rectoplan.core.fields import BY_FACT, FIELDS


def _by_section(contract: int) -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]:
    """(section, its fields as (key, fact, unknown token)) of the table's fields of one contract, in table
    order within each section; plain tuples, read for every case."""
    fields = [f for f in FIELDS if f.contract == contract]
    return tuple(
        (s, tuple((f.name, f.fact, f.unknown_token) for f in fields if f.section == s))
        for s in dict.fromkeys(f.section for f in fields)
    )


_DECLARED = _by_section(2)  # contract 2: `Case.declared`


def _declared(c: Any) -> dict[str, object]:
    """The contract 2 fields given directly in the case (known values only)."""
    out: dict[str, object] = {}
    for section_name, fields in _DECLARED:
        section = getattr(c, section_name) if section_name else c
        if section is not None:
            for name, fact, _ in fields:
                value = getattr(section, name)
                if value is not None:
                    out[fact] = value
    return out


def _contract2(c: Any, drugs: Collection[str]) -> tuple[_Derived, list[Problem]]:
    """What contract 2 derives at the edge: courses into lines, lab notations, preferences, dates."""
    problems: list[Problem] = []
    timeline = read_timeline(c.as_of, c.advanced_disease_date, c.advanced_disease_months_ago, problems)
    declared = _declared(c)
    b: Any = c.biomarkers or BiomarkersIn()
    p: Any = c.prior or PriorIn()
    variant = read_variant(b.kras_variant, problems)
    her2 = None if b.her2 == _HER2.unknown_token else b.her2
    result_her2 = her2_from_result(declared.get("biomarkers.her2_result"))
    if result_her2 is not None and her2 is not None and her2 != result_her2:
        problems.append(
            Problem(
                "biomarkers.her2",
                f"{her2!r} while her2_result is {declared['biomarkers.her2_result']!r}",
                repr(result_her2),
            )
        )
    her2 = her2 or result_her2
    liquid = liquid_days(b.liquid_ras_date, timeline, problems)
    if liquid is not None and b.liquid_ras_date is not None and timeline.as_of is not None:
        # Calendar months, as every other interval (review 16, F3/F11): `liquid_days` has read the date and as_of.
        since = calendar_months(date.fromisoformat(b.liquid_ras_date), timeline.as_of)
        merge_derived(declared, {"biomarkers.liquid_ras_months": since}, "biomarkers.liquid_ras_date", problems)
    prefs = c.preferences
    merge_derived(declared, declines(prefs.declines if prefs else None), "preferences.declines", problems)
    wants = c.wants_clinical_trials
    if prefs is not None and prefs.declines is not None and "trials" in prefs.declines:
        if wants is True:
            problems.append(
                Problem("wants_clinical_trials", "true while preferences.declines lists 'trials'", "false or absent")
            )
        wants = False
    lines: tuple[SystemicLine, ...] | None = None
    courses: tuple[Course, ...] | None = None
    if p.systemic_lines is not None:
        lines = tuple(
            SystemicLine(
                tuple(line.agents),
                line.stopped_for,
                None if line.progressed_on is None else tuple(dict.fromkeys(line.progressed_on)),
            )
            for line in p.systemic_lines
        )
    if p.courses is not None:
        if p.systemic_lines is not None:
            problems.append(
                Problem("prior.courses", "both courses and systemic_lines", "one of the two (courses in contract 2)")
            )
        for i, course in enumerate(p.courses):
            problems += _check_vocabulary(course.agents, drugs, f"prior.courses[{i}].agents", "drug")
        raw = [course.model_dump() for course in p.courses]
        courses, lines, derived = read_courses(raw, timeline, problems)
        merge_derived(declared, derived, "prior.courses", problems)
        if courses is not None and liquid is not None:
            after = liquid_biopsy_after_anti_egfr(courses, liquid)
            merge_derived(declared, after, "biomarkers.liquid_ras_date", problems)
    problems += _growth_after_no_line(p, lines)
    attributes = {"biomarkers.her2": her2, "wants_clinical_trials": wants}
    return _Derived(variant, lines, courses, declared, attributes), problems


def _growth_after_no_line(prior: Any, lines: tuple[SystemicLine, ...] | None) -> list[Problem]:
    """`progressed_since_last_line` (true or false) is about the last line for advanced disease. With the lines
    known and none (a history recorded empty, `courses: []` or contract 1's `systemic_lines: []`, or courses
    that make no line: adjuvant therapy only, the relapse more than 6 months after it) it is about a line that
    does not exist, and the rules, which read it only after a line, would drop it silently: refused (stop 19).
    One check on the derived lines, as the z3 contract and the cohort's column checks hold it; an absent
    history is unknown, not empty, and stays valid."""
    grown = prior.progressed_since_last_line
    if grown is None or lines is None or lines:
        return []
    for key in ("courses", "systemic_lines"):
        if getattr(prior, key) == []:
            return [
                Problem(
                    SINCE_LAST_LINE,
                    f"{_shown(grown)} while prior.{key} is empty (no line for advanced disease recorded)",
                    f"no progressed_since_last_line when prior.{key} records no line (the field is about the last"
                    f" line for advanced disease), or that line in prior.{key}",
                )
            ]
    return [
        Problem(
            SINCE_LAST_LINE,
            f"{_shown(grown)} while prior.courses make no line for advanced disease (perioperative courses"
            " only, the relapse more than 6 months after them)",
            "no progressed_since_last_line until a line for advanced disease is recorded in prior.courses",
        )
    ]


_HER2 = BY_FACT["biomarkers.her2"]


class _Derived(NamedTuple):
    kras_variant: str | None
    lines: tuple[SystemicLine, ...] | None
    courses: tuple[Course, ...] | None
    declared: dict[str, object]
    attributes: dict[str, object]  # contract 1 fields the edge derives (`derived_from`), by fact
