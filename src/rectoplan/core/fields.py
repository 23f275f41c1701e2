"""The declared case fields of contract `rectoplan.case/2`: one entry per scalar field, read by every consumer.

Each `DeclaredField` says once where the field sits in the case JSON, its type and domain, its unit, what
its absence means, its flat cohort column and the fact it gives. From this table come: the pydantic
validation of the case JSON (`rectoplan.adapters.case_json`), the flat cohort columns and their
column-wise validation (`rectoplan.cohort.columns`, `rectoplan.compile.case_columns`), the fact schema
and the facts (`rectoplan.core.facts`), the z3 variables and their domains (`rectoplan.compile.z3_smt`),
the what-if probes (`rectoplan.core.whatif`) and the field table of `docs/contracts.md` (checked by
`tests/test_fields.py`). Adding a scalar field is one entry here plus the rules that read it.

Every declared field is exactly one fact of the same name, and absent always means unknown: no rule may
read an absent field as a favourable value. The fields of contract 1 (and the list-shaped parts: sites,
symptoms, treatment courses) keep their own, older derivations in `rectoplan.core.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FieldKind = Literal["int", "bool", "enum"]


@dataclass(frozen=True, slots=True)
class DeclaredField:
    """One scalar case field. `fact` is also its JSON path (dotted) and the name rules read."""

    fact: str
    kind: FieldKind
    doc: str
    values: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    unit: str = ""
    derived_from: str = ""  # a v2 input the edge derives this field from, when the field is not given

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.fact.split("."))

    @property
    def column(self) -> str:
        """The flat cohort column: sections that already prefix their columns keep doing so."""
        section, _, key = self.fact.partition(".")
        return f"{section}_{key}" if section in ("primary", "prior") else key.replace(".", "_")

    @property
    def expected(self) -> str:
        if self.kind == "int":
            return f"a whole number from {self.low} to {self.high}" + (f" ({self.unit})" if self.unit else "")
        if self.kind == "bool":
            return "true or false"
        return "one of " + ", ".join(self.values)


def _int(fact: str, low: int, high: int, unit: str, doc: str, derived_from: str = "") -> DeclaredField:
    return DeclaredField(fact, "int", doc, low=low, high=high, unit=unit, derived_from=derived_from)


def _bool(fact: str, doc: str, derived_from: str = "") -> DeclaredField:
    return DeclaredField(fact, "bool", doc, derived_from=derived_from)


def _enum(fact: str, values: tuple[str, ...], doc: str, derived_from: str = "") -> DeclaredField:
    return DeclaredField(fact, "enum", doc, values=values, derived_from=derived_from)


RESPONSES: Final = ("complete", "partial", "stable", "progression")
DECLINABLE: Final = ("chemotherapy", "surgery", "stoma", "radiation")
HER2_POSITIVE_RESULTS: Final = ("ihc3", "ihc2_ish_positive")  # the reported tests that mean HER2-positive

DECLARED: Final[tuple[DeclaredField, ...]] = (
    # --- the primary tumour ----------------------------------------------------------------------------
    _int("primary.distance_from_anal_verge_cm", 0, 30, "cm", "height of the primary's lower edge above the anal verge"),
    _enum("primary.mri_t", ("T1", "T2", "T3", "T4a", "T4b"), "MRI T stage of the primary"),
    _enum("primary.mri_n", ("N0", "N1", "N2"), "MRI N stage of the primary"),
    _bool("primary.crm_involved", "MRI: tumour within 1 mm of the mesorectal fascia (threatened/involved margin)"),
    _bool("primary.emvi", "MRI: extramural venous invasion"),
    _enum(
        "primary.resectability",
        ("resectable", "potentially_resectable", "unresectable"),
        "resectability of the primary tumour itself (primary in place)",
    ),
    _bool("primary.stoma", "a stoma (colostomy or ileostomy) has already been made"),
    # --- the patient's wishes and fitness ----------------------------------------------------------------
    *(_bool(f"preferences.declines_{m}", f"the patient declines {m}", "preferences.declines") for m in DECLINABLE),
    _enum(
        "preferences.goal",
        ("maximal_treatment", "balanced", "comfort"),
        "the patient's goal of care, as recorded by the team",
    ),
    _bool("health.frail", "frail on geriatric or clinical assessment (beyond ECOG)"),
    # --- organ function and comorbidities that change a choice ---------------------------------------------
    _int("health.creatinine_clearance", 0, 250, "mL/min", "creatinine clearance"),
    _bool("health.bilirubin_raised", "total bilirubin above the upper limit of normal"),
    _enum("health.ugt1a1", ("normal", "intermediate", "poor"), "UGT1A1 metaboliser status (poor: *28/*28 or *6/*6)"),
    _bool("health.coronary_disease", "coronary artery disease"),
    _bool(
        "health.fluoropyrimidine_cardiotoxicity",
        "earlier cardiotoxicity (e.g. coronary vasospasm) on a fluoropyrimidine",
    ),
    _bool("health.autoimmune_disease", "active or treated autoimmune disease"),
    _bool("health.organ_transplant", "solid organ or allogeneic stem-cell transplant recipient"),
    _int("health.neuropathy_grade", 0, 4, "CTCAE grade", "peripheral sensory neuropathy (CTCAE grade)"),
    _bool("health.uncontrolled_hypertension", "hypertension not controlled by treatment"),
    _bool("health.proteinuria", "significant proteinuria (2 g or more per 24 h, or nephrotic)"),
    _bool(
        "health.recent_arterial_thrombosis",
        "arterial thromboembolism (stroke, myocardial infarction) in the last 6 months",
    ),
    # --- biomarkers as labs report them ---------------------------------------------------------------------
    _enum(
        "biomarkers.her2_result",
        ("ihc3", "ihc2_ish_positive", "ihc2_ish_negative", "ihc0_1"),
        "HER2 test as reported: IHC 3+, IHC 2+ with ISH positive or negative, IHC 0-1+ (sets biomarkers.her2)",
    ),
    _int("biomarkers.tmb", 0, 1000, "mutations/Mb", "tumour mutational burden"),
    _enum("biomarkers.pole", ("pathogenic", "wild_type"), "POLE exonuclease-domain mutation"),
    _enum("biomarkers.germline_lynch", ("positive", "negative"), "germline mismatch-repair variant (Lynch syndrome)"),
    _enum("biomarkers.liquid_ras", ("wild_type", "mutant"), "RAS in the most recent liquid biopsy (ctDNA)"),
    _int(
        "biomarkers.liquid_ras_months",
        0,
        600,
        "months",
        "months from the liquid biopsy to the case date",
        "biomarkers.liquid_ras_date",
    ),
    # --- what the treatment history implies (derived from prior.courses, or given directly) --------------------
    _bool(
        "biomarkers.liquid_ras_after_anti_egfr",
        "the liquid biopsy was taken after the end of the last anti-EGFR antibody (from its date and the courses)",
        "biomarkers.liquid_ras_date",
    ),
    _enum(
        "prior.anti_egfr_response",
        RESPONSES,
        "best response on the most recent course with an anti-EGFR antibody",
        "prior.courses",
    ),
    _int(
        "prior.months_since_anti_egfr",
        0,
        600,
        "months",
        "months from the end of the last anti-EGFR antibody to the case date",
        "prior.courses",
    ),
    _int(
        "prior.oxaliplatin_free_months",
        0,
        600,
        "months",
        "months from the end of adjuvant or perioperative oxaliplatin to the diagnosis of advanced disease",
        "prior.courses",
    ),
    _bool(
        "prior.adjuvant_oxaliplatin",
        "oxaliplatin was given as neoadjuvant, adjuvant or perioperative therapy",
        "prior.courses",
    ),
    _enum(
        "prior.last_response", RESPONSES, "best response on the most recent line for advanced disease", "prior.courses"
    ),
    _bool("prior.on_maintenance", "the ongoing line is in its maintenance phase", "prior.courses"),
    _bool(
        "prior.progressed_on_maintenance",
        "the last line progressed during its maintenance phase, after an induction that did not progress",
        "prior.courses",
    ),
    _int(
        "prior.months_on_current_line",
        0,
        600,
        "months",
        "months since the ongoing line started",
        "prior.courses",
    ),
)

BY_FACT: Final = {f.fact: f for f in DECLARED}


def markdown_table() -> str:
    """The field table of `docs/contracts.md` (a test keeps the page equal to this)."""
    lines = [
        "| field (JSON path) | type and domain | flat column | absent means | derived from |",
        "|---|---|---|---|---|",
    ]
    for f in DECLARED:
        lines.append(f"| `{f.fact}` | {f.expected}: {f.doc} | `{f.column}` | unknown | {f.derived_from or 'given'} |")
    return "\n".join(lines)
