"""FHIR R4 / mCODE bundles -> contract-1 cases: every published mCODE STU4 example, our rectal bundles,
conflicts, bad input and large bundles full of unrelated resources."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir_mcode import FhirImport, bundle_of, case_from_bundle
from rectoplan.api import recommend, validate_case
from rectoplan.core.errors import CaseError
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "mcode-stu4" / "examples"
SYNTHEA = FIXTURES / "synthea"
BUNDLES = Path(__file__).parent / "fhir_bundles"
TODAY = date(2026, 3, 1)
SCT = "http://snomed.info/sct"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def rectal(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "test-rectal-primary",
        "subject": {"reference": f"Patient/{patient}"},
        "code": {"coding": [{"system": SCT, "code": "363351006"}]},
    }


def accounted(result: FhirImport) -> set[str]:
    return set(result.used) | set(result.ignored) | {p.path for p in result.issues}


def single_examples() -> list[Path]:
    return [p for p in sorted(EXAMPLES.glob("*.json")) if not p.name.startswith("Bundle-")]


@pytest.mark.parametrize("path", single_examples(), ids=lambda p: p.stem)
def test_every_mcode_example_is_mapped_or_reported(path: Path) -> None:
    """Each example, beside a rectal primary for the same patient, lands in used, ignored or issues."""
    resource = load(path)
    subject = (resource.get("subject") or {}).get("reference", "Patient/p")
    patient = resource["id"] if resource["resourceType"] == "Patient" else subject.rsplit("/", 1)[-1]
    result = case_from_bundle(bundle_of([rectal(patient), resource]), patient_id=patient, today=TODAY)
    ref = f"{resource['resourceType']}/{resource['id']}"
    assert ref in accounted(result)
    reasons = [result.used.get(ref), result.ignored.get(ref)] + [p.message() for p in result.issues if p.path == ref]
    assert all(r is None or len(r) > 15 for r in reasons)  # a reason a person can read, not a bare flag


# What the examples that carry rectoplan facts must give (the rest are ignored or reported).
EXPECTED: dict[str, tuple[str, Any]] = {
    "Observation-ecog-performance-status-fully-active": ("ecog", 0),
    "Observation-gx-genomic-msi": ("biomarkers", {"mmr": "dmmr_msi_h"}),
    "Observation-tumor-marker-test-her2-jenny-m": ("biomarkers", {"her2": "negative"}),
    # displays are swapped in this example (HGNC:6342 shown as NRAS is KIT): matched by code, NRAS is HGNC:7989
    "Observation-gx-genomic-variant-pertinent-negative-nras-kit-braf": (
        "biomarkers",
        {"nras": "wild_type", "braf": "wild_type"},
    ),
    "Condition-secondary-cancer-condition-brain-mets": ("metastases", [{"site": "brain"}]),
}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_examples_with_rectoplan_facts(stem: str) -> None:
    resource = load(EXAMPLES / f"{stem}.json")
    patient = resource["subject"]["reference"].rsplit("/", 1)[-1]
    result = case_from_bundle(bundle_of([rectal(patient), resource]), patient_id=patient, today=TODAY)
    field, value = EXPECTED[stem]
    assert result.case[field] == value
    assert f"{resource['resourceType']}/{resource['id']}" in result.provenance.values()


@pytest.mark.parametrize(
    ("stem", "why"),
    [
        ("MedicationRequest-cancer-related-medication-request-cisplatin-stopped", "RxNorm 309311"),
        ("Procedure-cancer-related-surgical-procedure-lobectomy", "SNOMED 359615001"),
        ("Observation-tnm-clinical-stage-group-3c", None),
    ],
)
def test_examples_reported_precisely(stem: str, why: str | None) -> None:
    resource = load(EXAMPLES / f"{stem}.json")
    patient = resource["subject"]["reference"].rsplit("/", 1)[-1]
    result = case_from_bundle(bundle_of([rectal(patient), resource]), patient_id=patient, today=TODAY)
    ref = f"{resource['resourceType']}/{resource['id']}"
    if why is None:
        assert "stage group III" in result.used[ref]
    else:
        [problem] = [p for p in result.issues if p.path == ref]
        assert why in problem.found


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (EXAMPLES / "Bundle-mcode-patient-bundle-jenny-m.json", "353431000119107"),
        (EXAMPLES / "Bundle-gx-genomic-bundle-adam-anyperson.json", "no cancer condition"),
        *[(p, "94260004") for p in sorted(SYNTHEA.glob("*.json"))],
        (BUNDLES / "colon_stage4_not_rectal.json", "363406005"),
    ],
    ids=lambda v: v.stem if isinstance(v, Path) else v,
)
def test_bundles_without_rectal_cancer_get_a_clear_message(path: Path, expected: str) -> None:
    with pytest.raises(CaseError) as caught:
        case_from_bundle(load(path), today=TODAY)
    [problem] = caught.value.problems
    assert problem.path == "Condition" and expected in problem.found
    assert "rectal cancer condition" in problem.expected


def test_stage4_kras_g12c_bundle() -> None:
    result = case_from_bundle(load(BUNDLES / "rectal_stage4_kras_g12c.json"))
    case = result.case
    assert case["age"] == 64  # born 1961-06-14, bundle timestamp 2026-03-01
    assert case["metastases"] == [{"site": "liver"}, {"site": "lung"}]
    assert case["biomarkers"] == {
        "kras": "mutant",
        "kras_variant": "G12C",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2": "negative",
    }
    assert result.provenance["biomarkers.kras_variant"] == "Observation/kras-g12c"
    assert result.provenance["metastases[1]"] == "Condition/mets-lung"
    assert result.issues == []
    rec = recommend(validate_case(case))
    for option in rec.options:  # RAS-mutant: anti-EGFR only together with a G12C inhibitor
        if set(option.components) & {"cetuximab", "panitumumab"}:
            assert set(option.components) & {"sotorasib", "adagrasib"}


def test_recurrent_bundle_maps_treatments() -> None:
    result = case_from_bundle(load(BUNDLES / "rectal_recurrent_after_folfox.json"))
    case = result.case
    assert case["primary"] == {"status": "resected"} and case["local_recurrence"] == {}
    assert case["prior"]["pelvic_radiation"] is True
    assert case["prior"]["systemic_lines"] == [
        {"agents": ["fluorouracil", "leucovorin", "oxaliplatin"], "stopped_for": "progression"}
    ]
    assert case["prior"]["surgeries"] == ["low_anterior_resection", "colostomy"]
    assert case["health"]["days_since_major_surgery"] == (TODAY - date(2021, 7, 15)).days
    assert case["ecog"] == 1 and "superseded" in result.ignored["Observation/ecog-2023"]
    assert case["biomarkers"]["mmr"] == "pmmr_mss"  # MSI-L read as MSS (brief §4.4)
    validate_case(case)


def test_transaction_bundle_with_urn_references() -> None:
    result = case_from_bundle(load(BUNDLES / "rectal_msi_high_transaction.json"))
    assert result.case["biomarkers"] == {"mmr": "dmmr_msi_h", "ntrk_fusion": "positive"}
    assert result.case["metastases"] == [{"site": "liver"}]
    [nodes] = [p for p in result.issues if "C77.5" in p.found]
    assert nodes.path.startswith("urn:uuid:") and "regional" in nodes.expected


def test_conflicts_are_reported_and_newest_wins_only_when_dated() -> None:
    result = case_from_bundle(load(BUNDLES / "rectal_conflicting_results.json"))
    markers = result.case["biomarkers"]
    assert markers["kras"] == "mutant" and markers["kras_variant"] == "G12D"
    assert "her2" not in markers  # one HER2 result is undated: left unknown
    by_path = {p.path: p for p in result.issues}
    assert "Observation/kras-g12d-2025 is used" in by_path["Observation/kras-wt-2023"].expected
    assert "left unknown" in by_path["Observation/her2-pos-undated"].expected
    assert "left unknown" in by_path["Observation/her2-neg-2024"].expected
    assert "without a date" in by_path["MedicationRequest/cetuximab-undated"].found


def test_every_resource_of_a_bundle_is_accounted_for() -> None:
    for path in BUNDLES.glob("rectal_*.json"):
        bundle = load(path)
        result = case_from_bundle(bundle, today=TODAY)
        refs = {
            f"{e['resource']['resourceType']}/{e['resource']['id']}" if "id" in e["resource"] else e["fullUrl"]
            for e in bundle["entry"]
        }
        assert refs <= accounted(result), path.name


def test_not_a_bundle_and_broken_bundles() -> None:
    with pytest.raises(CaseError) as caught:
        case_from_bundle({"resourceType": "Patient", "id": "x"})
    assert caught.value.problems[0].path == "resourceType"
    with pytest.raises(CaseError) as caught:
        case_from_bundle({"resourceType": "Bundle", "type": "collection", "timestamp": "yesterday", "entry": []})
    assert caught.value.problems[0].path == "Bundle.timestamp"
    with pytest.raises(CaseError):
        case_from_bundle({"resourceType": "Bundle", "type": "collection", "entry": "nope"})


def test_invalid_and_foreign_resources_are_reported_not_used() -> None:
    bundle = load(BUNDLES / "rectal_stage4_kras_g12c.json")
    broken = {"resourceType": "Observation", "id": "broken", "status": "final", "code": 5}
    foreign = copy.deepcopy(bundle["entry"][2]["resource"]) | {"id": "someone-else"}
    foreign["subject"] = {"reference": "Patient/another-patient"}
    bundle["entry"] += [{"resource": broken}, {"resource": foreign}]
    result = case_from_bundle(bundle, today=TODAY)
    by_path = {p.path: p for p in result.issues}
    assert "valid FHIR R4 Observation" in by_path["Observation/broken"].expected
    assert "Patient/another-patient" in by_path["Condition/someone-else"].found
    assert result.case["metastases"] == [{"site": "liver"}, {"site": "lung"}]


def test_large_bundles_of_unrelated_resources() -> None:
    """A Synthea record (hundreds of claims, encounters, labs) plus a rectal core maps, ignoring the rest."""
    bundle = load(sorted(SYNTHEA.glob("*.json"))[0])
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"].pop("deceasedDateTime", None)  # one Synthea patient has died; the copy has not
    core = load(BUNDLES / "rectal_stage4_kras_g12c.json")["entry"][1:]
    for entry in core:
        entry["resource"]["subject"] = {"reference": patient["fullUrl"]}
    filler = [
        {
            "fullUrl": f"urn:uuid:filler-{i}",
            "resource": {"resourceType": "Encounter", "id": f"e{i}", "status": "finished"},
        }
        for i in range(5000)
    ]
    bundle["entry"] += core + filler
    result = case_from_bundle(bundle, today=TODAY)
    assert result.case["biomarkers"]["kras_variant"] == "G12C"
    assert result.case["metastases"] == [{"site": "liver"}, {"site": "lung"}]
    assert sum(1 for why in result.ignored.values() if "Encounter is not read" in why) >= 5000
    assert accounted(result) >= {f"Encounter/e{i}" for i in range(5000)}


def test_metastases_and_treatments_of_another_cancer_are_not_counted() -> None:
    """A patient who also had breast cancer: its bone metastasis and its capecitabine are not rectal facts."""
    breast = load(EXAMPLES / "Condition-primary-cancer-condition-jenny-m.json")
    patient = breast["subject"]["reference"].rsplit("/", 1)[-1]
    related = {
        "url": "http://hl7.org/fhir/StructureDefinition/condition-related",
        "valueReference": {"reference": f"Condition/{breast['id']}"},
    }
    bone = {
        "resourceType": "Condition",
        "id": "bone-mets",
        "subject": {"reference": f"Patient/{patient}"},
        "extension": [related],
        "code": {"coding": [{"system": SCT, "code": "94222008"}]},
    }
    liver = bone | {"id": "liver-mets", "extension": [], "code": {"coding": [{"system": SCT, "code": "94381002"}]}}
    capecitabine = {
        "resourceType": "MedicationRequest",
        "id": "cape",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": "2019-01-01",
        "reasonReference": [{"reference": f"Condition/{breast['id']}"}],
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "194000"}]
        },
    }
    result = case_from_bundle(bundle_of([rectal(patient), breast, bone, liver, capecitabine]), today=TODAY)
    assert result.case["metastases"] == [{"site": "liver"}]
    assert "another cancer" in result.ignored["Condition/bone-mets"]
    assert "prior" not in result.case and "another cancer" in result.ignored["MedicationRequest/cape"]


def administration(ident: str, rxnorm: str, day: str, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": ident,
        "status": status,
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": day,
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxnorm}]
        },
    }


def test_lines_from_dose_by_dose_administrations() -> None:
    """FOLFOX every 2 weeks, then FOLFIRI with bevacizumab added at cycle 3: two lines, not four."""
    folfox = [("4492", "fu"), ("6313", "lv"), ("32592", "ox")]
    folfiri = [("4492", "fu"), ("6313", "lv"), ("51499", "iri")]
    doses = []
    for cycle, day in enumerate(["2025-01-06", "2025-01-20", "2025-02-03", "2025-02-17"]):
        doses += [administration(f"{name}-a{cycle}", code, day) for code, name in folfox]
    for cycle, day in enumerate(["2025-04-07", "2025-04-21", "2025-05-05", "2025-05-19"]):
        extra = [("253337", "bev")] if cycle >= 2 else []
        doses += [administration(f"{name}-b{cycle}", code, day, "in-progress") for code, name in folfiri + extra]
    result = case_from_bundle(bundle_of([rectal("p"), *doses]), patient_id="p", today=TODAY)
    assert result.case["prior"]["systemic_lines"] == [
        {"agents": ["fluorouracil", "leucovorin", "oxaliplatin"]},  # why it stopped is not recorded
        {"agents": ["fluorouracil", "irinotecan", "leucovorin", "bevacizumab"], "stopped_for": "ongoing"},
    ]
