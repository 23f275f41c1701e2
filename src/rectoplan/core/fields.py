"""The scalar case fields of contract `rectoplan.case/2` (and of contract 1, which it reads): one table, read by
every consumer.

Each `DeclaredField` says once where the field sits in the case JSON, its type and domain, its unit, what
its absence means (always: unknown; a contract 1 enumeration also spells unknown as `"unknown"`), its flat
cohort column and the fact it gives. From this table come: the pydantic validation of the case JSON
(`rectoplan.adapters.case_json`, `rectoplan.adapters.case_v2`), the `Case` the edge builds, the flat cohort
columns and their column-wise validation and derivation (`rectoplan.compile.columns`,
`rectoplan.compile.case_columns`, `rectoplan.cohort.columns`), the fact schema and the facts
(`rectoplan.core.facts`), the z3 variables, their domains and how a case pins them
(`rectoplan.compile.z3_case`), the what-if probes (`rectoplan.core._probes`), the case JSON the verifier
writes (`rectoplan.verify.casejson`), the linter's case parts (`rectoplan.kb.lint`), the synthetic cases
(`rectoplan.synthetic`), the test generator (`tests/strategies.py`) and the field table of
`docs/contracts.md` (`tests/test_fields.py` and `tests/test_fields_consumers.py` check every entry against
every consumer). Adding a scalar
field is one entry here plus the rules that read it.

Every field is exactly one fact of the same name, and absent always means unknown: no rule may read an
absent field as a favourable value. Where a field lives in a validated `Case`: a field of contract 1 is the
attribute at its path (`case.biomarkers.kras`), which the FHIR adapter, the engine and the explanations
read; a field of contract 2 is a (fact, value) pair of `Case.declared` (`DECLARED` lists those).

Not in the table, because they are not one scalar with one fact, and so still derived by hand in
`core/facts.py` (and mirrored in `compile/case_columns.py`, `compile/arrow_lists.py`, `compile/z3_case.py`):
- list-shaped parts: symptoms (a union over the primary and the local recurrence), the metastases (one entry
  per site, summed counts, the largest size, the least favourable resectability), the treatment lines and
  courses (sets of agents and classes, the line count, the ongoing line) and the operations done;
- the local recurrence: its presence is a fact and its absence means "none", not unknown;
- `biomarkers.kras_variant`: free text in many lab notations, normalised at the edge, read as `kras_g12c`;
- facts derived from several fields: `biomarkers.ras` (KRAS and NRAS), `biomarkers.kras_g12c`,
  `disease.resectability`, and the `prior.*` facts of the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, TypeVar

FieldKind = Literal["int", "bool", "enum"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DeclaredField:
    """One scalar case field. `fact` is also its JSON path (dotted) and the name rules read.

    `unknown_token`: a value of the JSON (contract 1's `"unknown"`) that is read as absent; it is a valid
    input and a valid flat-column value, never a fact value. `contract`: 1 for the fields of contract 1,
    held as `Case` attributes at their path; 2 for the fields contract 2 added, held in `Case.declared`."""

    fact: str
    kind: FieldKind
    doc: str
    values: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    unit: str = ""
    derived_from: str = ""  # an input the edge derives this field from, when the field is not given
    unknown_token: str = ""
    contract: Literal[1, 2] = 2

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.fact.split("."))

    @property
    def section(self) -> str:
        """The object of the case JSON that holds the field ("" for the top level)."""
        return self.fact.rpartition(".")[0]

    @property
    def name(self) -> str:
        """The field's key within its section."""
        return self.fact.rpartition(".")[2]

    @property
    def column(self) -> str:
        """The flat cohort column: sections that already prefix their columns keep doing so."""
        section, _, key = self.fact.partition(".")
        if not key:
            return section
        return f"{section}_{key}" if section in ("primary", "prior") else key.replace(".", "_")

    @property
    def json_values(self) -> tuple[str, ...]:
        """What the case JSON (and a flat column) may hold for an enumeration: its values and the unknown token."""
        return (*self.values, self.unknown_token) if self.unknown_token else self.values

    @property
    def expected(self) -> str:
        if self.kind == "int":
            return f"a whole number from {self.low} to {self.high}" + (f" ({self.unit})" if self.unit else "")
        if self.kind == "bool":
            return "true or false"
        return "one of " + ", ".join(self.values)


def _int(
    fact: str, low: int, high: int, unit: str, doc: str, derived_from: str = "", *, contract: Literal[1, 2] = 2
) -> DeclaredField:
    return DeclaredField(fact, "int", doc, low=low, high=high, unit=unit, derived_from=derived_from, contract=contract)


def _bool(fact: str, doc: str, derived_from: str = "", *, contract: Literal[1, 2] = 2) -> DeclaredField:
    return DeclaredField(fact, "bool", doc, derived_from=derived_from, contract=contract)


def _enum(
    fact: str,
    values: tuple[str, ...],
    doc: str,
    derived_from: str = "",
    *,
    unknown: str = "",
    contract: Literal[1, 2] = 2,
) -> DeclaredField:
    return DeclaredField(
        fact, "enum", doc, values=values, derived_from=derived_from, unknown_token=unknown, contract=contract
    )


def _status(fact: str, values: tuple[str, ...], doc: str, derived_from: str = "") -> DeclaredField:
    """A contract 1 enumeration that also accepts "unknown" (read as absent)."""
    return _enum(fact, values, doc, derived_from, unknown="unknown", contract=1)


RAS: Final = ("wild_type", "mutant")
BINARY: Final = ("positive", "negative")
RESPONSES: Final = ("complete", "partial", "stable", "progression")
DECLINABLE: Final = ("chemotherapy", "surgery", "stoma", "radiation")
HER2_POSITIVE_RESULTS: Final = ("ihc3", "ihc2_ish_positive")  # the reported tests that mean HER2-positive
# The fields of the primary that describe a tumour in place: its MRI staging (T, N, the mesorectal fascia, venous
# invasion) and the resectability "of the primary tumour itself (primary in place)". With the primary resected
# they describe nothing that is there, and the validator refuses them (review 14, F7 part 4); the generators
# and what-if's probes keep to the same list. Its height above the anal verge is not among them: it stays a fact
# of the operation done (it decided the operation).
PRIMARY_IN_PLACE_ONLY: Final = ("mri_t", "mri_n", "crm_involved", "emvi", "resectability")


class Exclusive(NamedTuple):
    """Two yes/no fields of the table that cannot hold these values together: `field` = `value` while
    `other` = `other_value` is refused at `other` (stop 19, B2). `why` ends the validator's expectation."""

    field: str
    value: bool
    other: str
    other_value: bool
    why: str


# The pairs of yes/no fields that exclude each other, declared once beside the table: the JSON validator
# refuses them (`adapters._case_json_checks`), the cohort's column-wise checks send them to it
# (`compile.case_columns`), the z3 contract excludes them, the generators and what-if's probes never make them.
EXCLUSIVE: Final = (
    # A bilirubin above 3 x the upper limit of normal is above that limit (the two fields' own meanings).
    Exclusive(
        "health.bilirubin_over_3_uln",
        True,
        "health.bilirubin_raised",
        False,
        "a total bilirubin above 3 times the upper limit of normal is above the upper limit of normal",
    ),
    # The running line's two phases: `adapters.courses` derives at most one of them true (a re-introduction
    # of the induction is not its maintenance), so a case giving both has one of them wrong.
    Exclusive(
        "prior.on_reintroduction",
        True,
        "prior.on_maintenance",
        True,
        "a running line is either re-introducing its induction or in its maintenance phase, not both",
    ),
)

# The scalar fields of contract 1, in the order of its JSON (the flat columns and z3 keep that order).
CONTRACT_1: Final[tuple[DeclaredField, ...]] = (
    _int("age", 18, 120, "", "age in years", contract=1),
    _int("ecog", 0, 4, "", "ECOG performance status", contract=1),
    _enum(
        "primary.status", ("in_place", "resected"), "in_place: stage 4 at diagnosis; resected: recurrence", contract=1
    ),
    _status("biomarkers.kras", RAS, "KRAS status"),
    _status("biomarkers.nras", RAS, "NRAS status"),
    _status("biomarkers.braf", ("v600e", "other_mutation", "wild_type"), "BRAF status"),
    _status("biomarkers.mmr", ("dmmr_msi_h", "pmmr_mss"), "mismatch repair / microsatellite status"),
    _status("biomarkers.her2", BINARY, "HER2 amplification / overexpression", "biomarkers.her2_result"),
    _status("biomarkers.ntrk_fusion", BINARY, "NTRK1/2/3 gene fusion"),
    _status("biomarkers.ret_fusion", BINARY, "RET gene fusion"),
    _bool("prior.pelvic_radiation", "radiation to the pelvis was given before", contract=1),
    _status("health.dpyd", ("normal", "intermediate", "poor"), "DPYD metaboliser phenotype"),
    _int("health.days_since_major_surgery", 0, 36500, "", "days since the last major operation", contract=1),
    _bool("health.bleeding_risk", "active bleeding or high bleeding risk", contract=1),
    _bool("health.fit_for_intensive_therapy", "clinician judges the patient fit for intensive therapy", contract=1),
    _bool(
        "wants_clinical_trials",
        "the patient wishes to hear about clinical trials",
        "preferences.declines",
        contract=1,
    ),
)

# The scalar fields contract 2 added (held in `Case.declared`).
CONTRACT_2: Final[tuple[DeclaredField, ...]] = (
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
    # Review 15 (F3; stop 18): the magnitude the Campto SmPC's contraindication needs (4.3: bilirubin > 3 x ULN).
    _bool("health.bilirubin_over_3_uln", "total bilirubin above 3 times the upper limit of normal"),
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
    _int(
        "prior.months_since_induction",
        0,
        600,
        "months",
        "months from the end of the last line's first course (its induction, before any maintenance) to the case date",
        "prior.courses",
    ),
    _bool(
        "prior.progressed_since_last_line",
        "the cancer has grown since the last line for advanced disease stopped (during a break, or after a stop for"
        " side effects); false when the scans since show no growth (the next line then waits for progression)",
    ),
    _int(
        "prior.last_line_months",
        0,
        600,
        "months",
        "months the most recent line for advanced disease was given before it stopped (its first course, the"
        " induction: from its start to its end)",
        "prior.courses",
    ),
    _bool(
        "prior.last_line_progressed",
        "the most recent line for advanced disease stopped for progression (false: it runs, or stopped for another"
        " reason: a planned end, a break, side effects)",
        "prior.courses",
    ),
    _bool(
        "biomarkers.liquid_ras_after_last_line",
        "the liquid biopsy was taken after the end of the last course of treatment, none running since (from its"
        " date and the courses)",
        "biomarkers.liquid_ras_date",
    ),
    _bool(
        "prior.on_reintroduction",
        "the ongoing line is re-introducing its induction (its drugs again after a planned break, or after"
        " maintenance that the cancer outgrew)",
        "prior.courses",
    ),
)

FIELDS: Final = (*CONTRACT_1, *CONTRACT_2)
DECLARED: Final = CONTRACT_2  # the fields a `Case` holds in `Case.declared` (its other fields are attributes)
BY_FACT: Final = {f.fact: f for f in FIELDS}


def laid_out(
    fields: Iterable[DeclaredField], make: Callable[[DeclaredField], T], after: Mapping[str, Sequence[T]]
) -> list[T]:
    """`make(f)` for each field in table order, each followed by the items `after[f.fact]` (`after[""]` come
    first): how a consumer places what the table does not hold (identifiers, list-shaped fields) where it
    has always been, since the order of the flat columns and of the JSON schema's fields is public."""
    fields = tuple(fields)
    unknown = set(after) - {"", *(f.fact for f in fields)}
    if unknown:
        raise ValueError(f"no field {sorted(unknown)[0]!r} to place items after")
    out = list(after.get("", ()))
    for f in fields:
        out.append(make(f))
        out.extend(after.get(f.fact, ()))
    return out


def markdown_table() -> str:
    """The field table of `docs/contracts.md` (a test keeps the page equal to this)."""
    lines = [
        "| field (JSON path) | type and domain | flat column | absent means | derived from | contract |",
        "|---|---|---|---|---|---|",
    ]
    for f in FIELDS:
        absent = f'unknown (as is `"{f.unknown_token}"`)' if f.unknown_token else "unknown"
        lines.append(
            f"| `{f.fact}` | {f.expected}: {f.doc} | `{f.column}` | {absent} | {f.derived_from or 'given'}"
            f" | {f.contract} |"
        )
    return "\n".join(lines)
