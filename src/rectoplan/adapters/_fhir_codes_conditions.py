"""Codes of cancer conditions: the rectal primary and its local recurrence, other cancers, metastatic sites.

Part of `rectoplan.adapters.fhir_codes` (import the names from there). Read by `fhir/conditions.py` and by
the bundle's refusal of a chart without a rectal cancer; each entry names where it was seen (`SOURCES`).
"""

from __future__ import annotations

from typing import Final

from rectoplan.adapters._fhir_codes_base import ICD10CM, SNOMED, Code, _table

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
