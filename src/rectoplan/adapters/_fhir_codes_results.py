"""Codes of results: ECOG, TNM stage, tumour markers, genomic variants, laboratory values, tumour response,
and the blood specimens that make a RAS result a liquid biopsy.

Part of `rectoplan.adapters.fhir_codes` (import the names from there). Read by `fhir/observations.py`,
`fhir/labs.py`, `fhir/response.py` and `fhir/liquid.py`; each entry names where it was seen (`SOURCES`).
"""

from __future__ import annotations

from typing import Final

from rectoplan.adapters._fhir_codes_base import LOINC, SNOMED, Code, _table

# --- Observations ------------------------------------------------------------------------------------------
ECOG_CODE: Final = Code(LOINC, "89247-1", "ECOG performance status", "mcode")
ECOG_ANSWERS: Final[dict[tuple[str, str], Code]] = _table(
    LOINC,
    "ctm",
    {
        "LA9622-7": "0",
        "LA9623-5": "1",
        "LA9624-3": "2",
        "LA9625-0": "3",
        "LA9626-8": "4",
        "LA9627-6": "5",
    },
)
GENOMIC_VARIANT: Final = Code(LOINC, "69548-6", "genetic variant assessment", "mcode")
GENE_STUDIED: Final = Code(LOINC, "48018-6", "gene studied (HGNC)", "mcode")
AMINO_ACID_CHANGE: Final = Code(LOINC, "48005-3", "amino acid change (pHGVS)", "mcode")
HISTORY_OF_METASTASIS: Final = Code(SNOMED, "1287652008", "history of metastatic malignant neoplasm", "mcode")
HISTORY_OF_LIVER_METASTASIS: Final = Code(SNOMED, "1098951000119108", "history of cancer metastatic to liver", "mcode")

# TNM stage group observation codes (current SNOMED and the older LOINC ones), and stage values.
STAGE_GROUP_CODES: Final[dict[tuple[str, str], Code]] = {
    **_table(SNOMED, "mcode", {"399537006": "clinical", "399588009": "pathologic"}),
    **_table(LOINC, "mcode", {"21908-9": "clinical", "21902-2": "pathologic", "21914-7": "other"}),
}
STAGE_VALUES: Final[dict[tuple[str, str], Code]] = {
    **_table(
        SNOMED,
        "ctm",
        {
            "261613009": "0",
            "258215001": "I",
            "261634002": "I",
            "261635001": "I",
            "258219007": "II",
            "261614003": "II",
            "261615002": "II",
            "261637009": "II",
            "258224005": "III",
            "261638004": "III",
            "261639007": "III",
            "261640009": "III",
            "258228008": "IV",
            "261642001": "IV",
            "261643006": "IV",
            "313046007": "IV",
        },
    ),
    **_table(SNOMED, "mcode", {"1222806003": "III", "1222769001": "II"}),
}

# Biomarker tests by LOINC code: which contract-1 field(s) a coded result speaks for.
MARKER_TESTS: Final[dict[tuple[str, str], Code]] = {
    **_table(
        LOINC,
        "interop",
        {
            "21702-6": "kras",
            "85509-8": "kras",
            "82535-6": "kras",
            "83059-6": "kras",
            "81420-2": "kras+nras",
            "85299-6": "braf_v600e",
            "81695-9": "msi",
            "43368-0": "msi",
            "62862-8": "msi",
            "48676-1": "her2",
            "72383-3": "her2",
            "31150-6": "her2",
            "49683-6": "her2",
        },
    ),
    **_table(LOINC, "brief", {"21719-0": "nras", "58415-1": "braf_v600e", "18474-7": "her2", "93813-4": "ntrk"}),
}
# Coded results: "positive" / "negative" / "msi_high" / "msi_stable" / "indeterminate".
RESULT_ANSWERS: Final[dict[tuple[str, str], Code]] = {
    **_table(
        LOINC,
        "mcode",
        {
            "LA9633-4": "positive",
            "LA9634-2": "negative",
            "LA6576-8": "positive",
            "LA6577-6": "negative",
            "LA26203-2": "msi_high",
        },
    ),
    **_table(LOINC, "mii", {"LA14122-8": "msi_stable", "LA14123-6": "msi_high", "LA11884-6": "indeterminate"}),
    # MSI-L is read as microsatellite stable (brief §4.4: "MSI-L treated as MSS").
    **_table(LOINC, "brief", {"LA26202-4": "msi_stable"}),
    **_table(SNOMED, "ctm", {"10828004": "positive", "260385009": "negative"}),
}

GENES: Final[dict[str, Code]] = {
    code: Code("HGNC", code, gene, source)
    for code, gene, source in (
        ("HGNC:6407", "KRAS", "interop"),
        ("HGNC:7989", "NRAS", "interop"),
        ("HGNC:1097", "BRAF", "interop"),
        ("HGNC:3430", "ERBB2", "interop"),
        ("HGNC:8031", "NTRK1", "mii"),
        ("HGNC:8032", "NTRK2", "mii"),
        ("HGNC:8033", "NTRK3", "mii"),
        ("HGNC:9967", "RET", "mii"),
    )
}

# --- Contract 2: organ function, HER2 as reported, tumour response ------------------------------------------
TMB_CODE: Final = Code(LOINC, "94076-7", "tumour mutational burden (mutations/Mb)", "gx-tmb")
TMB_UNITS: Final = frozenset({"1/1000000{Base}"})
BILIRUBIN_TOTAL: Final = Code(LOINC, "1975-2", "bilirubin, total, serum or plasma", "synthea")
# HER2 tests by method, among the `her2` MARKER_TESTS: immunohistochemistry and in situ hybridisation.
HER2_IHC_TESTS: Final = frozenset({(LOINC, "72383-3"), (LOINC, "18474-7")})
HER2_ISH_TESTS: Final = frozenset({(LOINC, "31150-6"), (LOINC, "49683-6")})
HER2_IHC_SCORES: Final[dict[tuple[str, str], Code]] = _table(
    LOINC, "hl7-breast", {"LA6111-4": "0", "LA11841-6": "1+", "LA11842-4": "2+", "LA11843-2": "3+"}
)
# Creatinine clearance (`health.creatinine_clearance`, mL/min): measured (24-hour urine with serum or plasma
# creatinine) or estimated by Cockcroft-Gault, the estimate the capecitabine label and the Tomudex SmPC dose by.
# Only UCUM mL/min is read; another unit is reported, never converted. eGFR (per 1.73 m2 of body surface, by
# MDRD or CKD-EPI) is not creatinine clearance and no rule accepts it in its place: it is recognised only to
# say so (the test `creatinine_clearance` stays requested).
CREATININE_CLEARANCE_TESTS: Final[dict[tuple[str, str], Code]] = {
    **_table(LOINC, "loinc-crcl", {"2164-2": "measured (24-hour urine and serum or plasma)"}),
    **_table(LOINC, "loinc-cg", {"35591-7": "estimated by Cockcroft-Gault"}),
}
UCUM: Final = "http://unitsofmeasure.org"
CREATININE_CLEARANCE_UNIT: Final = "mL/min"
EGFR_TESTS: Final[dict[tuple[str, str], Code]] = _table(
    LOINC,
    "egfr",
    {
        "33914-3": "eGFR per 1.73 m2 (MDRD)",
        "98979-8": "eGFR per 1.73 m2 (CKD-EPI 2021, creatinine)",
        "98980-6": "eGFR per 1.73 m2 (CKD-EPI 2021, creatinine and cystatin C)",
    },
)

# Tumour response: mCODE CancerDiseaseStatus, a clinician's judgement of the cancer's trend. Its answers are
# mapped to a course's `best_response` only where the meaning is the same: worsened is progression, stable is
# stable disease, undetermined is not assessed. "Improved" (responding) does not say complete or partial
# response, nor by which criteria, so it is not graded ("?": the course's best response stays unknown).
# No RECIST code system of an international standard was found (national IGs use local codes): none is read.
DISEASE_STATUS_CODES: Final[dict[tuple[str, str], Code]] = _table(
    LOINC, "mcode-cds", {"97509-4": "cancer disease status", "88040-1": "response to cancer treatment (mCODE STU1)"}
)
DISEASE_STATUS_VALUES: Final[dict[tuple[str, str], Code]] = _table(
    SNOMED,
    "mcode-cds",
    {
        "271299001": "progression",
        "359746009": "stable",
        "709137006": "not_assessed",
        "268910001": "?improved: not graded as a complete or a partial response",
    },
)

# Blood specimens (Observation.specimen -> Specimen.type). A RAS result on plasma is a liquid biopsy (ctDNA:
# `biomarkers.liquid_ras`, never the tumour's `kras`/`nras`); on whole blood or serum it is neither tissue nor a
# plasma liquid biopsy (a whole-blood sample is also the normal sample of a tumour-normal test): reported.
V2_SPECIMEN: Final = "http://terminology.hl7.org/CodeSystem/v2-0487"
BLOOD_SPECIMENS: Final[dict[tuple[str, str], Code]] = {
    **_table(V2_SPECIMEN, "specimen-v2", {"PLAS": "plasma", "SER": "serum", "BLD": "whole blood"}),
    **_table(V2_SPECIMEN, "specimen-v2", {"BLDA": "whole blood", "BLDV": "whole blood"}),
    **_table(SNOMED, "specimen-sct", {"119361006": "plasma", "119364003": "serum", "122592007": "serum or plasma"}),
    **_table(
        SNOMED, "specimen-sct", {"119297000": "whole blood", "258580003": "whole blood", "122555007": "whole blood"}
    ),
}
