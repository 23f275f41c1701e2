"""The terminology table of the FHIR/mCODE adapter: every code rectoplan reads, with where it was seen.

There is no terminology server here, so the adapter recognises only codes listed in this table. Each entry
names a public source in which the code was seen with that meaning (`SOURCES`); a code that is not listed is
never guessed from its display text (one published mCODE example swaps two gene displays), the resource is
reported instead. Tests check every entry (tests/test_fhir_codes.py).

The table is kept in one module per kind of resource, beside this one, and this module is its one public
face (import every name from here): `_fhir_codes_base` (code systems, `SOURCES`, `Code`),
`_fhir_codes_conditions` (cancer conditions, metastatic sites), `_fhir_codes_results` (observations: ECOG,
stage, markers, variants, laboratory values, tumour response, blood specimens) and `_fhir_codes_treatments`
(drugs, procedures, radiotherapy, stop reasons, course intents).
"""

from __future__ import annotations

from rectoplan.adapters._fhir_codes_base import (
    HGNC_SYSTEMS,
    ICD10CM,
    LOINC,
    RXNORM,
    SNOMED,
    SOURCES,
    SYSTEM_NAMES,
    Code,
)
from rectoplan.adapters._fhir_codes_conditions import (
    CANCER_CONDITIONS,
    ICD10_OTHER_PRIMARY,
    ICD10_SECONDARY_PREFIXES,
    METASTASIS_SITES,
)
from rectoplan.adapters._fhir_codes_results import (
    AMINO_ACID_CHANGE,
    BILIRUBIN_TOTAL,
    BLOOD_SPECIMENS,
    CREATININE_CLEARANCE_TESTS,
    CREATININE_CLEARANCE_UNIT,
    DISEASE_STATUS_CODES,
    DISEASE_STATUS_VALUES,
    ECOG_ANSWERS,
    ECOG_CODE,
    EGFR_TESTS,
    GENE_STUDIED,
    GENES,
    GENOMIC_VARIANT,
    HER2_IHC_SCORES,
    HER2_IHC_TESTS,
    HER2_ISH_TESTS,
    HISTORY_OF_LIVER_METASTASIS,
    HISTORY_OF_METASTASIS,
    MARKER_TESTS,
    RESULT_ANSWERS,
    STAGE_GROUP_CODES,
    STAGE_VALUES,
    TMB_CODE,
    TMB_UNITS,
    UCUM,
    V2_SPECIMEN,
)
from rectoplan.adapters._fhir_codes_treatments import (
    CHEMORADIATION,
    DRUGS,
    MAJOR_SURGERY,
    PELVIC_SITES,
    PROCEDURE_INTENT_URL,
    PROCEDURES,
    RADIOTHERAPY_COURSE,
    RECTAL_RESECTIONS,
    STOMA_PROCEDURES,
    STOP_REASONS,
    TERMINATION_REASON_URL,
    TERMINATION_REASONS,
    TREATMENT_INTENTS,
)

__all__ = [
    "AMINO_ACID_CHANGE",
    "BILIRUBIN_TOTAL",
    "BLOOD_SPECIMENS",
    "CANCER_CONDITIONS",
    "CHEMORADIATION",
    "CREATININE_CLEARANCE_TESTS",
    "CREATININE_CLEARANCE_UNIT",
    "DISEASE_STATUS_CODES",
    "DISEASE_STATUS_VALUES",
    "DRUGS",
    "ECOG_ANSWERS",
    "ECOG_CODE",
    "EGFR_TESTS",
    "GENES",
    "GENE_STUDIED",
    "GENOMIC_VARIANT",
    "HER2_IHC_SCORES",
    "HER2_IHC_TESTS",
    "HER2_ISH_TESTS",
    "HGNC_SYSTEMS",
    "HISTORY_OF_LIVER_METASTASIS",
    "HISTORY_OF_METASTASIS",
    "ICD10CM",
    "ICD10_OTHER_PRIMARY",
    "ICD10_SECONDARY_PREFIXES",
    "LOINC",
    "MAJOR_SURGERY",
    "MARKER_TESTS",
    "METASTASIS_SITES",
    "PELVIC_SITES",
    "PROCEDURES",
    "PROCEDURE_INTENT_URL",
    "RADIOTHERAPY_COURSE",
    "RECTAL_RESECTIONS",
    "RESULT_ANSWERS",
    "RXNORM",
    "SNOMED",
    "SOURCES",
    "STAGE_GROUP_CODES",
    "STAGE_VALUES",
    "STOMA_PROCEDURES",
    "STOP_REASONS",
    "SYSTEM_NAMES",
    "TERMINATION_REASONS",
    "TERMINATION_REASON_URL",
    "TMB_CODE",
    "TMB_UNITS",
    "TREATMENT_INTENTS",
    "UCUM",
    "V2_SPECIMEN",
    "Code",
]
