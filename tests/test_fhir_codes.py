"""One test per code of the terminology table: it names a source, and the adapter maps it as listed."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle
from rectoplan.core.case import SITES
from rectoplan.core.errors import CaseError
from rectoplan.kb.loader import default_knowledge

P = "Patient/p"


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def rectal() -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "rp", "subject": {"reference": P}, "code": coded(fc.SNOMED, "363351006")}


def run(*resources: dict[str, Any]) -> Any:
    return case_from_bundle(bundle_of([{"resourceType": "Patient", "id": "p"}, *resources]))


def ids(table: dict[tuple[str, str], fc.Code]) -> list[str]:
    return [f"{fc.SYSTEM_NAMES.get(s, s)}-{c}" for s, c in table]


ALL_TABLES = {
    "cancer": fc.CANCER_CONDITIONS,
    "sites": fc.METASTASIS_SITES,
    "ecog": fc.ECOG_ANSWERS,
    "stage_codes": fc.STAGE_GROUP_CODES,
    "stage_values": fc.STAGE_VALUES,
    "tests": fc.MARKER_TESTS,
    "answers": fc.RESULT_ANSWERS,
    "drugs": fc.DRUGS,
    "procedures": fc.PROCEDURES,
    "pelvic": fc.PELVIC_SITES,
    "stop": fc.STOP_REASONS,
}


@pytest.mark.parametrize(
    "entry",
    [c for t in ALL_TABLES.values() for c in t.values()] + list(fc.GENES.values()),
    ids=lambda c: f"{c.system.rsplit('/', 1)[-1]}-{c.code}",
)
def test_every_code_names_its_source(entry: fc.Code) -> None:
    assert entry.source in fc.SOURCES and entry.meaning


@pytest.mark.parametrize("key", list(fc.CANCER_CONDITIONS), ids=ids(fc.CANCER_CONDITIONS))
def test_cancer_condition_code(key: tuple[str, str]) -> None:
    entry = fc.CANCER_CONDITIONS[key]
    condition = {"resourceType": "Condition", "id": "c", "subject": {"reference": P}, "code": coded(*key)}
    if entry.meaning in ("rectal", "local_recurrence"):
        others = [] if entry.meaning == "rectal" else [rectal()]
        result = run(condition, *others)
        assert "Condition/c" in result.used
    else:
        with pytest.raises(CaseError) as caught:
            run(condition)
        assert key[1] in caught.value.problems[0].found


@pytest.mark.parametrize("key", list(fc.METASTASIS_SITES), ids=ids(fc.METASTASIS_SITES))
def test_metastasis_site_code(key: tuple[str, str]) -> None:
    meaning = fc.METASTASIS_SITES[key].meaning
    secondary = {"resourceType": "Condition", "id": "m", "subject": {"reference": P}, "code": coded(*key)}
    result = run(rectal(), secondary)
    if meaning.startswith("?"):
        assert "metastases" not in result.case and [p.path for p in result.issues] == ["Condition/m"]
    else:
        assert meaning in SITES and result.case["metastases"] == [{"site": meaning}]


@pytest.mark.parametrize("key", list(fc.DRUGS), ids=ids(fc.DRUGS))
def test_drug_code(key: tuple[str, str]) -> None:
    drug = fc.DRUGS[key].meaning
    assert drug in default_knowledge().vocabulary.drugs
    request = {
        "resourceType": "MedicationRequest",
        "id": "d",
        "status": "completed",
        "intent": "order",
        "subject": {"reference": P},
        "authoredOn": "2025-01-01",
        "medicationCodeableConcept": coded(*key),
    }
    result = run(rectal(), request)
    assert result.case["prior"]["systemic_lines"] == [{"agents": [drug], "stopped_for": "completed"}]


@pytest.mark.parametrize("key", list(fc.PROCEDURES), ids=ids(fc.PROCEDURES))
def test_procedure_code(key: tuple[str, str]) -> None:
    expected = fc.PROCEDURES[key].meaning.split("+")
    assert set(expected) <= set(default_knowledge().vocabulary.procedures)
    procedure = {
        "resourceType": "Procedure",
        "id": "s",
        "status": "completed",
        "subject": {"reference": P},
        "code": coded(*key),
        "performedDateTime": "2024-05-01",
    }
    result = run(rectal(), procedure)
    assert result.case["prior"]["surgeries"] == expected
    assert (result.case.get("primary") == {"status": "resected"}) == (key[1] in fc.RECTAL_RESECTIONS)


def observation(code: tuple[str, str], value: dict[str, Any], ident: str = "o", **extra: Any) -> dict[str, Any]:
    return (
        {
            "resourceType": "Observation",
            "id": ident,
            "status": "final",
            "subject": {"reference": P},
            "code": coded(*code),
            "effectiveDateTime": "2025-01-01",
        }
        | value
        | extra
    )


@pytest.mark.parametrize("key", list(fc.MARKER_TESTS), ids=ids(fc.MARKER_TESTS))
def test_marker_test_code(key: tuple[str, str]) -> None:
    test = fc.MARKER_TESTS[key].meaning
    negative = observation(key, {"valueCodeableConcept": coded(fc.LOINC, "LA6577-6")})
    markers = run(rectal(), negative).case["biomarkers"]
    expected = {
        "kras": {"kras": "wild_type"},
        "kras+nras": {"kras": "wild_type", "nras": "wild_type"},
        "nras": {"nras": "wild_type"},
        "braf_v600e": {"braf": "wild_type"},
        "msi": {"mmr": "pmmr_mss"},
        "her2": {"her2": "negative"},
        "ntrk": {"ntrk_fusion": "negative"},
    }[test]
    assert markers == expected


@pytest.mark.parametrize("key", list(fc.RESULT_ANSWERS), ids=ids(fc.RESULT_ANSWERS))
def test_result_answer_code(key: tuple[str, str]) -> None:
    meaning = fc.RESULT_ANSWERS[key].meaning
    msi = observation(("http://loinc.org", "81695-9"), {"valueCodeableConcept": coded(*key)})
    result = run(rectal(), msi)
    expected = {"positive": "dmmr_msi_h", "msi_high": "dmmr_msi_h", "negative": "pmmr_mss", "msi_stable": "pmmr_mss"}
    if meaning in expected:
        assert result.case["biomarkers"] == {"mmr": expected[meaning]}
    else:
        assert "biomarkers" not in result.case and result.issues[0].path == "Observation/o"


@pytest.mark.parametrize("key", list(fc.ECOG_ANSWERS), ids=ids(fc.ECOG_ANSWERS))
def test_ecog_answer_code(key: tuple[str, str]) -> None:
    score = int(fc.ECOG_ANSWERS[key].meaning)
    ecog = observation((fc.LOINC, fc.ECOG_CODE.code), {"valueCodeableConcept": coded(*key)})
    result = run(rectal(), ecog)
    assert result.case.get("ecog") == (score if score <= 4 else None)


@pytest.mark.parametrize("key", list(fc.STAGE_VALUES), ids=ids(fc.STAGE_VALUES))
@pytest.mark.parametrize("group", list(fc.STAGE_GROUP_CODES), ids=ids(fc.STAGE_GROUP_CODES))
def test_stage_codes(group: tuple[str, str], key: tuple[str, str]) -> None:
    stage = observation(group, {"valueCodeableConcept": coded(*key)})
    result = run(rectal(), stage)
    assert f"stage group {fc.STAGE_VALUES[key].meaning} " in result.used["Observation/o"]
    stage_iv_warning = any("stage group IV" in p.found for p in result.issues)
    assert stage_iv_warning == (fc.STAGE_VALUES[key].meaning == "IV")  # IV without a coded site is reported


@pytest.mark.parametrize("gene", list(fc.GENES), ids=list(fc.GENES))
def test_gene_code(gene: str) -> None:
    name = fc.GENES[gene].meaning
    component = {"code": coded(fc.LOINC, "48018-6"), "valueCodeableConcept": coded("http://www.genenames.org", gene)}
    variant = observation(
        (fc.LOINC, "69548-6"), {"valueCodeableConcept": coded(fc.LOINC, "LA9634-2")}, component=[component]
    )
    result = run(rectal(), variant)
    if name in ("KRAS", "NRAS", "BRAF"):
        assert result.case["biomarkers"] == {name.lower(): "wild_type"}
    else:  # absence of variants does not establish fusion-negative or HER2-negative status
        assert "biomarkers" not in result.case and "Observation/o" in result.ignored


@pytest.mark.parametrize("key", list(fc.STOP_REASONS), ids=ids(fc.STOP_REASONS))
def test_stop_reason_code(key: tuple[str, str]) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": "d",
        "status": "stopped",
        "intent": "order",
        "subject": {"reference": P},
        "authoredOn": "2025-01-01",
        "statusReason": coded(*key),
        "medicationCodeableConcept": coded(fc.RXNORM, "51499"),
    }
    line = run(rectal(), request).case["prior"]["systemic_lines"][0]
    assert line == {"agents": ["irinotecan"], "stopped_for": fc.STOP_REASONS[key].meaning}


def test_pelvic_site_code_and_other_radiotherapy() -> None:
    course = {
        "resourceType": "Procedure",
        "id": "rt",
        "status": "completed",
        "subject": {"reference": P},
        "code": coded(fc.SNOMED, "1217123003"),
        "bodySite": [coded(fc.SNOMED, "34402009")],
    }
    assert run(rectal(), course).case["prior"]["pelvic_radiation"] is True
    course["bodySite"] = [coded(fc.SNOMED, "39607008")]
    assert "prior" not in run(rectal(), course).case  # elsewhere: pelvic radiation stays unknown, not False
