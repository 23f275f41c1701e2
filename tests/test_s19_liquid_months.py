"""The months since a liquid biopsy are calendar months, like every other interval (review 16, F3/F11, stop 19).

1 November to 1 March is four calendar months but 120 days, which a mean month of 30.44 days read as three:
the anti-EGFR rechallenge rules count months since the biopsy and since the last antibody."""

from __future__ import annotations

from rectoplan.api import validate_case


def _months(liquid: str, as_of: str) -> object:
    case = validate_case(
        {
            "id": "liquid",
            "as_of": as_of,
            "metastases": [{"site": "liver"}],
            "biomarkers": {"liquid_ras": "wild_type", "liquid_ras_date": liquid},
        }
    )
    return dict(case.declared).get("biomarkers.liquid_ras_months")


def test_four_calendar_months_over_120_days() -> None:
    assert _months("2025-11-01", "2026-03-01") == 4


def test_one_day_short_of_a_month_counts_the_month_not_yet() -> None:
    assert _months("2026-08-02", "2026-12-01") == 3
    assert _months("2026-08-01", "2026-12-01") == 4
