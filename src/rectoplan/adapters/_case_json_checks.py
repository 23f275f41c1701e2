"""The cross-field checks of a validated case: contradictions no schema can express.

Split from `rectoplan.adapters.case_json`: pydantic checks each field alone; these check fields against
each other (a wild-type KRAS with a KRAS variant, a local recurrence with the primary still in place, an
abdominoperineal resection with the primary still in place or without a stoma, a site listed twice, an
ongoing line followed by another) and drug and procedure ids against the vocabulary, so that a
contradictory case is refused with every problem named, never half-read. The cohort's column-wise checks
(`rectoplan.compile.case_columns.Normalizer`) send every row these could refuse to this validator.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any, Final

from rectoplan.core.errors import Problem

# An abdominoperineal resection removes the rectum and the anus and leaves a permanent end colostomy (the
# knowledge base's source statpearls-apr): the primary is no longer in place and a stoma exists.
APR: Final = "abdominoperineal_resection"


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
        problems += _after_apr_problems(c)
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
