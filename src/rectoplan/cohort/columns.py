"""The flattened case: the case contract as one row of documented columns (docs/cohort.md).

Registries keep cases as table rows, so cohort mode reads one case per row. This module is the single
definition of those columns: their kinds and domains (for the compiled, column-wise validator and fact
derivation), `unflatten` (a row back to a contract 1 object, validated by the same edge validator as a
single case) and `flatten` (a validated `Case` to its canonical row, used for FHIR bulk input and for rows
the column-wise path leaves to Python). Error paths of contract 1 are translated to column names, so a
registry analyst sees `met_lung_count`, not `metastases[1].count`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Final

from rectoplan.adapters.case_json import parse_case

# The column definitions live in the compiler layer (the compilers read them); re-exported here for the
# cohort readers, tests and bench.
from rectoplan.compile.columns import (
    BY_NAME,
    COLUMNS,
    LINE_AGENTS_MAX,
    STOP_REASONS,
    ColumnKind,
    FlatColumn,
    declared_column,
)
from rectoplan.core.case import RESECTABILITY, SITES, Case
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.fields import FIELDS

__all__ = [  # the column definitions (from the compiler layer) and this module's row readers and writers
    "BY_NAME",
    "COLUMNS",
    "LINE_AGENTS_MAX",
    "RESECTABILITY",
    "STOP_REASONS",
    "ColumnKind",
    "FlatColumn",
    "declared_column",
    "flatten",
    "flatten_contract",
    "unflatten",
    "validate_row",
]

_RANK: Final = {"resectable": 0, "potentially_resectable": 1, "unresectable": 2}
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,4000}")  # int() refuses longer texts: they stay text, an error row


# ------------------------------------------------------------------------------------------------------
# Row -> contract 1


def _convert(col: FlatColumn, value: Any, problems: list[Problem]) -> Any:
    """Text from CSV (or any text column) to the column's type; what does not convert is kept as found,
    so the edge validator reports it with its own words."""
    if isinstance(value, str):
        if value == "":
            return None
        if col.kind == "int" and _INT_TEXT.fullmatch(value.strip()):
            return int(value)
        if col.kind in ("bool", "staged") and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if col.kind in ("enum_list", "id_list", "lines") or col.name == "prior_courses":
            try:
                return json.loads(value)
            except (ValueError, RecursionError):
                problems.append(Problem(col.name, repr(value)[:60], 'a JSON list, e.g. [] or ["a", "b"]'))
                return None
    if col.kind == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if col.kind == "lines" and isinstance(value, list):
        # Native nested columns: a struct field that is null in this row was absent in its source.
        return [{k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item for item in value]
    return value


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def unflatten(row: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """A flattened row (column name -> value) as a contract 1 object, plus problems the row shape causes
    before contract 1 validation (undecodable JSON, a contradiction between metastases_known and met_*)."""
    problems: list[Problem] = []
    case: dict[str, Any] = {"format": "rectoplan.case/2"}
    sites: dict[str, dict[str, Any]] = {}
    staged: Any = None
    for col in COLUMNS:
        if col.name not in row:
            continue
        value = _convert(col, row[col.name], problems)
        if value is None:
            continue
        if col.kind == "staged":
            staged = value
        elif col.path[0] == "metastases":
            sites.setdefault(col.path[1], {"site": col.path[1]})[col.path[2]] = value
        else:
            _put(case, col.path, value)
    if staged is not None and not isinstance(staged, bool):
        problems.append(Problem("metastases_known", repr(staged)[:60], "true or false"))
    elif sites:
        if staged is False:
            named = next(
                c.name
                for c in COLUMNS
                if c.path[:2] == ("metastases", next(iter(sites))) and row.get(c.name) not in (None, "")
            )
            problems.append(
                Problem(
                    "metastases_known",
                    f"false while {named} is filled",
                    "true or empty whenever a met_* column is filled",
                )
            )
        case["metastases"] = [sites[s] for s in SITES if s in sites]
    elif staged is True:
        case["metastases"] = []
    return case, problems


def validate_row(row: Mapping[str, Any], drugs: Collection[str], procedures: Collection[str]) -> Case:
    """A flattened row through the edge validator; raises `CaseError` with column-named paths."""
    data, problems = unflatten(row)
    if problems:
        raise CaseError(problems)
    try:
        return parse_case(data, drugs, procedures)
    except CaseError as exc:
        raise CaseError([_column_problem(p, data) for p in exc.problems]) from None


_SECTION_PREFIX: Final = {
    "primary": "primary_",
    "local_recurrence": "local_recurrence_",
    "prior": "prior_",
    "biomarkers": "",
    "health": "",
    "preferences": "",
}
_PRIOR_NAMES: Final = {"systemic_lines": "lines"}


def _column_problem(p: Problem, data: Mapping[str, Any]) -> Problem:
    """Rename a contract 1 path (`metastases[1].count`) to the column that holds it (`met_lung_count`), and
    the other fields a problem names in its words (`'in_place' while prior.surgeries lists ...`) to their
    columns too (`prior_surgeries`): a registry analyst reads the names of the row (review 14, F13)."""
    found, expected = _columns_named(p.found, False), _columns_named(p.expected, False)
    path = p.path
    m = re.fullmatch(r"metastases\[(\d+)\]\.(count|resectability)(.*)", path)
    if m:
        site = data["metastases"][int(m.group(1))]["site"]
        return Problem(f"met_{site}_{m.group(2)}{m.group(3)}", found, expected, p.suggestion)
    return Problem(_columns_named(path, True), found, expected, p.suggestion)


# A field's key may hold digits (`health.bilirubin_over_3_uln`), never as its first character.
_SECTION_PATH: Final = re.compile(
    r"\b(primary|local_recurrence|prior|biomarkers|health|preferences)\.([a-z][a-z0-9_]*)"
)
_COLUMN_AT: Final = {".".join(c.path): c.name for c in COLUMNS if len(c.path) == 2}


def _columns_named(text: str, any_field: bool) -> str:
    """`text` with each dotted path of a field that has a column (`prior.systemic_lines`, `biomarkers.kras`)
    written as that column (`prior_lines`, `kras`); indexes and keys after it (`[1].stopped_for`) stay. A
    problem's own path (`any_field`) is renamed by its section's prefix even without a column of its own."""

    def column(m: re.Match[str]) -> str:
        known = _COLUMN_AT.get(m.group(0))
        if known is not None or not any_field:
            return known or m.group(0)
        name = _PRIOR_NAMES.get(m.group(2), m.group(2)) if m.group(1) == "prior" else m.group(2)
        return f"{_SECTION_PREFIX[m.group(1)]}{name}"

    return _SECTION_PATH.sub(column, text)


# ------------------------------------------------------------------------------------------------------
# Case -> canonical row


def _worst(values: list[str | None]) -> str | None:
    if "unresectable" in values:
        return "unresectable"
    if None in values or not values:
        return None
    return max((v for v in values if v is not None), key=_RANK.__getitem__)


def flatten(case: Case) -> dict[str, Any]:
    """The canonical row of a validated case: `validate_row(flatten(c))` gives a case with the same facts.

    Two 'other' metastases (allowed by contract 1) merge into one row entry with the summed count and the
    least favourable resectability, which leaves every fact unchanged. The table's fields
    (`rectoplan.core.fields`) are copied as they are; the rest is the inverse of `unflatten`."""
    p = case.prior
    row: dict[str, Any] = dict.fromkeys(_NAMES)
    row["id"] = case.id
    for fact, column in _ATTRIBUTE_COLUMNS:  # the table's contract 1 fields (attributes of the case)
        row[column] = case.value(fact)
    for fact, value in case.declared:  # and its contract 2 fields
        row[_DECLARED_COLUMN[fact]] = value
    row["primary_symptoms"] = None if case.primary.symptoms is None else list(case.primary.symptoms)
    lr = case.local_recurrence
    if lr is not None:
        row["local_recurrence_resectability"] = lr.resectability or "unknown"
        row["local_recurrence_symptoms"] = None if lr.symptoms is None else list(lr.symptoms)
    if case.metastases is not None:
        row["metastases_known"] = True
        for site in SITES:
            here = [m for m in case.metastases if m.site == site]
            if not here:
                continue
            counts = [m.count for m in here]
            row[f"met_{site}_count"] = None if None in counts else sum(c for c in counts if c is not None)
            row[f"met_{site}_resectability"] = _worst([m.resectability for m in here]) or "unknown"
            sizes = [m.largest_mm for m in here]
            row[f"met_{site}_largest_mm"] = None if None in sizes else max(s for s in sizes if s is not None)
    row["kras_variant"] = case.biomarkers.kras_variant
    row["prior_lines"] = (
        None
        if p.systemic_lines is None
        else [
            {
                "agents": list(line.agents),
                "stopped_for": line.stopped_for,
                **({} if line.progressed_on is None else {"progressed_on": list(line.progressed_on)}),
            }
            for line in p.systemic_lines
        ]
    )
    row["prior_surgeries"] = None if p.surgeries is None else list(p.surgeries)
    return row


_NAMES: Final = tuple(c.name for c in COLUMNS)
_ATTRIBUTE_COLUMNS: Final = tuple((f.fact, f.column) for f in FIELDS if f.contract == 1)
_DECLARED_COLUMN: Final = {f.fact: f.column for f in FIELDS if f.contract == 2}


def flatten_contract(data: Mapping[str, Any]) -> dict[str, Any]:
    """A (valid) contract 1 object as a flattened row, keeping values as given (for generated cohorts)."""
    row: dict[str, Any] = {}
    for col in COLUMNS:
        if col.kind == "staged" or col.path[0] == "metastases":
            continue
        node: Any = data
        for key in col.path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            row[col.name] = node
    mets = data.get("metastases")
    if mets is not None:
        row["metastases_known"] = True
        for m in mets:
            site = m["site"]
            if "count" in m:
                row[f"met_{site}_count"] = m["count"]
            if "largest_mm" in m:
                row[f"met_{site}_largest_mm"] = m["largest_mm"]
            if "resectability" in m or "count" not in m:
                row[f"met_{site}_resectability"] = m.get("resectability", "unknown")
    lr = data.get("local_recurrence")
    if lr is not None and "resectability" not in lr and "symptoms" not in lr:
        row["local_recurrence_resectability"] = "unknown"
    return row
