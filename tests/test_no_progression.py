"""Ninth review (v01, v03): a first line stopped for a planned break, or for side effects while it controlled
the cancer, with no growth since (`prior.progressed_since_last_line: false`): nothing forces the next line,
so its options are framed as what to do at progression, and a case-level warning says what comes first
(CAIRO3: observation with scans, re-introduction at progression). Unknown or true: the plan is as before."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_review3 import course, rec, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]


def after_break(kb: KnowledgeBase, progressed: bool | None, stopped_for: str = "treatment_break") -> Recommendation:
    case: dict[str, Any] = with_courses(
        course(FOLFOX_BEV, "2025-10-01", "2026-03-31", stopped_for=stopped_for, best_response="stable")
    )
    if progressed is not None:
        case["prior"]["progressed_since_last_line"] = progressed
    return rec(case, kb)


@pytest.mark.parametrize("stopped_for", ["treatment_break", "toxicity"])
def test_no_growth_since_the_last_line_frames_the_next_line_as_at_progression(
    kb: KnowledgeBase, stopped_for: str
) -> None:
    r = after_break(kb, False, stopped_for)
    assert r.summary.startswith("Palliative intent. No progression since the last line stopped")
    assert any(w.startswith("No growth since the last line stopped") for w in r.warnings)
    waiting = [o for o in r.options if o.kind == "systemic" and o.phase in ("second_line", "later_line")]
    assert waiting
    assert all(o.rationale[0].startswith("At progression (none recorded") for o in waiting)
    assert all(o.patient_explanation.startswith("Only if the cancer grows again") for o in waiting)


@pytest.mark.parametrize("progressed", [True, None])
def test_growth_or_no_record_leaves_the_plan_as_it_was(kb: KnowledgeBase, progressed: bool | None) -> None:
    r = after_break(kb, progressed)
    assert "No progression since" not in r.summary
    assert not any(w.startswith("No growth since the last line stopped") for w in r.warnings)
    assert not any(o.rationale[0].startswith("At progression") for o in r.options if o.rationale)
