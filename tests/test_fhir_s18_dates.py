"""Stop 18: a Condition, a Procedure or a medication dated after the case date is reported and not used.

Why: stop 17 checked the dates of Observations against the case date (`as_of`), and of treatment courses,
but not Conditions (onset, recorded date, abatement) nor Procedures (performed[x]); and a medication dated
after the case date still reached the contract-1 lines (a 2090 oxaliplatin counted as a line). A metastasis
or a local recurrence found after the case date, or a resection done after it, was not known on that date;
a future date is an entry error no reading can repair. The reader's convention is kept: an issue naming the
resource, the date field, the date found and what was expected, and the fact stays unknown. A date that
cannot be read (free text, an age) is never taken as on or before the case date.

The bundles are the project's own `tests/fhir_bundles` fixtures (Bundle.timestamp 2026-03-01, the case
date), copied and changed here; every code in them is already in the cited table (`fhir_codes`).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir_mcode import FhirImport, case_from_bundle, shared_parses
from rectoplan.core.errors import CaseError

BUNDLES = Path(__file__).parent / "fhir_bundles"
RECURRENT = "rectal_recurrent_after_folfox"  # local recurrence, peritoneum, LAR 2021, pelvic RT 2021, FOLFOX
LIVER = "rectal_stage4_kras_g12c"  # liver and lung metastases
CASE_DATE = "2026-03-01"
EXPECTED = "expected a {thing} dated on or before the case date (the service's request date, else Bundle.timestamp"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLES / f"{name}.json").read_text())
    return data


def resource(bundle: dict[str, Any], ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == ident)
    return found


def changed(name: str, ident: str, **fields: Any) -> dict[str, Any]:
    """The fixture with one resource's fields replaced (None removes a field)."""
    bundle = copy.deepcopy(load(name))
    target = resource(bundle, ident)
    for key, value in fields.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return bundle


def messages(result: FhirImport, ref: str) -> list[str]:
    return [p.message() for p in result.issues if p.path == ref]


# -- conditions -------------------------------------------------------------------------------------------


def test_a_metastasis_found_after_the_case_date_is_reported_and_not_counted() -> None:
    before = case_from_bundle(load(LIVER))
    assert {m["site"] for m in before.case["metastases"]} == {"liver", "lung"}
    result = case_from_bundle(changed(LIVER, "mets-lung", onsetDateTime="2026-03-02"))
    assert {m["site"] for m in result.case["metastases"]} == {"liver"}
    [message] = messages(result, "Condition/mets-lung")
    assert f"found onsetDateTime 2026-03-02, after the case date {CASE_DATE}, on condition" in message
    assert EXPECTED.format(thing="condition") in message and "left unknown" in message
    assert "Condition/mets-lung" not in result.used


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"recordedDate": "2090-01-01"}, "recordedDate 2090-01-01"),
        ({"onsetDateTime": None, "onsetPeriod": {"start": "2026-02-01", "end": "2026-04-01"}}, "onsetPeriod.end"),
        ({"abatementDateTime": "2026-05-01"}, "abatementDateTime 2026-05-01"),
        ({"abatementPeriod": {"start": "2026-02-01", "end": "2026-04-01"}}, "abatementPeriod.end 2026-04-01"),
    ],
)
def test_each_date_of_a_condition_is_compared(fields: dict[str, Any], named: str) -> None:
    result = case_from_bundle(changed(LIVER, "mets-lung", **fields))
    assert {m["site"] for m in result.case["metastases"]} == {"liver"}
    assert any(f"found {named}" in m for m in messages(result, "Condition/mets-lung"))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"onsetDateTime": None, "onsetString": "spring 2024"}, "onsetString 'spring 2024', which is not a date"),
        ({"onsetDateTime": None, "onsetAge": {"value": 62, "unit": "a"}}, "onsetAge 62 a, which is not a date"),
    ],
)
def test_a_condition_date_that_cannot_be_read_is_never_taken_as_before_the_case_date(
    fields: dict[str, Any], named: str
) -> None:
    result = case_from_bundle(changed(LIVER, "mets-lung", **fields))
    assert {m["site"] for m in result.case["metastases"]} == {"liver"}
    assert any(f"found {named}" in m for m in messages(result, "Condition/mets-lung"))


def test_a_local_recurrence_found_after_the_case_date_is_not_used() -> None:
    assert "local_recurrence" in case_from_bundle(load(RECURRENT)).case
    result = case_from_bundle(changed(RECURRENT, "local-recurrence", onsetDateTime="2026-06-01"))
    assert "local_recurrence" not in result.case
    assert any("found onsetDateTime 2026-06-01" in m for m in messages(result, "Condition/local-recurrence"))
    # its onset no longer dates the advanced disease either (the peritoneal metastasis of 2024-09 does)
    assert result.case.get("advanced_disease_date") in (None, "2024-09-01")


def test_a_rectal_primary_dated_after_the_case_date_is_reported_and_still_makes_rectoplan_apply() -> None:
    """Refusing the chart for a wrong diagnosis date would hide every other finding: the date is reported."""
    result = case_from_bundle(changed(LIVER, "rectal-primary", onsetDateTime="2090-01-01"))
    assert {m["site"] for m in result.case["metastases"]} == {"liver", "lung"}
    [message] = messages(result, "Condition/rectal-primary")
    assert "found onsetDateTime 2090-01-01, after the case date" in message
    assert "still read as the diagnosis that makes rectoplan apply" in message


def test_a_bundle_whose_only_recurrence_is_dated_after_the_case_date_is_refused_naming_it() -> None:
    bundle = changed(RECURRENT, "local-recurrence", onsetDateTime="2026-06-01")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") != "rectal-primary"]
    with pytest.raises(CaseError) as caught:
        case_from_bundle(bundle)
    assert "(local recurrence dated after the case date) in Condition/local-recurrence" in str(caught.value)


# -- procedures -------------------------------------------------------------------------------------------


def test_a_resection_done_after_the_case_date_is_reported_and_not_used() -> None:
    before = case_from_bundle(load(RECURRENT)).case
    assert before["primary"]["status"] == "resected" and "low_anterior_resection" in before["prior"]["surgeries"]
    result = case_from_bundle(changed(RECURRENT, "lar", performedDateTime="2026-03-02"))
    assert "primary" not in result.case or "status" not in result.case["primary"]
    assert "low_anterior_resection" not in result.case.get("prior", {}).get("surgeries", [])
    assert "days_since_major_surgery" not in result.case.get("health", {})
    [message] = messages(result, "Procedure/lar")
    assert "found performedDateTime 2026-03-02, after the case date 2026-03-01, on procedure SNOMED 447982008" in (
        message
    )
    assert EXPECTED.format(thing="procedure") in message


def test_pelvic_radiotherapy_given_after_the_case_date_is_not_prior_pelvic_radiation() -> None:
    assert case_from_bundle(load(RECURRENT)).case["prior"]["pelvic_radiation"] is True
    period = {"start": "2026-04-01", "end": "2026-05-06"}
    result = case_from_bundle(changed(RECURRENT, "pelvic-chemoradiation", performedPeriod=period))
    assert "pelvic_radiation" not in result.case.get("prior", {})
    found = messages(result, "Procedure/pelvic-chemoradiation")
    assert any("found performedPeriod.start 2026-04-01" in m for m in found)


def test_a_procedure_begun_by_the_case_date_is_used_without_its_later_end() -> None:
    """Leaving out an operation that began by the case date would hide it; only its end is reported."""
    period = {"start": "2026-02-10", "end": "2026-03-05"}
    result = case_from_bundle(changed(RECURRENT, "lar", performedDateTime=None, performedPeriod=period))
    assert result.case["primary"]["status"] == "resected"
    assert result.case["health"]["days_since_major_surgery"] == 19  # from its start, 2026-02-10
    [message] = messages(result, "Procedure/lar")
    assert "found performedPeriod.end 2026-03-05" in message and "counted as begun by the case date" in message


def test_a_procedure_whose_date_is_free_text_is_not_used() -> None:
    result = case_from_bundle(changed(RECURRENT, "lar", performedDateTime=None, performedString="after chemo"))
    assert "low_anterior_resection" not in result.case.get("prior", {}).get("surgeries", [])
    assert any("performedString 'after chemo', which is not a date" in m for m in messages(result, "Procedure/lar"))


def test_the_end_of_a_procedure_still_in_progress_is_not_compared() -> None:
    period = {"start": "2026-02-10", "end": "2026-03-05"}
    bundle = changed(RECURRENT, "lar", performedDateTime=None, performedPeriod=period, status="in-progress")
    result = case_from_bundle(bundle)
    assert not messages(result, "Procedure/lar") and "low_anterior_resection" in result.case["prior"]["surgeries"]


# -- medications ------------------------------------------------------------------------------------------


def folfox_statement(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"].startswith("Medication") and "oxaliplatin" in json.dumps(e["resource"])
    )


def agents(case: dict[str, Any]) -> set[str]:
    prior = case.get("prior", {})
    return {a for line in prior.get("systemic_lines", prior.get("courses", [])) for a in line["agents"]}


def test_a_medication_started_after_the_case_date_is_not_counted_as_given() -> None:
    """Before: the course check reported it, and the contract-1 lines still counted it (a 2090 line)."""
    bundle = copy.deepcopy(load("rectal_first_line_progression"))  # Bundle.timestamp 2026-11-20
    statement = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "oxaliplatin-statement")
    statement["effectivePeriod"] = {"start": "2090-01-13", "end": "2090-07-21"}
    result = case_from_bundle(bundle)
    assert "oxaliplatin" not in agents(result.case)
    assert len(result.case["prior"].get("systemic_lines", result.case["prior"].get("courses", []))) == 1
    found = messages(result, "MedicationStatement/oxaliplatin-statement")
    assert any("found effectivePeriod.start 2090-01-13, after the case date 2026-11-20" in m for m in found)


def test_a_medication_begun_by_the_case_date_stays_given_with_its_later_end_unknown() -> None:
    """Hiding a drug the patient had (oxaliplatin) would be the favourable reading: it stays counted."""
    bundle = copy.deepcopy(load("rectal_first_line_progression"))
    statement = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "oxaliplatin-statement")
    statement["effectivePeriod"] = {"start": "2025-01-13", "end": "2090-07-21"}
    result = case_from_bundle(bundle)
    assert "oxaliplatin" in agents(result.case)
    [message] = messages(result, "MedicationStatement/oxaliplatin-statement")
    assert "found effectivePeriod.end 2090-07-21" in message and "its end is left unknown" in message


# -- the check, not the data, makes the difference; the service's lean models read the same ----------------


def test_the_same_records_are_read_once_the_case_date_has_passed_them() -> None:
    bundle = changed(RECURRENT, "lar", performedDateTime="2026-03-02")
    later = case_from_bundle(bundle, today=date(2026, 3, 2))
    assert "low_anterior_resection" in later.case["prior"]["surgeries"] and not messages(later, "Procedure/lar")


@pytest.mark.parametrize(
    ("written", "late"),
    [("2026-03-01T23:30:00-05:00", False), ("2026-03-02T00:30:00+02:00", True), ("2026-03-01", False)],
)
def test_the_day_as_written_is_compared(written: str, late: bool) -> None:
    result = case_from_bundle(changed(LIVER, "mets-lung", onsetDateTime=written))
    assert bool(messages(result, "Condition/mets-lung")) is late
    assert ("lung" in {m["site"] for m in result.case["metastases"]}) is not late


def test_the_lean_models_of_the_service_read_the_dates_the_same_way() -> None:
    bundles = [
        changed(LIVER, "mets-lung", abatementPeriod={"start": "2026-02-01", "end": "2026-04-01"}),
        changed(LIVER, "mets-lung", onsetDateTime=None, onsetRange={"low": {"value": 60}, "high": {"value": 62}}),
        changed(RECURRENT, "lar", performedDateTime=None, performedAge={"value": 60, "unit": "a"}),
        changed(RECURRENT, "lar", performedDateTime=None, performedPeriod={"start": "2026-02-10", "end": "2026-03-05"}),
    ]
    for bundle in bundles:
        full = case_from_bundle(bundle)
        with shared_parses():
            thin = case_from_bundle(bundle)
        assert thin.case == full.case
        assert [p.message() for p in thin.issues] == [p.message() for p in full.issues]
        assert any("case date" in p.message() for p in full.issues)
