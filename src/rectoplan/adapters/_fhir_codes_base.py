"""The terminology table's foundations: the code systems, where each code was seen, and the `Code` entry.

Part of `rectoplan.adapters.fhir_codes` (import the names from there): every table of the FHIR adapter names
one of the `SOURCES` below for each code, so the systems, the sources and the entry type live in one place
that the per-kind tables (`_fhir_codes_conditions`, `_fhir_codes_results`, `_fhir_codes_treatments`) share.
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
