"""The case JSON (`rectoplan.case/2`, which reads every `rectoplan.case/1` case) at the edge: pydantic
validation with precise, field-level errors.

Pydantic checks shapes and enumerations; the cross-field checks below catch contradictions (a wild-type
KRAS with a KRAS variant, a local recurrence with the primary still in place) that no schema can express.
The result is a frozen `Case`, so the engine never sees unvalidated data.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from rectoplan.adapters.case_v2 import (
    CourseIn,
    PreferencesIn,
    declines,
    her2_from_result,
    liquid_days,
    merge_derived,
    read_courses,
    read_timeline,
    read_variant,
    section_model,
)
from rectoplan.adapters.courses import liquid_biopsy_after_anti_egfr, months
from rectoplan.adapters.json_text import decode_json, decode_with_unique_keys, duplicate_key
from rectoplan.core.case import (
    Biomarkers,
    Case,
    Course,
    Health,
    LocalRecurrence,
    Metastasis,
    Primary,
    Prior,
    SystemicLine,
)
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.fields import BY_FACT, FIELDS

__all__ = [  # the JSON text functions live in json_text; re-exported for the adapters, service and cohort
    "CASE_FORMAT",
    "CaseIn",
    "decode_json",
    "decode_with_unique_keys",
    "duplicate_key",
    "parse_case",
]

CASE_FORMAT = "rectoplan.case/2"
MAX_TEXT = 200

# No control characters: an id is echoed into terminals, logs and reports (an escape sequence could
# rewrite a clinician's screen).
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"^[^\x00-\x1f\x7f]*$")]
Resectability = Literal["resectable", "potentially_resectable", "unresectable", "unknown"]
Symptom = Literal["obstruction", "bleeding", "pain"]
Site = Literal["liver", "lung", "peritoneum", "distant_lymph_nodes", "bone", "brain", "other"]
DateText = Annotated[str, StringConstraints(max_length=10)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalRecurrenceIn(_Model):
    resectability: Resectability | None = None
    symptoms: list[Symptom] | None = Field(default=None, max_length=3)


class MetastasisIn(_Model):
    site: Site
    count: Annotated[int, Field(ge=1, le=1000)] | None = None
    resectability: Resectability | None = None
    largest_mm: Annotated[int, Field(ge=1, le=300)] | None = None


class SystemicLineIn(_Model):
    agents: list[Text] = Field(min_length=1, max_length=10)
    stopped_for: Literal["progression", "intolerance", "completed", "ongoing"] | None = None
    # The drugs the cancer grew on, when not all of the line's (progression during maintenance).
    progressed_on: list[Text] | None = Field(default=None, min_length=1, max_length=10)


# The objects of the case: the scalar fields come from the field table (`rectoplan.core.fields`), in its
# order; what the table does not hold is placed after the table field named (the JSON schema's order).
PrimaryIn = section_model(
    "PrimaryIn",
    "primary",
    {"primary.status": {"symptoms": (list[Symptom] | None, Field(default=None, max_length=3))}},
)
BiomarkersIn = section_model(
    "BiomarkersIn",
    "biomarkers",
    {
        "biomarkers.kras": {
            "kras_variant": (Annotated[str, StringConstraints(min_length=1, max_length=40)] | None, None)
        }
    },
    liquid_ras_date=(DateText | None, None),
)
PriorIn = section_model(
    "PriorIn",
    "prior",
    {
        "prior.pelvic_radiation": {
            "systemic_lines": (list[SystemicLineIn] | None, Field(default=None, max_length=20)),
            "courses": (list[CourseIn] | None, Field(default=None, max_length=30)),
            "surgeries": (list[Text] | None, Field(default=None, max_length=20)),
        }
    },
)
HealthIn = section_model("HealthIn", "health")
CaseIn = section_model(
    "CaseIn",
    "",
    {
        "": {
            "format": (Literal["rectoplan.case/1", "rectoplan.case/2"] | None, None),
            "id": (Text, ...),
            "as_of": (DateText | None, None),
            "advanced_disease_date": (DateText | None, None),
            "advanced_disease_months_ago": (Annotated[int, Field(ge=0, le=600)] | None, None),
        },
        "ecog": {
            "primary": (PrimaryIn | None, None),
            "local_recurrence": (LocalRecurrenceIn | None, None),
            "metastases": (list[MetastasisIn] | None, Field(default=None, max_length=7)),
            "biomarkers": (BiomarkersIn | None, None),
            "prior": (PriorIn | None, None),
            "health": (HealthIn | None, None),
        },
        "wants_clinical_trials": {"preferences": (PreferencesIn | None, None)},
    },
)


_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _found(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Walk the model tree along `loc` to offer 'did you mean' for unknown fields."""
    model: type[BaseModel] | None = CaseIn
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _expected(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "missing":
        return "a value (this field is required)"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo, hi = ctx.get("ge", ctx.get("gt")), ctx.get("le", ctx.get("lt"))
        bound = f">= {lo}" if lo is not None else f"<= {hi}"
        return f"a number {bound}"
    if kind in ("too_long", "too_short"):
        return f"{ctx.get('field_type', 'value')} of allowed length ({err['msg'].lower()})"
    if kind in ("string_too_long", "string_too_short"):
        return f"text of {err['msg'].lower().removeprefix('string should have ')}"
    if kind.startswith("int") or kind == "int_type":
        return "a whole number"
    if kind == "bool_type":
        return "true or false"
    if kind == "string_type":
        return "text"
    if kind == "string_pattern_mismatch":
        return "text without control characters (such as newlines, tabs or escape codes)"
    if kind in ("list_type",):
        return "a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "an object"
    return str(err["msg"]).lower()


def _problems_from(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _path(loc)
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            known = list(model.model_fields) if model else []
            near = difflib.get_close_matches(str(loc[-1]), known, n=1)
            problems.append(
                Problem(
                    path,
                    f"unknown field {loc[-1]!r}",
                    f"one of the fields {', '.join(known)}" if known else "no such field",
                    f"did you mean {near[0]!r}?" if near else "",
                )
            )
            continue
        found = "nothing" if err["type"] == "missing" else _found(err.get("input"))
        near = []
        if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str):
            # a misspelt value ('livr', 'mutnat'): the allowed ones are quoted in ctx "'a', 'b' or 'c'"
            allowed = str((err.get("ctx") or {}).get("expected", "")).split("'")[1::2]
            lowered = {a.lower(): a for a in allowed}
            near = [lowered[m] for m in difflib.get_close_matches(err["input"].lower(), list(lowered), n=1)]
        problems.append(Problem(path, found, _expected(err), f"did you mean {near[0]!r}?" if near else ""))
    return problems


def _check_vocabulary(ids: Collection[str], allowed: Collection[str], path: str, what: str) -> list[Problem]:
    problems = []
    for i, name in enumerate(ids):
        if name not in allowed:
            near = difflib.get_close_matches(name, list(allowed), n=1)
            problems.append(
                Problem(
                    f"{path}[{i}]",
                    repr(name),
                    f"a {what} id of the vocabulary",
                    f"did you mean {near[0]!r}?" if near else "",
                )
            )
    return problems


def _contradictions(c: Any, drugs: Collection[str], procedures: Collection[str]) -> list[Problem]:
    """The cross-field contradictions of contract 1. Long and branchy by design: one short check each, a flat list."""
    problems: list[Problem] = []
    b = c.biomarkers
    if b is not None and b.kras_variant is not None and b.kras != "mutant":
        problems.append(
            Problem(
                "biomarkers.kras_variant",
                f"{b.kras_variant!r} while biomarkers.kras is {b.kras or 'absent'!r}",
                "biomarkers.kras = 'mutant' whenever a KRAS variant is given (contradictory facts)",
            )
        )
    if c.local_recurrence is not None and c.primary is not None and c.primary.status == "in_place":
        problems.append(
            Problem(
                "local_recurrence",
                "a local recurrence while primary.status is 'in_place'",
                "primary.status 'resected' (a recurrence follows removal of the primary) or no local_recurrence",
            )
        )
    if c.metastases is not None:
        seen: dict[str, int] = {}
        for i, m in enumerate(c.metastases):
            if m.site in seen and m.site != "other":
                problems.append(
                    Problem(
                        f"metastases[{i}].site",
                        f"{m.site!r} listed again (also metastases[{seen[m.site]}])",
                        "each site once, with its total count",
                    )
                )
            seen.setdefault(m.site, i)
    if c.prior is not None:
        lines = c.prior.systemic_lines or []
        for i, line in enumerate(lines):
            problems += _check_vocabulary(line.agents, drugs, f"prior.systemic_lines[{i}].agents", "drug")
            problems += _progressed_on_problems(line, f"prior.systemic_lines[{i}].progressed_on")
            if line.stopped_for == "ongoing" and i != len(lines) - 1:
                problems.append(
                    Problem(
                        f"prior.systemic_lines[{i}].stopped_for",
                        "'ongoing' on a line that is followed by another line",
                        "'ongoing' only on the last line",
                    )
                )
        problems += _check_vocabulary(c.prior.surgeries or [], procedures, "prior.surgeries", "procedure")
    has_mets = bool(c.metastases)
    if not has_mets and c.local_recurrence is None:
        found = (
            "metastases: [] and no local_recurrence" if c.metastases == [] else "no metastases and no local_recurrence"
        )
        problems.append(
            Problem(
                "metastases",
                found,
                "at least one metastasis (stage 4) or a local_recurrence: rectoplan covers stage 4 or recurrent"
                " rectal cancer only",
            )
        )
    return problems


def _unknown(value: str | None) -> str | None:
    return None if value in (None, "unknown") else value


def _symptoms(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(dict.fromkeys(values))


def _by_section(contract: int) -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]:
    """(section, its fields as (key, fact, unknown token)) of the table's fields of one contract, in table
    order within each section; plain tuples, read for every case."""
    fields = [f for f in FIELDS if f.contract == contract]
    return tuple(
        (s, tuple((f.name, f.fact, f.unknown_token) for f in fields if f.section == s))
        for s in dict.fromkeys(f.section for f in fields)
    )


_ATTRIBUTES = _by_section(1)  # contract 1: attributes of `Case` (and of its parts) of the same name
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


def _attributes_reader() -> Callable[[Any], dict[str, dict[str, Any]]]:
    """A function generated from the table: the validated case -> section -> {attribute: value} of the
    contract 1 fields, as the `Case` holds them (the unknown token read as absent). Straight-line code, as
    `core.facts` does: a loop over the fields costs more than the pydantic checks of those fields."""
    lines = ["def read(c):", "    out = {}"]
    for section, fields in _ATTRIBUTES:
        lines.append(f"    o = c.{section}" if section else "    o = c")
        values = [
            (name, f"(None if o.{name} == {token!r} else o.{name})" if token else f"o.{name}")
            for name, _, token in fields
        ]
        absent = {name: None for name, _, _ in fields}
        lines.append(f"    out[{section!r}] = {absent!r} if o is None else {{")
        lines += [f"        {name!r}: {value}," for name, value in values]
        lines.append("    }")
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<rectoplan.adapters.case_json.read>", "exec"), namespace)  # from the table
    read: Callable[[Any], dict[str, dict[str, Any]]] = namespace["read"]
    return read


_READ_ATTRIBUTES = _attributes_reader()
_WHERE = {fact: (section, name) for section, fields in _ATTRIBUTES for name, fact, _ in fields}


def _attributes(c: Any, derived: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Section -> {attribute: value} of the contract 1 fields, with the values the edge derived (HER2 from
    the reported test, trials declined) in place of the given ones."""
    out = _READ_ATTRIBUTES(c)
    for fact, value in derived.items():
        section, name = _WHERE[fact]
        out[section][name] = value
    return out


def _progressed_on_problems(line: Any, path: str) -> list[Problem]:
    """`progressed_on` names some of the line's own drugs, and only on a line stopped for progression."""
    if line.progressed_on is None:
        return []
    if line.stopped_for != "progression":
        return [Problem(path, f"progressed_on with stopped_for {line.stopped_for!r}", "stopped_for 'progression'")]
    extra = [a for a in line.progressed_on if a not in line.agents]
    if extra:
        return [Problem(path, f"{extra[0]!r}, not one of the line's agents", "some of the line's own agents")]
    return []


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
    if liquid is not None:
        merge_derived(
            declared, {"biomarkers.liquid_ras_months": months(liquid)}, "biomarkers.liquid_ras_date", problems
        )
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
    attributes = {"biomarkers.her2": her2, "wants_clinical_trials": wants}
    return _Derived(variant, lines, courses, declared, attributes), problems


_HER2 = BY_FACT["biomarkers.her2"]


class _Derived(NamedTuple):
    kras_variant: str | None
    lines: tuple[SystemicLine, ...] | None
    courses: tuple[Course, ...] | None
    declared: dict[str, object]
    attributes: dict[str, object]  # contract 1 fields the edge derives (`derived_from`), by fact


def _to_case(c: Any, d: _Derived) -> Case:
    """The `Case`: the table's contract 1 fields by section (`_attributes`), the list-shaped parts here."""
    given = _attributes(c, d.attributes)
    p = c.prior
    lr = c.local_recurrence
    return Case(
        id=c.id,
        **given[""],
        primary=Primary(**given["primary"], symptoms=_symptoms(c.primary.symptoms) if c.primary else None),
        local_recurrence=(
            LocalRecurrence(_unknown(lr.resectability), _symptoms(lr.symptoms)) if lr is not None else None
        ),
        metastases=(
            None
            if c.metastases is None
            else tuple(Metastasis(m.site, m.count, _unknown(m.resectability), m.largest_mm) for m in c.metastases)
        ),
        biomarkers=Biomarkers(**given["biomarkers"], kras_variant=d.kras_variant),
        prior=Prior(
            **given["prior"],
            systemic_lines=d.lines,
            surgeries=None if p is None or p.surgeries is None else tuple(p.surgeries),
            courses=d.courses,
        ),
        health=Health(**given["health"]),
        declared=tuple(sorted(d.declared.items())),
        as_of=c.as_of,
    )


def parse_case(data: object, drugs: Collection[str], procedures: Collection[str]) -> Case:
    """Validate a decoded JSON object as a case (contract 2, or contract 1 read as 2); raise `CaseError`
    listing every problem found."""
    if not isinstance(data, dict):
        raise CaseError([Problem("", _found(data)[:40], "a JSON object (a rectoplan.case/2 case)")])
    try:
        model = CaseIn.model_validate(data)
    except ValidationError as exc:
        raise CaseError(_problems_from(exc)) from None
    problems = _contradictions(model, drugs, procedures)
    derived, more = _contract2(model, drugs)
    problems += more
    if problems:
        raise CaseError(problems)
    return _to_case(model, derived)
