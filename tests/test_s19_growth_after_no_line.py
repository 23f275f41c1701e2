"""Growth since the last line needs a line (stop 19): courses that make none are refused like an empty history.

The z3 contract sees only the derived lines (`compile/z3_case.py`), so a validator that accepted adjuvant-only
courses with `progressed_since_last_line` let the differential tests meet a valid case the solver called
impossible; the two now hold the same rule."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.errors import CaseError
from rectoplan.synthetic import agree

ADJUVANT = {"agents": ["capecitabine", "oxaliplatin"], "setting": "adjuvant", "status": "completed"}
FIRST_LINE = {"agents": ["fluorouracil", "oxaliplatin"], "setting": "advanced", "status": "stopped"}


def _case(*courses: dict[str, Any], **prior: Any) -> dict[str, Any]:
    dated = [{**c, "start": "2025-01-01", "end": "2025-06-01"} for c in courses]
    return {
        "id": "growth",
        "as_of": "2026-12-01",
        "advanced_disease_date": "2026-11-01",  # 17 months after the adjuvant course: not a relapse line
        "metastases": [{"site": "liver"}],
        "prior": {"courses": dated, **prior},
    }


@pytest.mark.parametrize("grown", [True, False])
def test_growth_after_adjuvant_courses_only_is_refused(grown: bool) -> None:
    with pytest.raises(CaseError) as raised:
        validate_case(_case(ADJUVANT, progressed_since_last_line=grown))
    assert "prior.progressed_since_last_line" in str(raised.value)
    assert "make no line for advanced disease" in str(raised.value)


def test_growth_after_a_line_for_advanced_disease_is_accepted() -> None:
    first = {**FIRST_LINE, "stopped_for": "treatment_break"}
    case = validate_case(_case(ADJUVANT, first, progressed_since_last_line=True))
    assert len(case.prior.systemic_lines or ()) == 1


def test_generated_cases_never_hold_growth_after_adjuvant_courses_only() -> None:
    case = _case(ADJUVANT, progressed_since_last_line=True)
    agree(case)
    assert "progressed_since_last_line" not in case["prior"]
    validate_case(case)
