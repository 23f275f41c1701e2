"""The terminology table of the FHIR/mCODE adapter: every code rectoplan reads, with where it was seen.

There is no terminology server here, so the adapter recognises only codes listed in this file. Each entry
names a public source in which the code was seen with that meaning (`SOURCES` below); a code that is not
listed is never guessed from its display text (one published mCODE example swaps two gene displays), the
resource is reported instead. Tests check every entry (tests/test_fhir_codes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SNOMED: Final = "http://snomed.info/sct"
LOINC: Final = "http://loinc.org"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
# HGNC ids appear under both of these system URIs in mCODE STU4 and in genomics-reporting examples.
HGNC_SYSTEMS: Final = frozenset(
    {"http://www.genenames.org", "http://www.genenames.org/geneId", "https://www.genenames.org"}
)
SYSTEM_NAMES: Final = {SNOMED: "SNOMED", LOINC: "LOINC", ICD10CM: "ICD-10-CM", RXNORM: "RxNorm"}

# Where each code was seen (short keys used in the tables below).
SOURCES: Final = {
    "mcode": "HL7 mCODE STU4 example resources (shared/fixtures/mcode-stu4/examples); interop.md §2",
    "mcode-vs": "HL7 mCODE STU4 FSH value sets (HL7/fhir-mCODE-ig, TreatmentTerminationReasonVS)",
    "interop": "shared/knowledge/interop.md §2.2 (checked against the mCODE STU4 package, public code lists)",
    "brief": "shared/knowledge/brief.md §4.1 (RxNorm) and §4.4 (LOINC)",
    "ctm": "mcode/clinical-trial-matching-app: src/queries/mockData/*.json and "
    "src/assets/optimizedPatientDataElements/*.json",
    "mii": "Medizininformatik-Initiative IG Molekulares Tumorboard 2026.0.1, ValueSets mii-vs-mtb-msi and "
    "mii-vs-mtb-panel-tso-500-fusion",
    "synthea": "shared/fixtures/synthea (Synthea colon cancer patients)",
    "icd10cm": "ICD-10-CM tabular list, C77-C79 and C19-C20 (public CMS/CDC code files; "
    "C78.x, C20 and C19 also in interop.md §2.2)",
    "rectum-site": "SNOMED 34402009 'Rectum structure' in fhir.resources' MedicationAdministration example "
    "and in public ICD-O topography maps (C20 -> 34402009)",
    "mcode-intent": "HL7 mCODE STU4 ProcedureIntentVS (hl7.org/fhir/us/mcode/STU4/ValueSet-mcode-procedure-intent-vs)",
    "mcode-stop": "HL7 mCODE STU4 TreatmentTerminationReasonVS "
    "(hl7.org/fhir/us/mcode/ValueSet-mcode-treatment-termination-reason-vs; 182992009 from STU2)",
    "ichom": "HL7 ICHOM Breast Cancer IG STU1 TherapyIntentVS (hl7.org/fhir/uv/ichom-breast-cancer): not mCODE, "
    "which has no adjuvant/neoadjuvant code",
    "hl7-breast": "HL7 Breast Cancer Data IG (2018 draft) HER2byIHCScoreVS, from the LOINC answer list LL4396-9",
    "gx-tmb": "mCODE STU4 example Observation-gx-genomic-tmb.json (genomics-reporting tmb profile; "
    "unit 1/1000000{Base}); interop.md §2.1",
    "loinc-crcl": "LOINC 2164-2 'Creatinine renal clearance in 24 hour Urine and Serum or Plasma' (HL7 Order "
    "Catalog IG STU1, ActivityDefinition example-lab-urine24h-creatinine-clearance; LOINC table row "
    "'Creat Cl 24h Ur+SerPl-vRate', unit mL/min)",
    "loinc-cg": "LOINC 35591-7 'Creatinine renal clearance predicted by Cockcroft-Gault formula' (LOINC table "
    "row, short name 'Creat Cl predicted SerPl C-G-vRate': a volume rate; Cockcroft-Gault gives mL/min)",
    "egfr": "eGFR per 1.73 m2 body surface: LOINC 33914-3 in shared/fixtures/synthea; 98979-8 and 98980-6 in "
    "HL7 Switzerland CH LAB-Report (ChLabObservation_eGFR_CKD_EPI_2021 profiles)",
    "specimen-v2": "HL7 v2 table 0487 (terminology.hl7.org/CodeSystem/v2-0487): BLD, BLDA, BLDV in mCODE "
    "GenomicSpecimenTypeVS / HumanSpecimenTypeVS (BLD is the normal sample of the STU4 example "
    "Specimen-gx-genomic-specimen-tumornormal-normal); PLAS 'Plasma', SER 'Serum' in public FSH value sets",
    "specimen-sct": "SNOMED specimens in public value sets (HL7 Italia lab-report tipo-campione-lab-it, SNOMED on "
    "FHIR IG examples, specimen code lists): 119361006 Plasma, 119364003 Serum, 119297000 Blood specimen, "
    "122592007 Acellular blood (serum or plasma), 258580003 Whole blood sample, 122555007 Venous blood",
    "mcode-cds": "HL7 mCODE STU4 CancerDiseaseStatus (hl7.org/fhir/us/mcode/StructureDefinition-mcode-cancer-"
    "disease-status: code LOINC 97509-4; STU1 used 88040-1 'Response to cancer treatment') and its "
    "ConditionStatusTrendVS (268910001 improved, 359746009 stable, 271299001 worsened, 709137006 "
    "undetermined); the STU4 examples Observation-cancer-disease-status-*.json",
}


@dataclass(frozen=True, slots=True)
class Code:
    """One recognised code: what it means to rectoplan and where its meaning was seen."""

    system: str
    code: str
    meaning: str
    source: str


def _table(system: str, source: str, rows: dict[str, str]) -> dict[tuple[str, str], Code]:
    return {(system, code): Code(system, code, meaning, source) for code, meaning in rows.items()}


# --- Cancer conditions -------------------------------------------------------------------------------------
# meaning: "rectal" (in scope), "local_recurrence" (rectal local recurrence), "rectal_other_histology"
# (a rectal cancer that is not an adenocarcinoma-type carcinoma: rectoplan's knowledge does not cover it),
# "colorectal_unspecified", or a plain-language name of another cancer (for the out-of-scope message).
CANCER_CONDITIONS: Final[dict[tuple[str, str], Code]] = {
    **_table(SNOMED, "interop", {"363351006": "rectal"}),
    **_table(
        SNOMED,
        "ctm",
        {
            "93984006": "rectal",
            "254582000": "rectal",
            "448994001": "rectal",
            "363414004": "rectal",
            "93980002": "rectal",
            "425178004": "rectal",
            "269544008": "rectal",
            "184881000119106": "rectal",
            "314966008": "local_recurrence",
            "16636101000119100": "rectal_other_histology",
            "1197355000": "rectal_other_histology",
            "1156797006": "rectal_other_histology",
            "1156783003": "rectal_other_histology",
            "766979005": "rectal_other_histology",
            "721701002": "rectal_other_histology",
            "721700001": "rectal_other_histology",
            "276822007": "rectal_other_histology",
            "781382000": "colorectal_unspecified",
            "96281000119107": "colorectal_unspecified",
            "363410008": "colon",
            "363412000": "colon",
            "363408006": "colon",
            "363409003": "colon",
            "363407001": "colon",
            "363413005": "colon",
            "94006002": "colon",
            "93683002": "colon",
            "93771007": "colon",
            "94105000": "colon",
            "314965007": "colon (local recurrence)",
        },
    ),
    **_table(
        SNOMED,
        "interop",
        {"363406005": "colon", "93761005": "colon", "109838007": "colon", "94260004": "secondary in colon"},
    ),
    **_table(
        SNOMED,
        "mcode",
        {
            "363346000": "malignant neoplastic disease, site not stated",
            "353431000119107": "breast",
            "254637007": "non-small cell lung cancer",
            "92814006": "chronic lymphoid leukaemia",
            "277571004": "B-cell acute lymphoblastic leukaemia",
            "128462008": "metastatic malignant neoplasm, primary site not stated",
        },
    ),
    **_table(ICD10CM, "icd10cm", {"C20": "rectal", "C19": "rectal"}),
}
# ICD-10-CM ranges for a plain-language name of other primaries (prefix match on the code).
ICD10_OTHER_PRIMARY: Final = {"C18": "colon", "C50": "breast", "C34": "lung", "C21": "anus and anal canal"}

# --- Metastatic sites (SecondaryCancerCondition) ------------------------------------------------------------
# value: a contract-1 site, or "?" + reason when the code cannot be placed safely.
METASTASIS_SITES: Final[dict[tuple[str, str], Code]] = {
    **_table(SNOMED, "interop", {"94381002": "liver", "94391008": "lung", "94225005": "brain"}),
    **_table(
        SNOMED,
        "ctm",
        {
            "94222008": "bone",
            "94253005": "other",
            "94606003": "other",
            "94579000": "other",
            "94399005": "other",
            "94392001": "?lymph node site not stated, so regional and distant nodes cannot be told apart",
        },
    ),
    **_table(
        ICD10CM,
        "icd10cm",
        {
            "C78.00": "lung",
            "C78.01": "lung",
            "C78.02": "lung",
            "C78.7": "liver",
            "C78.6": "peritoneum",
            "C79.31": "brain",
            "C79.51": "bone",
            "C77.0": "distant_lymph_nodes",
            "C77.1": "distant_lymph_nodes",
            "C77.3": "distant_lymph_nodes",
            "C77.4": "distant_lymph_nodes",
            "C77.8": "distant_lymph_nodes",
            "C77.2": "?intra-abdominal nodes may be regional nodes of a rectal primary, not distant",
            "C77.5": "?intrapelvic nodes may be regional nodes of a rectal primary, not distant",
            "C77.9": "?lymph node site not stated, so regional and distant nodes cannot be told apart",
            "C78.5": "?a secondary in large intestine or rectum may be a local recurrence or a metastasis",
            "C79.9": "?secondary site not stated",
        },
    ),
}
# Other ICD-10-CM secondary codes (C78.x / C79.x not listed above) are placed at site "other".
ICD10_SECONDARY_PREFIXES: Final = ("C78.", "C79.")

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

# --- Contract 2: courses, organ function, HER2 as reported ------------------------------------------------
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
# Maintenance: mCODE STU4's ProcedureIntentVS (the `mcode-procedure-intent` extension) has curative,
# palliative, supportive, diagnostic, preventive, guidance, screening and forensic intent, and no code for
# maintenance; no other standard element was found. A course from FHIR is therefore never `maintenance`:
# a palliative course after one that did not stop for progression is reported (see fhir/history.py).

# Vocabulary procedure ids (PROCEDURES meanings) that leave a stoma. Only a procedure that is a stoma and
# nothing else sets `primary.stoma` for now: the combined resection codes (e.g. "...+colostomy") are pinned
# to `primary: {status: resected}` by tests/test_fhir_codes.py, which this change does not own.
STOMA_PROCEDURES: Final = frozenset({"colostomy", "diverting_colostomy", "ileostomy"})

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
