"""The cross-field checks of a validated case: contradictions no schema can express.

Split from `rectoplan.adapters.case_json`: pydantic checks each field alone; these check fields against
each other (a wild-type KRAS with a KRAS variant, a local recurrence with the primary still in place, an
abdominoperineal resection with the primary still in place or without a stoma, a site, symptom or declined
treatment listed twice, an ongoing line followed by another, growth recorded since a line that still runs, the
MRI staging of a primary recorded as resected, two yes/no fields that exclude each other: `EXCLUSIVE`) and drug
and procedure ids against the vocabulary, so that a contradictory case is refused with every problem named,
never half-read. Growth since a line there never was is checked on the lines derived from the history
(`_case_json_derive._growth_after_no_line`). The cohort's column-wise checks
(`rectoplan.compile.case_columns.Normalizer`) send every row these could refuse to this validator.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Sequence
from typing import Any, Final

from rectoplan.core.case import LINE_SETTINGS
from rectoplan.core.errors import Problem
from rectoplan.core.fields import EXCLUSIVE as EXCLUSIVE  # declared beside the field table
from rectoplan.core.fields import PRIMARY_IN_PLACE_ONLY

# An abdominoperineal resection removes the rectum and the anus and leaves a permanent end colostomy (the
# knowledge base's source statpearls-apr): the primary is no longer in place and a stoma exists.
APR: Final = "abdominoperineal_resection"

# The fields of the primary that describe a tumour in place (declared with the field table, core/fields.py).
IN_PLACE_ONLY: Final = PRIMARY_IN_PLACE_ONLY
# Growth since the last line for advanced disease: it presupposes that line (`core/fields.py`).
SINCE_LAST_LINE: Final = "prior.progressed_since_last_line"


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
    problems += _resected_primary_problems(c.primary)
    problems += _listed_twice(c.primary.symptoms if c.primary else None, "primary.symptoms", "symptom")
    lr_symptoms = c.local_recurrence.symptoms if c.local_recurrence else None
    problems += _listed_twice(lr_symptoms, "local_recurrence.symptoms", "symptom")
    problems += _listed_twice(c.preferences.declines if c.preferences else None, "preferences.declines", "treatment")
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
        problems += _after_apr_problems(c)
        problems += _growth_on_running_line(c.prior)
    problems += _exclusive_problems(c)
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


def _after_apr_problems(c: Any) -> list[Problem]:
    """An abdominoperineal resection in `prior.surgeries` contradicts a primary recorded as in place and a
    record of no stoma: the operation removed the rectum and anus and left a permanent colostomy. An absent
    status or stoma stays unknown (the rules read the operation itself)."""
    if APR not in (c.prior.surgeries or []) or c.primary is None:
        return []
    problems: list[Problem] = []
    if c.primary.status == "in_place":
        problems.append(
            Problem(
                "primary.status",
                f"'in_place' while prior.surgeries lists {APR!r}",
                "primary.status 'resected' (an abdominoperineal resection removes the rectal primary), or no"
                f" {APR!r} in prior.surgeries",
            )
        )
    if c.primary.stoma is False:
        problems.append(
            Problem(
                "primary.stoma",
                f"false while prior.surgeries lists {APR!r}",
                f"primary.stoma true or absent (an abdominoperineal resection leaves a permanent colostomy), or no"
                f" {APR!r} in prior.surgeries",
            )
        )
    return problems


def _listed_twice(values: Sequence[str] | None, path: str, what: str) -> list[Problem]:
    """A value given twice in a list that is a set (symptoms, declined treatments): refused as a site
    listed twice is (review 14, F13), since the record that was meant is not certain."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values or ()):
        if value in seen:
            problems.append(
                Problem(f"{path}[{i}]", f"{value!r} listed again (also {path}[{seen[value]}])", f"each {what} once")
            )
        seen.setdefault(value, i)
    return problems


def _resected_primary_problems(primary: Any) -> list[Problem]:
    """The MRI staging or the resectability of a primary recorded as resected: they describe a tumour in
    place (review 14, F7 part 4), so either the status or these fields are wrong, and the rules that read
    them for a primary in place must not be fed a removed one."""
    if primary is None or primary.status != "resected":
        return []
    return [
        Problem(
            f"primary.{name}",
            f"{_shown(getattr(primary, name))} while primary.status is 'resected'",
            f"no {name} when primary.status is 'resected' (the MRI staging and the resectability of the primary"
            " describe a tumour in place), or primary.status 'in_place'",
        )
        for name in IN_PLACE_ONLY
        if getattr(primary, name) is not None
    ]


def _shown(value: object) -> str:
    """A value as the other problems show it: text quoted, true/false/numbers as in JSON."""
    return repr(value) if isinstance(value, str) else json.dumps(value)


def _growth_on_running_line(prior: Any) -> list[Problem]:
    """`progressed_since_last_line: true` says the cancer grew after the last line stopped; a last line still
    running has not stopped (review 14, F13). Read as it stands, the plan would be to continue a line the
    record says the cancer outgrew, so the record is refused: growth on a running line is that line stopped
    for progression. `false` with a running line is consistent (no growth on it) and is read as the running
    line's plan."""
    if prior.progressed_since_last_line is not True:
        return []
    path = SINCE_LAST_LINE
    courses, lines = prior.courses or [], prior.systemic_lines or []
    if courses and courses[-1].status == "ongoing" and courses[-1].setting in LINE_SETTINGS:
        where = f"prior.courses[{len(courses) - 1}]"
        return [
            Problem(
                path,
                f"true while {where}.status is 'ongoing' (the last line still runs)",
                f"false or absent while the last line runs; if the cancer grew on it, {where} with status"
                " 'stopped', stopped_for 'progression' and its end",
            )
        ]
    if lines and lines[-1].stopped_for == "ongoing":
        where = f"prior.systemic_lines[{len(lines) - 1}]"
        return [
            Problem(
                path,
                f"true while {where}.stopped_for is 'ongoing' (the last line still runs)",
                f"false or absent while the last line runs; if the cancer grew on it, {where}.stopped_for"
                " 'progression'",
            )
        ]
    return []


def _given(c: Any, fact: str) -> object:
    """The value a validated input model holds for a field of the table (None: absent)."""
    section, _, name = fact.rpartition(".")
    holder = getattr(c, section) if section else c
    return None if holder is None else getattr(holder, name)


def _exclusive_problems(c: Any) -> list[Problem]:
    """Each pair of `EXCLUSIVE` given with the values that exclude each other: refused, naming both fields
    (rule 5), since which of the two is wrong cannot be told and each is read by rules of its own."""
    problems = []
    for pair in EXCLUSIVE:
        if _given(c, pair.field) is pair.value and _given(c, pair.other) is pair.other_value:
            value, other = _shown(pair.value), _shown(pair.other_value)
            problems.append(
                Problem(
                    pair.other,
                    f"{other} while {pair.field} is {value}",
                    f"{_shown(not pair.other_value)} or absent when {pair.field} is {value} ({pair.why}), or"
                    f" {pair.field} {_shown(not pair.value)}",
                )
            )
    return problems
