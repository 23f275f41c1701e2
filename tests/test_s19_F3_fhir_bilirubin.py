"""Stop 19 (F3): total bilirubin from FHIR gives both bilirubin facts, or neither.

Why: the FHIR reader set `health.bilirubin_raised` but never `health.bilirubin_over_3_uln`, the magnitude the
Campto SmPC's contraindication needs (4.3: bilirubin above 3 x the upper limit of normal), so a chart with a
bilirubin of 4 mg/dL (upper limit 1.2) still offered FOLFIRI. And a newest result that could not be read (no
reference range, another unit) let an older normal one speak for it: "within the limit", the favourable guess.

Read: LOINC 1975-2 'Bilirubin.total [Mass/volume] in Serum or Plasma' (confirmed: US Core example
Observation-serum-total-bilirubin, CMS dQM value set total-bilirubin). Raised = above referenceRange.high,
over 3 x ULN = above 3 x that, only against a limit in the result's own unit (no conversion). The substance
concentration code (14631-6) was not confirmed and is not read. Fixture: tests/fhir_bundles/
rectal_bilirubin_labs.json (case date 2026-11-20; bilirubin 0.8 mg/dL on 2026-08-03, 4.0 mg/dL on 2026-11-10,
upper limit 1.2 mg/dL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir.parse import shared_parses
from rectoplan.adapters.fhir_mcode import FhirImport, case_from_bundle
from rectoplan.api import recommend, validate_case

BUNDLE = Path(__file__).parent / "fhir_bundles" / "rectal_bilirubin_labs.json"
NEWEST, OLDER = "Observation/bilirubin-2026-11", "Observation/bilirubin-2026-08"


def bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE.read_text())
    return data


def result(resource_id: str = "bilirubin-2026-11", **changes: Any) -> dict[str, Any]:
    """The fixture with `changes` made to one bilirubin result (None removes a field)."""
    data = bundle()
    for entry in data["entry"]:
        if entry["resource"]["id"] == resource_id:
            for key, value in changes.items():
                if value is None:
                    entry["resource"].pop(key, None)
                else:
                    entry["resource"][key] = value
    return data


def mgdl(value: float, unit: str = "mg/dL", **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit, **extra}


def health(imported: FhirImport) -> dict[str, Any]:
    found: dict[str, Any] = imported.case.get("health", {})
    return found


def test_above_three_times_the_upper_limit_excludes_irinotecan() -> None:
    imported = case_from_bundle(bundle())
    assert health(imported) == {"bilirubin_raised": True, "bilirubin_over_3_uln": True}
    assert imported.provenance["health.bilirubin_over_3_uln"] == NEWEST and imported.issues == []
    assert "above 3 x the upper limit 1.2" in imported.used[NEWEST]
    assert "superseded" in imported.ignored[OLDER]  # the most recent result on or before the case date
    rec = recommend(validate_case(imported.case))
    assert not [o.id for o in rec.options if "folfiri" in o.id or "irinotecan" in o.id]
    excluded = {e.id: e for e in rec.excluded}
    assert "irinotecan-bilirubin-over-3-uln" in excluded["folfiri-bevacizumab"].rules


def test_raised_but_not_three_times() -> None:
    imported = case_from_bundle(result(valueQuantity=mgdl(2.1)))
    assert health(imported) == {"bilirubin_raised": True, "bilirubin_over_3_uln": False}
    assert "above the upper limit 1.2" in imported.used[NEWEST]


def test_within_the_upper_limit() -> None:
    imported = case_from_bundle(result(valueQuantity=mgdl(0.9)))
    assert health(imported) == {"bilirubin_raised": False, "bilirubin_over_3_uln": False}


def test_without_a_reference_range_both_stay_unknown_and_the_older_result_does_not_stand_in() -> None:
    """Before: the newer result was reported, and the older normal one made bilirubin 'not raised'."""
    imported = case_from_bundle(result(referenceRange=None))
    assert health(imported) == {} and "as_of" not in imported.case
    [problem] = imported.issues
    assert problem.path == NEWEST and "no upper reference limit in that unit" in problem.found
    assert "left unknown" in problem.expected
    assert OLDER not in imported.used and "could not be read" in imported.ignored[OLDER]


def test_a_unit_other_than_the_reference_ranges_is_not_converted() -> None:
    imported = case_from_bundle(result(valueQuantity=mgdl(68, "umol/L")))
    assert health(imported) == {}
    assert any(p.path == NEWEST and "umol/L" in p.found for p in imported.issues)


def test_disagreeing_upper_limits_in_one_unit_stay_unknown() -> None:
    ranges = [{"high": mgdl(1.2)}, {"high": mgdl(1.0)}]
    imported = case_from_bundle(result(referenceRange=ranges))
    assert health(imported) == {}
    assert any("2 different upper reference limits" in p.found for p in imported.issues)


def test_an_older_result_that_could_not_be_read_changes_nothing() -> None:
    imported = case_from_bundle(result("bilirubin-2026-08", referenceRange=None))
    assert health(imported) == {"bilirubin_raised": True, "bilirubin_over_3_uln": True}
    assert [p.path for p in imported.issues] == [OLDER]


def test_a_result_after_the_case_date_is_not_known_on_it() -> None:
    """A result dated after the case date is reported and not used: the case date's newest result speaks."""
    imported = case_from_bundle(result(effectiveDateTime="2026-12-01"))
    assert health(imported) == {"bilirubin_raised": False, "bilirubin_over_3_uln": False}
    assert any(p.path == NEWEST and "after the case date" in p.found for p in imported.issues)


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        ("<", 0.5, {"bilirubin_raised": False, "bilirubin_over_3_uln": False}),
        ("<", 2.0, {"bilirubin_over_3_uln": False}),  # at most 2: maybe raised, not 3 x
        (">", 2.0, {"bilirubin_raised": True}),  # more than 2: raised, maybe 3 x
        (">", 4.0, {"bilirubin_raised": True, "bilirubin_over_3_uln": True}),
        ("ad", 0.5, {}),
    ],
)
def test_a_bound_says_only_what_it_tells(comparator: str, value: float, expected: dict[str, bool]) -> None:
    imported = case_from_bundle(result(valueQuantity=mgdl(value, comparator=comparator)))
    assert health(imported) == expected


@pytest.mark.parametrize("value", [0.9, 2.1, 4.0])
def test_the_service_models_read_it_the_same(value: float) -> None:
    data = result(valueQuantity=mgdl(value))
    full = case_from_bundle(data)
    with shared_parses():
        thin = case_from_bundle(data)
    assert (thin.case, thin.provenance, thin.used) == (full.case, full.provenance, full.used)
    assert thin.ignored == full.ignored


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        ({"valueQuantity": mgdl(-1.0)}, "a negative value or upper limit"),
        ({"referenceRange": [{"high": mgdl(0)}]}, "a negative value or upper limit"),
        ({"valueQuantity": None, "valueString": "4.0 mg/dL"}, "total bilirubin without a numeric value"),
    ],
)
def test_a_value_that_cannot_be_a_bilirubin_is_reported(changes: dict[str, Any], found: str) -> None:
    imported = case_from_bundle(result(**changes))
    assert health(imported) == {}
    assert [p.path for p in imported.issues if found in p.found] == [NEWEST]
