"""What contract 2 adds at the edge: declared fields, courses, preferences, dates and lab notations.

The pydantic models of the case's objects are generated from the field table `rectoplan.core.fields.FIELDS`
(`section_model`), so the validation can never drift from the fact schema, the cohort columns or the
verifier. The readings
that turn what a clinician records into what the rules read (courses into lines, a HER2 test result into
HER2 status, `p.Gly12Cys` into `G12C`, a list of declined treatments into yes/no facts) are here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from rectoplan.adapters.courses import (
    BEST_RESPONSES,
    SETTINGS,
    STATUSES,
    STOP_REASONS,
    Timeline,
    When,
    course_problems,
    history,
    parse_date,
)
from rectoplan.adapters.variants import VariantError, read_kras_variant
from rectoplan.core.case import Course
from rectoplan.core.errors import Problem
from rectoplan.core.fields import DECLINABLE, FIELDS, HER2_POSITIVE_RESULTS, DeclaredField, laid_out

DateText = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
Months = Annotated[int, Field(ge=0, le=600)]
Agent = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _annotation(f: DeclaredField) -> Any:
    if f.kind == "bool":
        return bool | None
    if f.kind == "int":
        return Annotated[int, Field(ge=f.low, le=f.high)] | None
    return Literal.__getitem__(f.json_values) | None  # type: ignore[operator]


def section_model(
    name: str, section: str, after: Mapping[str, Mapping[str, Any]] | None = None, **extra: Any
) -> type[BaseModel]:
    """The pydantic model of one object of the case JSON ("" for the case itself): the table's fields of
    `section` (`rectoplan.core.fields.FIELDS`, contracts 1 and 2) and the fields the table does not hold
    (identifiers, list-shaped parts, dates), each group of those placed after the table field `after` names
    (`""`: first), then `extra`: the field order of the JSON schema and of error listings is kept."""
    fields = [f for f in FIELDS if f.section == section]
    own = {fact: list(defs.items()) for fact, defs in (after or {}).items()}
    definitions = laid_out(fields, lambda f: (f.name, (_annotation(f), None)), own)
    model: type[BaseModel] = create_model(name, __base__=_Model, **dict(definitions), **extra)
    return model


class CourseIn(_Model):
    agents: list[Agent] = Field(min_length=1, max_length=10)
    setting: Literal[SETTINGS]  # type: ignore[valid-type]
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    stopped_for: Literal[STOP_REASONS] | None = None  # type: ignore[valid-type]
    best_response: Literal[BEST_RESPONSES] | None = None  # type: ignore[valid-type]
    start: DateText | None = None
    end: DateText | None = None
    start_months_ago: Months | None = None
    end_months_ago: Months | None = None


PreferencesIn = section_model(
    "PreferencesIn",
    "preferences",
    {"": {"declines": (list[Literal[(*DECLINABLE, "trials")]] | None, Field(default=None, max_length=5))}},  # type: ignore[valid-type]
)


def read_timeline(
    as_of_text: str | None, advanced_text: str | None, advanced_months: int | None, problems: list[Problem]
) -> Timeline:
    """The case date and when advanced disease was diagnosed, read once for everything that needs them
    (courses, a dated liquid biopsy)."""
    as_of = parse_date(as_of_text, "as_of", problems) if as_of_text else None
    advanced: When | None = advanced_months  # whole months before the case date, kept exactly
    if advanced_text:
        when = parse_date(advanced_text, "advanced_disease_date", problems)
        if when is not None and as_of is None:
            problems.append(Problem("advanced_disease_date", "a date without as_of", "as_of (the case date)"))
        elif when is not None and as_of is not None:
            advanced = when
    return Timeline(as_of, advanced)


def read_courses(
    raw: list[dict[str, Any]], timeline: Timeline, problems: list[Problem]
) -> tuple[tuple[Course, ...], Any, dict[str, object]]:
    """(courses, lines for advanced disease, derived history facts) from validated course objects."""
    courses = []
    for i, c in enumerate(raw):
        path = f"prior.courses[{i}]"
        start_days, start = timeline.read(c, "start", path, problems)
        end_days, end = timeline.read(c, "end", path, problems)
        courses.append(
            Course(
                tuple(c["agents"]),
                c["setting"],
                c.get("status"),
                c.get("stopped_for"),
                c.get("best_response"),
                start_days,
                end_days,
                start,
                end,
            )
        )
    problems += course_problems(courses, "prior.courses")
    lines, facts = history(courses, timeline)
    return tuple(courses), lines, facts


def merge_derived(
    declared: dict[str, object], derived: Mapping[str, object], source: str, problems: list[Problem]
) -> None:
    """Add derived facts; one also given directly must agree with what the source implies."""
    for fact, value in derived.items():
        given = declared.get(fact)
        if given is not None and given != value:
            problems.append(
                Problem(
                    fact, f"{given!r} while {source} implies {value!r}", f"the value {source} implies, or leave it out"
                )
            )
        declared[fact] = value


def read_variant(text: str | None, problems: list[Problem]) -> str | None:
    """The canonical KRAS variant of a report's text, or None with a problem saying why it cannot be read
    (which notation was expected, or that its coding and protein changes disagree): never a silent "other"."""
    if text is None:
        return None
    try:
        return read_kras_variant(text)
    except VariantError as exc:
        problems.append(Problem("biomarkers.kras_variant", repr(text), str(exc)))
        return None


def her2_from_result(result: object) -> str | None:
    if result is None:
        return None
    return "positive" if result in HER2_POSITIVE_RESULTS else "negative"


def declines(listed: list[str] | None) -> dict[str, object]:
    if listed is None:
        return {}
    return {f"preferences.declines_{m}": m in listed for m in DECLINABLE}


def liquid_days(text: str | None, timeline: Timeline, problems: list[Problem]) -> int | None:
    """Days from the liquid biopsy to the case date (its months are a fact; its days are compared with the
    end of the last anti-EGFR course and of the last course).

    A result dated after the case date is a data-entry error, rejected as a course ending after it is
    (review 13, finding 5): read as "taken now", it would open an anti-EGFR rechallenge on no real result."""
    if text is None:
        return None
    when = parse_date(text, "biomarkers.liquid_ras_date", problems)
    if when is None:
        return None
    if timeline.as_of is None:
        problems.append(Problem("biomarkers.liquid_ras_date", repr(text), "as_of (the case date) with a dated result"))
        return None
    days = (timeline.as_of - when).days
    if days < 0:
        problems.append(
            Problem("biomarkers.liquid_ras_date", f"{text} after as_of {timeline.as_of}", "a date on or before as_of")
        )
        return None
    return days
