"""The flat cohort columns: one declared list of the columns of a flattened case (docs/cohort.md).

The compilers (`case_columns.py`, `arrow_lists.py`) derive facts from these columns and validate them
column-wise; `rectoplan.cohort.columns` (which re-exports these names) reads and writes rows with them.
They live here, in the compiler layer, so that the compilers never import the cohort package above them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from rectoplan.core.case import (
    BINARY_STATUS,
    BRAF_STATUS,
    DPYD_STATUS,
    MMR_STATUS,
    PRIMARY_STATUS,
    RAS_STATUS,
    SITES,
    STOPPED_FOR,
    SYMPTOMS,
)
from rectoplan.core.fields import DECLARED, DeclaredField

ColumnKind = Literal["id", "int", "bool", "enum", "text", "enum_list", "id_list", "lines", "staged", "raw"]
# "raw": contract 2 inputs that only the edge reads (courses, dates): a row that fills one is always
# worked out by the edge validator, which gives its canonical row (lines and declared history columns).
RESECTABILITY: Final = ("resectable", "potentially_resectable", "unresectable", "unknown")


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
    """The table of flat columns. Long by design: it is data, one entry per column."""
    cols = [
        FlatColumn(
            "id", "id", ("id",), "case identifier (required; text, or a whole number read as text)", max_chars=200
        ),
        FlatColumn("age", "int", ("age",), "age in years", low=18, high=120),
        FlatColumn("ecog", "int", ("ecog",), "ECOG performance status", low=0, high=4),
        FlatColumn("primary_status", "enum", ("primary", "status"), "primary tumour", values=PRIMARY_STATUS),
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
        cols.append(
            FlatColumn(
                f"met_{site}_count",
                "int",
                ("metastases", site, "count"),
                f"number of {site} metastases (records {site} metastases)",
                low=1,
                high=1000,
            )
        )
        cols.append(
            FlatColumn(
                f"met_{site}_resectability",
                "enum",
                ("metastases", site, "resectability"),
                f"resectability of {site} metastases; 'unknown' records them with unknown resectability",
                values=RESECTABILITY,
            )
        )
        cols.append(
            FlatColumn(
                f"met_{site}_largest_mm",
                "int",
                ("metastases", site, "largest_mm"),
                f"largest {site} metastasis in mm (contract 2; records {site} metastases)",
                low=1,
                high=300,
            )
        )
    cols += [
        FlatColumn("kras", "enum", ("biomarkers", "kras"), "KRAS status", values=RAS_STATUS),
        FlatColumn(
            "kras_variant",
            "text",
            ("biomarkers", "kras_variant"),
            "KRAS variant such as G12C (only with kras = mutant)",
            max_chars=40,
        ),
        FlatColumn("nras", "enum", ("biomarkers", "nras"), "NRAS status", values=RAS_STATUS),
        FlatColumn("braf", "enum", ("biomarkers", "braf"), "BRAF status", values=BRAF_STATUS),
        FlatColumn("mmr", "enum", ("biomarkers", "mmr"), "MMR / MSI status", values=MMR_STATUS),
        FlatColumn("her2", "enum", ("biomarkers", "her2"), "HER2", values=BINARY_STATUS),
        FlatColumn("ntrk_fusion", "enum", ("biomarkers", "ntrk_fusion"), "NTRK fusion", values=BINARY_STATUS),
        FlatColumn("ret_fusion", "enum", ("biomarkers", "ret_fusion"), "RET fusion", values=BINARY_STATUS),
        FlatColumn("prior_pelvic_radiation", "bool", ("prior", "pelvic_radiation"), "pelvic radiation before"),
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
        FlatColumn("dpyd", "enum", ("health", "dpyd"), "DPYD phenotype", values=DPYD_STATUS),
        FlatColumn(
            "days_since_major_surgery",
            "int",
            ("health", "days_since_major_surgery"),
            "days since the last major operation",
            low=0,
            high=36500,
        ),
        FlatColumn("bleeding_risk", "bool", ("health", "bleeding_risk"), "active bleeding or high bleeding risk"),
        FlatColumn(
            "fit_for_intensive_therapy", "bool", ("health", "fit_for_intensive_therapy"), "fit for intensive therapy"
        ),
        FlatColumn("wants_clinical_trials", "bool", ("wants_clinical_trials",), "wishes to hear about trials"),
    ]
    cols += [declared_column(f) for f in DECLARED]
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
    """The flat column of a declared field (`rectoplan.core.fields`)."""
    doc = f.doc + (f" ({f.unit})" if f.unit else "")
    return FlatColumn(f.column, f.kind, f.path, doc, values=f.values, low=f.low, high=f.high)


COLUMNS: Final = _columns()
BY_NAME: Final = {c.name: c for c in COLUMNS}
LINE_AGENTS_MAX: Final = 10  # pydantic: agents per line
STOP_REASONS: Final = STOPPED_FOR
