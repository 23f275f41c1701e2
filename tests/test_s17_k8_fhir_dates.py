"""Stop 17 (K8): a marker or lab Observation dated after the case date is reported and not used.

Why: the FHIR reader compared treatment courses with the case date but not results. A KRAS result "absent"
dated after the case date then won over an earlier KRAS G12C result as the newest one, and offered anti-EGFR
antibodies to a RAS-mutant tumour. The reader's convention for a resource it cannot believe is kept: an
issue naming the resource, the date field, the date found and what was expected (a visible warning on
stderr, on the plan card and on the page), and the fact stays unknown (never a favourable value).

The fixture `tests/fixtures/s17-k8-fhir/rectal-future-dated-results.json` is `rectal_stage4_kras_g12c`
(Bundle.timestamp 2026-03-01) with three results dated in 2090, one per date field: a KRAS "absent" taken
after the case date (effectiveDateTime), an MSI-high result over a period that ends after it
(effectivePeriod.end), and a TMB taken before it but issued after it (issued). Every code in it is one the
project's cited table (`fhir_codes`) already reads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES
from tests.test_service_support import patient_view, prefetch_from, running

pytest.importorskip("fhir.resources")

from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle
from rectoplan.api import recommend, validate_case
from rectoplan.cli import main

BUNDLE = FIXTURES / "s17-k8-fhir" / "rectal-future-dated-results.json"
LATE = {
    "Observation/kras-absent-future": "effectiveDateTime 2090-06-01",
    "Observation/msi-high-period-future": "effectivePeriod.end 2090-04-01",
    "Observation/tmb-issued-future": "issued 2090-03-05",
}
LATE_IDS = {ref.split("/")[1] for ref in LATE}
ANTI_EGFR = ("panitumumab", "cetuximab")


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE.read_text())
    return data


def issues_by_ref(bundle: dict[str, Any], today: date | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    result = case_from_bundle(bundle, today=today)
    return result.case, {p.path: p.message() for p in result.issues}


def test_results_dated_after_the_case_date_are_reported_with_field_found_and_expected() -> None:
    _, issues = issues_by_ref(load())
    for ref, field_and_date in LATE.items():
        assert ref in issues, ref
        assert f"found {field_and_date}, after the case date 2026-03-01" in issues[ref]
        assert "expected a result dated on or before the case date" in issues[ref]
        assert "left unknown" in issues[ref]


def test_a_later_kras_absent_does_not_override_the_g12c_result_nor_offer_anti_egfr() -> None:
    case, _ = issues_by_ref(load())
    assert case["biomarkers"]["kras"] == "mutant" and case["biomarkers"]["kras_variant"] == "G12C"
    assert case["biomarkers"]["mmr"] == "pmmr_mss"  # the MSI-high result over a future period is not used
    assert "tmb" not in case["biomarkers"]  # issued after the case date: unknown, not 12/Mb
    offered = {c for o in recommend(validate_case(case)).options for c in o.components}
    assert not offered & set(ANTI_EGFR)


def test_the_same_results_are_read_once_the_case_date_has_passed_them() -> None:
    case, issues = issues_by_ref(load(), today=date(2091, 1, 1))  # the check, not the results, made the difference
    assert not any("after the case date" in message for message in issues.values())
    assert case["biomarkers"]["kras"] == "wild_type" and case["biomarkers"]["mmr"] == "dmmr_msi_h"
    assert case["biomarkers"]["tmb"] == 12


def test_a_result_dated_on_the_case_date_is_used() -> None:
    bundle = load()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in LATE_IDS | {"msi-stable"}]
    msi = copy.deepcopy(next(e for e in load()["entry"] if e["resource"]["id"] == "msi-high-period-future"))
    msi["resource"]["effectivePeriod"] = {"start": "2026-02-01", "end": "2026-03-01T23:30:00Z"}
    msi["resource"]["issued"] = "2026-03-01T23:59:00Z"
    bundle["entry"].append(msi)
    case, issues = issues_by_ref(bundle)
    assert case["biomarkers"]["mmr"] == "dmmr_msi_h"
    assert "Observation/msi-high-period-future" not in issues


def test_a_partial_date_in_the_case_dates_month_is_not_after_it() -> None:
    """'2026-03' may be any day of March: it is not known to be after 2026-03-01, so it is used."""
    bundle = load()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "msi-high-period-future"]
    kras = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "kras-absent-future")
    kras["effectiveDateTime"] = "2026-03"
    case, issues = issues_by_ref(bundle)
    assert "Observation/kras-absent-future" not in issues
    assert case["biomarkers"]["kras"] == "wild_type"  # the newest dated KRAS result, as before this change


def test_a_lab_value_and_ecog_dated_after_the_case_date_are_left_unknown() -> None:
    """The check covers every result the reader uses, not only the tumour markers."""
    bundle = load()
    for e in bundle["entry"]:
        if e["resource"]["id"] == "ecog-1":
            e["resource"]["effectiveDateTime"] = "2026-03-02T08:00:00+00:00"
    case, issues = issues_by_ref(bundle)
    assert "ecog" not in case and "effectiveDateTime 2026-03-02" in issues["Observation/ecog-1"]


def test_the_cli_prints_each_late_result_as_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", str(BUNDLE), "--format", "json"]) == 0
    err = capsys.readouterr().err
    for ref, field_and_date in LATE.items():
        assert f"warning: {ref}: found {field_and_date}" in err


def test_loose_resources_are_checked_the_same_way() -> None:
    resources = [e["resource"] for e in load()["entry"]]
    result = case_from_bundle(bundle_of(resources), patient_id="ines-rectal-liver", today=date(2026, 3, 1))
    assert {p.path for p in result.issues} >= set(LATE)


# -- the CDS Hooks service: observations come from the prefetch, the case date is the request's date ----------


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    pytest.importorskip("fastapi")
    from rectoplan.service.app import Settings, create_app

    with running(create_app(Settings(insecure_dev=True))) as url:
        yield url


def plan_detail(base: str, bundle: dict[str, Any]) -> str:
    body = patient_view("ines-rectal-liver", prefetch_from(bundle))
    response = httpx.post(f"{base}/cds-services/rectoplan-options", json=body, timeout=20)
    assert response.status_code == 200, response.text
    return str(response.json()["cards"][0]["detail"])


def test_the_plan_card_lists_the_late_results_and_offers_no_anti_egfr(service: str) -> None:
    detail = plan_detail(service, load())
    assert "could not be used" in detail
    for ref, field_and_date in LATE.items():
        assert f"{ref}: {ref}: found {field_and_date}, after the case date" in detail
    preferred = detail.split("Also to discuss")[0]
    assert not any(drug in preferred.lower() for drug in ANTI_EGFR)


def test_the_plan_card_without_late_results_says_nothing_of_dates(service: str) -> None:
    bundle = load()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in LATE_IDS]
    detail = plan_detail(service, bundle)
    assert "after the case date" not in detail


def test_fixture_is_the_kras_g12c_bundle_plus_three_results() -> None:
    base = json.loads((Path(__file__).parent / "fhir_bundles" / "rectal_stage4_kras_g12c.json").read_text())
    ids = [e["resource"]["id"] for e in load()["entry"]]
    assert ids == [e["resource"]["id"] for e in base["entry"]] + list(r.split("/")[1] for r in LATE)


def test_the_json_and_html_plans_carry_the_late_results(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", str(BUNDLE), "--format", "json"]) == 0
    issues = json.loads(capsys.readouterr().out)["input"]["issues"]
    for ref, field_and_date in LATE.items():
        assert any(i.startswith(f"{ref}: found {field_and_date}, after the case date") for i in issues)
    assert main(["recommend", str(BUNDLE), "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert all(f"found {field_and_date}, after the case date" in page for field_and_date in LATE.values())


@pytest.mark.parametrize(
    ("written", "late"),
    [
        ("2026-03-01T23:30:00-05:00", False),  # the case date's evening in New York (the next day in UTC)
        ("2026-03-02T00:30:00+02:00", True),  # the next day where it was taken (still the case date in UTC)
        ("2026-03-02", True),
    ],
)
def test_the_day_as_written_is_compared_with_the_case_date(written: str, late: bool) -> None:
    bundle = load()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in LATE_IDS]
    next(e for e in bundle["entry"] if e["resource"]["id"] == "ecog-1")["resource"]["effectiveDateTime"] = written
    case, issues = issues_by_ref(bundle)
    assert ("Observation/ecog-1" in issues) is late
    assert ("ecog" in case) is not late
