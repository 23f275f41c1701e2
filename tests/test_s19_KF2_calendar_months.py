"""Months are calendar months (review 16, F3 and F11).

The interval from the end of adjuvant or perioperative therapy to the relapse decides the line: a relapse
within 6 months of adjuvant oxaliplatin counts as a first line that progressed. Counted as days over a mean
month (30.44 days), exactly six calendar months from 31 August to 28 February (181 days) read as 5 months:
"second line", oxaliplatin failed; the same interval from 20 May to 20 November read as 6: first line. Every
interval ending in a short month lost a month (9, 14 and 12 calendar months were shown as 8, 13 and 11).
Months given as months before the case date lost one in the day round trip too (10 and 4 months ago: 5).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.courses import add_months, calendar_months
from rectoplan.api import recommend, validate_case
from rectoplan.core.facts import case_facts
from rectoplan.kb.loader import default_knowledge
from tests._kb_cases import (
    adjuvant_capox,
    after_lar_tme,
    known_panel,
    review16_case,
    review16_health,
    review16_liver_and_lung,
)

WILD_TYPE = known_panel()
BUNDLES = Path(__file__).parent / "fhir_bundles"


def adjuvant_capox_case(end: dict[str, Any], advanced: dict[str, Any], as_of: str | None) -> dict[str, Any]:
    """Review 16's a07/a02: RAS/BRAF wild-type, left-sided, unresectable liver and lung metastases after
    adjuvant CAPOX (`end`: its end, `advanced`: when advanced disease was diagnosed)."""
    course = adjuvant_capox(**end)
    return review16_case(
        "kf2",
        as_of=as_of,
        metastases=review16_liver_and_lung(),
        biomarkers=WILD_TYPE,
        prior=after_lar_tme([course]),
        health=review16_health(neuropathy_grade=1, days_since_major_surgery=400),
        **{"advanced_disease_date": None, **advanced},
    )


def dated(end: str, relapse: str, as_of: str) -> dict[str, Any]:
    return adjuvant_capox_case({"end": end}, {"advanced_disease_date": relapse}, as_of)


def free_months(case: dict[str, Any]) -> Any:
    kb = default_knowledge()
    return dict(case_facts(validate_case(case, kb), kb.resistance_class, kb.drug_classes)).get(
        "prior.oxaliplatin_free_months"
    )


def phase_of(case: dict[str, Any], option: str) -> str | None:
    options = {o.id: o for o in recommend(validate_case(case)).options}
    return options[option].phase if option in options else None


# -- the review's pair: the same clinical interval gives the same line ----------------------------------------

A07 = dated("2025-08-31", "2026-02-28", "2026-03-05")  # 181 days: 5.95 mean months
A02 = dated("2026-05-20", "2026-11-20", "2026-12-01")  # 184 days


@pytest.mark.parametrize("case", [A07, A02], ids=["a07-31aug-28feb", "a02-20may-20nov"])
def test_six_calendar_months_after_adjuvant_capox_is_first_line_with_oxaliplatin(case: dict[str, Any]) -> None:
    assert free_months(case) == 6
    assert phase_of(case, "folfox-panitumumab") == "first_line"  # oxaliplatin not counted as failed
    summary = recommend(validate_case(case)).summary
    assert "first line" in summary and "second line" not in summary
    assert "Oxaliplatin-free interval since oxaliplatin given around surgery: 6 months." in summary


@pytest.mark.parametrize(
    ("end", "relapse", "as_of", "shown"),
    [
        ("2025-05-31", "2026-02-28", "2026-03-05", 9),  # a03's kind: 9 calendar months, was 8
        ("2024-12-31", "2026-02-28", "2026-03-05", 14),  # a05's kind: was 13
        ("2025-02-28", "2026-02-28", "2026-03-05", 12),  # i12's kind: 365 days, was 11
    ],
)
def test_whole_calendar_months_are_shown_not_truncated_days(end: str, relapse: str, as_of: str, shown: int) -> None:
    assert free_months(dated(end, relapse, as_of)) == shown


def test_one_day_short_of_six_calendar_months_is_an_early_relapse() -> None:
    case = dated("2025-08-31", "2026-02-27", "2026-03-05")
    assert free_months(case) == 5
    assert phase_of(case, "folfox-panitumumab") is None  # oxaliplatin treated as failed
    assert "second line" in recommend(validate_case(case)).summary
    case = dated("2026-05-20", "2026-11-19", "2026-12-01")
    assert free_months(case) == 5


# -- the month arithmetic ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "count", "reached"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2025, 11, 30), 6, date(2026, 5, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),  # across the year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_adding_months_clamps_to_the_end_of_the_month(day: date, count: int, reached: date) -> None:
    assert add_months(day, count) == reached


@pytest.mark.parametrize(
    ("earlier", "later", "count"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2028, 1, 31), date(2028, 2, 29), 1),
        (date(2028, 1, 31), date(2028, 2, 28), 0),  # 31 Jan + 1 month is 29 Feb in a leap year
        (date(2025, 11, 30), date(2026, 5, 31), 6),
        (date(2025, 11, 30), date(2026, 5, 30), 6),
        (date(2025, 11, 30), date(2026, 5, 29), 5),
        (date(2025, 8, 31), date(2026, 2, 28), 6),
        (date(2025, 8, 31), date(2026, 2, 27), 5),
        (date(2026, 5, 20), date(2026, 11, 19), 5),
        (date(2026, 5, 20), date(2026, 5, 20), 0),
        (date(2026, 5, 20), date(2026, 5, 1), 0),  # never negative
    ],
)
def test_calendar_months_count_as_clinicians_do(earlier: date, later: date, count: int) -> None:
    assert calendar_months(earlier, later) == count


def test_calendar_months_agree_with_adding_months_over_four_years() -> None:
    """The definition itself, for every pair of days 2024-2027 on a stride: the count m is the largest with
    earlier + m months on or before later."""
    days = [date.fromordinal(date(2024, 1, 1).toordinal() + i) for i in range(0, 4 * 366, 3)]
    for earlier in days[::7]:
        for later in days:
            m = calendar_months(earlier, later)
            if later < earlier:
                assert m == 0
                continue
            assert add_months(earlier, m) <= later < add_months(earlier, m + 1)


# -- months before the case date are kept exactly; mixed inputs ----------------------------------------------


@pytest.mark.parametrize(("end", "advanced"), [(10, 4), (6, 0), (7, 1), (18, 12), (12, 6)])
def test_months_ago_are_kept_exactly(end: int, advanced: int) -> None:
    """(10, 4) was 182 days - 5 months - through round(months * 30.44)."""
    case = adjuvant_capox_case({"end_months_ago": end}, {"advanced_disease_months_ago": advanced}, None)
    assert free_months(case) == end - advanced == 6
    assert phase_of(case, "folfox-panitumumab") == "first_line"


@pytest.mark.parametrize(("end", "advanced", "shown"), [(9, 4, 5), (20, 4, 16)])
def test_months_ago_below_and_above_six(end: int, advanced: int, shown: int) -> None:
    case = adjuvant_capox_case({"end_months_ago": end}, {"advanced_disease_months_ago": advanced}, None)
    assert free_months(case) == shown


def test_a_dated_end_with_the_relapse_in_months_ago_is_read_in_whole_months() -> None:
    """The date is read as whole calendar months before the case date (31 Aug 2025 to 28 Feb 2026: 6; it was
    181 days, 5) and the relapse's months are subtracted: no day is invented for "0 months ago"."""
    case = adjuvant_capox_case({"end": "2025-08-31"}, {"advanced_disease_months_ago": 0}, "2026-02-28")
    assert free_months(case) == 6
    assert phase_of(case, "folfox-panitumumab") == "first_line"
    case = adjuvant_capox_case({"end": "2025-09-06"}, {"advanced_disease_months_ago": 0}, "2026-03-05")
    assert free_months(case) == 5


def test_an_end_in_months_ago_with_a_dated_relapse_is_read_in_whole_months() -> None:
    """8 months ago, relapse on 2025-12-28 (2 whole months before 2026-02-28): 6 (it was 244 - 62 days, 5)."""
    case = adjuvant_capox_case({"end_months_ago": 8}, {"advanced_disease_date": "2025-12-28"}, "2026-02-28")
    assert free_months(case) == 6
    assert phase_of(case, "folfox-panitumumab") == "first_line"
    case = adjuvant_capox_case({"end_months_ago": 8}, {"advanced_disease_date": "2025-11-28"}, "2026-02-28")
    assert free_months(case) == 5  # 3 whole months before the case date


def test_other_month_facts_of_dated_courses_are_calendar_months() -> None:
    """The same counting for the months since the last anti-EGFR antibody and the months on the current line:
    4 calendar months since panitumumab ended on 31 Oct (28 Feb: 120 days, was 3)."""
    case = adjuvant_capox_case({"end": "2024-08-31"}, {"advanced_disease_date": "2025-03-01"}, "2026-02-28")
    case["prior"]["courses"] += [
        {
            "agents": ["fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"],
            "setting": "advanced",
            "status": "stopped",
            "stopped_for": "progression",
            "start": "2025-03-31",
            "end": "2025-10-31",
        },
        {
            "agents": ["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"],
            "setting": "advanced",
            "status": "ongoing",
            "start": "2025-11-30",
        },
    ]
    kb = default_knowledge()
    facts = dict(case_facts(validate_case(case, kb), kb.resistance_class, kb.drug_classes))
    assert facts["prior.months_since_anti_egfr"] == 4
    assert facts["prior.months_on_current_line"] == 3  # 30 Nov + 3 months: 28 Feb (90 days, was 2)
    assert facts["prior.oxaliplatin_free_months"] == 6


# -- FHIR: the dates of MedicationStatement periods give the same months ---------------------------------------


def _statement(request: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": request["id"] + "-statement",
        "status": "completed",
        "extension": request.get("extension", []),
        "medicationCodeableConcept": request["medicationCodeableConcept"],
        "subject": request["subject"],
        "effectivePeriod": {"start": start, "end": end},
    }


@pytest.mark.parametrize(
    ("end", "relapse", "today", "shown", "phase"),
    [
        ("2025-08-31", "2026-02-28", date(2026, 3, 5), 6, "first_line"),
        ("2026-05-20", "2026-11-20", date(2026, 12, 1), 6, "first_line"),
        ("2025-08-31", "2026-02-27", date(2026, 3, 5), 5, None),
    ],
)
def test_fhir_medication_statement_periods_give_calendar_months(
    end: str, relapse: str, today: date, shown: int, phase: str | None
) -> None:
    pytest.importorskip("fhir.resources")
    from rectoplan.adapters.fhir_mcode import case_from_bundle

    bundle = copy.deepcopy(json.loads((BUNDLES / "rectal_adjuvant_capox_relapse.json").read_text()))
    start = add_months(date.fromisoformat(end), -6).isoformat()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "MedicationRequest":
            entry["resource"] = _statement(resource, start, end)
            entry.pop("fullUrl", None)
        elif resource.get("id") == "mets-liver":
            resource["onsetDateTime"] = relapse
        elif resource.get("id") == "lar-2024":
            resource["performedDateTime"] = add_months(date.fromisoformat(start), -1).isoformat()
    result = case_from_bundle(bundle, today=today)
    case = result.case
    [course] = case["prior"]["courses"]
    assert (course["setting"], course["end"], case["advanced_disease_date"]) == ("adjuvant", end, relapse)
    assert free_months(case) == shown
    assert phase_of(case, "folfox-bevacizumab") == phase  # the bundle records no RAS result
