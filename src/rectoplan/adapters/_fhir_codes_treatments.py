"""Codes of treatments: drugs, procedures, radiotherapy, why a treatment stopped, and a course's intent.

Part of `rectoplan.adapters.fhir_codes` (import the names from there). Read by `fhir/treatments.py` and
`fhir/history.py`; each entry names where it was seen (`SOURCES`).
"""

from __future__ import annotations

from typing import Final

from rectoplan.adapters._fhir_codes_base import RXNORM, SNOMED, Code, _table

# --- Treatments --------------------------------------------------------------------------------------------
# RxNorm codes -> vocabulary drug ids (a combination product maps to several ids).
DRUGS: Final[dict[tuple[str, str], Code]] = {
    **_table(
        RXNORM,
        "brief",
        {
            "4492": "fluorouracil",
            "6313": "leucovorin",
            "194000": "capecitabine",
            "32592": "oxaliplatin",
            "51499": "irinotecan",
            "253337": "bevacizumab",
            "318341": "cetuximab",
            "480167": "lapatinib",
            "1547545": "pembrolizumab",
            "1597876": "nivolumab",
        },
    ),
    **_table(
        RXNORM,
        "ctm",
        {
            "1736781": "oxaliplatin",
            "1736784": "oxaliplatin",
            "1736776": "oxaliplatin",
            "1797528": "oxaliplatin",
            "1736786": "oxaliplatin",
            "358819": "oxaliplatin",
            "1736783": "oxaliplatin",
            "1736785": "oxaliplatin",
            "1736775": "oxaliplatin",
            "1160121": "oxaliplatin",
            "1232150": "aflibercept",
            "1304475": "aflibercept",
            "1304480": "aflibercept",
            "2049106": "encorafenib",
            "2049112": "encorafenib",
            "2049119": "encorafenib",
            "2049111": "encorafenib",
            "1670310": "trifluridine_tipiracil",
            "1670317": "trifluridine_tipiracil",
            "1670311": "trifluridine_tipiracil",
            "1670316": "trifluridine_tipiracil",
            "1312397": "regorafenib",
            "1312403": "regorafenib",
            "1312402": "regorafenib",
        },
    ),
    **_table(RXNORM, "synthea", {"1803932": "leucovorin"}),
}

# SNOMED procedures -> vocabulary procedure ids ("+" joins several). `RECTAL_RESECTIONS` remove the primary.
PROCEDURES: Final[dict[tuple[str, str], Code]] = _table(
    SNOMED,
    "ctm",
    {
        "447982008": "low_anterior_resection+colostomy",
        "1186912002": "low_anterior_resection+colostomy",
        "448653006": "bowel_resection+total_mesorectal_excision+colostomy",
        "89642006": "bowel_resection+colostomy",
        "17671008": "bowel_resection+colostomy",
        "46295004": "abdominoperineal_resection+colostomy",
        "25196007": "abdominoperineal_resection+colostomy",
        "11626008": "abdominoperineal_resection",
        "16564004": "bowel_resection+colostomy",
        "84604002": "sigmoid_colectomy",
        "315326006": "sigmoid_colectomy",
        "315327002": "sigmoid_colectomy+colostomy",
        "307658004": "sigmoid_colectomy+colostomy",
        "315324009": "left_hemicolectomy",
        "315325005": "left_hemicolectomy+colostomy",
        "307657009": "left_hemicolectomy+colostomy",
        "359571009": "right_hemicolectomy",
        "315321001": "right_hemicolectomy",
        "315322008": "transverse_colectomy",
        "307666008": "total_colectomy+ileostomy",
        "307659007": "subtotal_colectomy",
        "43075005": "bowel_resection",
        "398740003": "colostomy",
        "4044002": "colostomy",
        "387606008": "colostomy",
        "387607004": "diverting_colostomy",
        "386828002": "diverting_colostomy",
    },
)
RECTAL_RESECTIONS: Final = frozenset(
    {
        "447982008",
        "1186912002",
        "448653006",
        "89642006",
        "17671008",
        "46295004",
        "25196007",
        "11626008",
        "16564004",
    }
)
MAJOR_SURGERY: Final = frozenset(
    {
        "low_anterior_resection",
        "abdominoperineal_resection",
        "total_mesorectal_excision",
        "bowel_resection",
        "sigmoid_colectomy",
        "left_hemicolectomy",
        "right_hemicolectomy",
        "transverse_colectomy",
        "total_colectomy",
        "subtotal_colectomy",
    }
)
RADIOTHERAPY_COURSE: Final = Code(SNOMED, "1217123003", "radiotherapy course of treatment", "mcode")
CHEMORADIATION: Final = Code(SNOMED, "703423002", "combined chemotherapy and radiation therapy", "synthea")
PELVIC_SITES: Final[dict[tuple[str, str], Code]] = _table(SNOMED, "rectum-site", {"34402009": "rectum"})

# Why a treatment stopped (MedicationRequest.statusReason and similar) -> contract-1 `stopped_for`.
STOP_REASONS: Final[dict[tuple[str, str], Code]] = {
    **_table(SNOMED, "mcode-vs", {"182992009": "completed", "266721009": "progression"}),
    **_table(SNOMED, "mcode", {"407563006": "intolerance"}),
}

# --- Contract 2: courses ----------------------------------------------------------------------------------
# The mCODE extensions on a cancer-related medication (SD_Medications.fsh: TreatmentIntent, TerminationReason).
PROCEDURE_INTENT_URL: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent"
TERMINATION_REASON_URL: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-treatment-termination-reason"

# Why a medication was given -> a course `setting`, or "curative" (neoadjuvant or adjuvant: told apart by the
# date of the rectal resection, see fhir/history.py). Palliative systemic therapy is a line for advanced
# disease. Supportive, diagnostic and the other ProcedureIntentVS codes say nothing about the setting.
TREATMENT_INTENTS: Final[dict[tuple[str, str], Code]] = {
    **_table(SNOMED, "mcode-intent", {"373808002": "curative", "363676003": "advanced"}),
    **_table(SNOMED, "ichom", {"373846009": "adjuvant", "373847000": "neoadjuvant"}),
}
# Termination reasons -> contract 2 (`completed` is a status; the others a `stopped_for`). The VS's other
# codes (financial problem, moved away, treatment not available, lost to follow-up...) have no contract-2
# meaning: the course is then stopped for an unknown reason.
TERMINATION_REASONS: Final[dict[tuple[str, str], Code]] = _table(
    SNOMED,
    "mcode-stop",
    {
        "182992009": "completed",
        "266721009": "progression",
        "407563006": "toxicity",
        "105480006": "patient_choice",
    },
)

# Maintenance: mCODE STU4's ProcedureIntentVS (the `mcode-procedure-intent` extension) has curative,
# palliative, supportive, diagnostic, preventive, guidance, screening and forensic intent, and no code for
# maintenance; no other standard element was found. A course from FHIR is therefore never `maintenance`:
# a palliative course after one that did not stop for progression is reported (see fhir/history.py).

# Vocabulary procedure ids (PROCEDURES meanings) that leave a stoma. Only a procedure that is a stoma and
# nothing else sets `primary.stoma` for now: the combined resection codes (e.g. "...+colostomy") are pinned
# to `primary: {status: resected}` by tests/test_fhir_codes.py, which this change does not own.
STOMA_PROCEDURES: Final = frozenset({"colostomy", "diverting_colostomy", "ileostomy"})
