"""The flat cohort columns: one declared list of the columns of a flattened case (docs/cohort.md).

The compilers (`case_columns.py`, `arrow_lists.py`) derive facts from these columns and validate them
column-wise; `rectoplan.cohort.columns` (which re-exports these names) reads and writes rows with them.
They live here, in the compiler layer, so that the compilers never import the cohort package above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from rectoplan.core.case import RESECTABILITY, SITES, STOPPED_FOR, SYMPTOMS
from rectoplan.core.fields import FIELDS, DeclaredField, laid_out

ColumnKind = Literal["id", "int", "bool", "enum", "text", "enum_list", "id_list", "lines", "staged", "raw"]
# "raw": contract 2 inputs that only the edge reads (courses, dates): a row that fills one is always
# worked out by the edge validator, which gives its canonical row (lines and declared history columns).


@dataclass(frozen=True, slots=True)
class FlatColumn:
    """One column of the flattened case. `path` is where the value goes in contract 1."""

    name: str
    kind: ColumnKind
    path: tuple[str, ...]
    doc: str
    values: tuple[str, ...] = ()  # enum domain (or list member domain)
    low: int = 0
    high: int = 0
    max_items: int = 0  # lists: most members (pydantic max_length)
    max_chars: int = 0  # text: longest value


def _columns() -> tuple[FlatColumn, ...]:
    """The table of flat columns: one per field of `rectoplan.core.fields.FIELDS`, and the columns of what
    the table does not hold, each group after the table field it has always followed (the order is public).

    Long by design: it is data, one entry per column."""
    lesions = [
        FlatColumn(
            "primary_symptoms",
            "enum_list",
            ("primary", "symptoms"),
            "symptoms from the primary tumour; [] = none, empty = unknown",
            values=SYMPTOMS,
            max_items=3,
        ),
        FlatColumn(
            "local_recurrence_resectability",
            "enum",
            ("local_recurrence", "resectability"),
            "resectability of a local recurrence; filling it (even with 'unknown') records a local recurrence",
            values=RESECTABILITY,
        ),
        FlatColumn(
            "local_recurrence_symptoms",
            "enum_list",
            ("local_recurrence", "symptoms"),
            "symptoms from the local recurrence (also records a local recurrence)",
            values=SYMPTOMS,
            max_items=3,
        ),
        FlatColumn(
            "metastases_known",
            "staged",
            ("metastases",),
            "distant staging done: true with no met_* column filled means no metastases; empty means"
            " unknown unless a met_* column is filled",
        ),
    ]
    for site in SITES:
        lesions.append(
            FlatColumn(
                f"met_{site}_count",
                "int",
                ("metastases", site, "count"),
                f"number of {site} metastases (records {site} metastases)",
                low=1,
                high=1000,
            )
        )
        lesions.append(
            FlatColumn(
                f"met_{site}_resectability",
                "enum",
                ("metastases", site, "resectability"),
                f"resectability of {site} metastases; 'unknown' records them with unknown resectability",
                values=RESECTABILITY,
            )
        )
        lesions.append(
            FlatColumn(
                f"met_{site}_largest_mm",
                "int",
                ("metastases", site, "largest_mm"),
                f"largest {site} metastasis in mm (contract 2; records {site} metastases)",
                low=1,
                high=300,
            )
        )
    variant = FlatColumn(
        "kras_variant",
        "text",
        ("biomarkers", "kras_variant"),
        "KRAS variant such as G12C (only with kras = mutant)",
        max_chars=40,
    )
    history = [
        FlatColumn(
            "prior_lines",
            "lines",
            ("prior", "systemic_lines"),
            "prior systemic lines, oldest first: a list of {agents: [drug ids], stopped_for}; [] = none"
            " given, empty = unknown",
            max_items=20,
        ),
        FlatColumn(
            "prior_surgeries",
            "id_list",
            ("prior", "surgeries"),
            "operations already done (procedure ids); [] = none, empty = unknown",
            max_items=20,
        ),
    ]
    ident = FlatColumn(
        "id", "id", ("id",), "case identifier (required; text, or a whole number read as text)", max_chars=200
    )
    after = {"": [ident], "primary.status": lesions, "biomarkers.kras": [variant], "prior.pelvic_radiation": history}
    cols = laid_out(FIELDS, declared_column, after)
    cols += [
        FlatColumn("as_of", "raw", ("as_of",), "the case date (YYYY-MM-DD), needed with dated courses"),
        FlatColumn("advanced_disease_date", "raw", ("advanced_disease_date",), "date advanced disease was diagnosed"),
        FlatColumn(
            "prior_courses",
            "raw",
            ("prior", "courses"),
            "treatment courses as in contract 2 (a JSON list); read by the edge into prior_lines and the"
            " prior_* history columns",
        ),
        FlatColumn(
            "liquid_ras_date", "raw", ("biomarkers", "liquid_ras_date"), "date of the liquid biopsy (YYYY-MM-DD)"
        ),
    ]
    return tuple(cols)


def declared_column(f: DeclaredField) -> FlatColumn:
    """The flat column of a field of the table (`rectoplan.core.fields`); an enumeration's column also
    takes the field's unknown token (`kras = unknown`), read as an empty cell."""
    doc = f.doc + (f" ({f.unit})" if f.unit else "")
    return FlatColumn(f.column, f.kind, f.path, doc, values=f.json_values, low=f.low, high=f.high)


COLUMNS: Final = _columns()
BY_NAME: Final = {c.name: c for c in COLUMNS}
LINE_AGENTS_MAX: Final = 10  # pydantic: agents per line
STOP_REASONS: Final = STOPPED_FOR
