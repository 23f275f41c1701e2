"""Twelfth review P4 (x04): a line stopped without progression after a short induction does not "wait for
progression". The no-growth framing (CAIRO3's observation arm, which followed 18 weeks of CAPOX-B) needs a
full induction, as the maintenance rows do (`prior.last_line_months` >= 4, or >= 2 with panitumumab:
PANAMA); after a shorter line, or one of unrecorded length, the plan is to complete the induction first.
Unknown months never count as a full induction."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_review3 import course, rec, with_courses
from tests.test_knowledge_review5 import _ras_wild_type

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFOX_PANI = ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"]
WAITS = "the next line waits for progression"
SHORT = "resume it to complete about 4-6 months, then decide on maintenance or observation"
SHORT_WARNING = "No growth since the last line stopped, but that line ran less than a full induction"
FULL_WARNING = "No growth since the last line stopped (a planned break"


def _stopped(agents: list[str], start: str, end: str | None, stopped_for: str = "treatment_break") -> dict[str, Any]:
    stopped = course(agents, start, end, stopped_for=stopped_for, best_response="stable", status="stopped")
    case: dict[str, Any] = _ras_wild_type(stopped) if "panitumumab" in agents else with_courses(stopped)
    case["prior"]["progressed_since_last_line"] = False
    return case


def _plan(kb: KnowledgeBase, agents: list[str], start: str, end: str | None, **more: str) -> Recommendation:
    return rec(_stopped(agents, start, end, **more), kb)


@pytest.mark.parametrize("stopped_for", ["treatment_break", "toxicity"])
def test_six_weeks_of_induction_is_completed_first(kb: KnowledgeBase, stopped_for: str) -> None:
    r = _plan(kb, FOLFOX_BEV, "2026-09-15", "2026-10-27", stopped_for=stopped_for)  # x04: 6 weeks
    assert r.summary.startswith("Palliative intent. No progression since the last line stopped, but")
    assert SHORT in r.summary and WAITS not in r.summary
    assert any(w.startswith(SHORT_WARNING) for w in r.warnings)
    assert not any(w.startswith(FULL_WARNING) for w in r.warnings)  # no "keep the break going"
    waiting = [o for o in r.options if o.kind == "systemic" and o.phase in ("second_line", "later_line")]
    assert waiting and all(o.rationale[0].startswith("At progression (none recorded") for o in waiting)


def test_a_full_induction_still_waits_for_progression(kb: KnowledgeBase) -> None:
    r = _plan(kb, FOLFOX_BEV, "2026-03-01", "2026-09-01")  # 6 months
    assert WAITS in r.summary and SHORT not in r.summary
    assert any(w.startswith(FULL_WARNING) for w in r.warnings)
    assert not any(w.startswith(SHORT_WARNING) for w in r.warnings)


def test_three_months_with_panitumumab_is_a_full_induction(kb: KnowledgeBase) -> None:
    r = _plan(kb, FOLFOX_PANI, "2026-06-01", "2026-09-01")  # PANAMA: 12 weeks
    assert SHORT not in r.summary and not any(w.startswith(SHORT_WARNING) for w in r.warnings)
    short_bev = _plan(kb, FOLFOX_BEV, "2026-06-01", "2026-09-01")  # 3 months with bevacizumab: not yet
    assert SHORT in short_bev.summary


def test_an_unrecorded_length_is_never_a_full_induction(kb: KnowledgeBase) -> None:
    r = _plan(kb, FOLFOX_BEV, "2026-03-01", None)  # stopped, end not recorded
    assert SHORT in r.summary and WAITS not in r.summary
    assert any(w.startswith(SHORT_WARNING) for w in r.warnings)


@pytest.mark.parametrize("progressed", [True, None])
def test_growth_or_no_record_frames_nothing(kb: KnowledgeBase, progressed: bool | None) -> None:
    case = _stopped(FOLFOX_BEV, "2026-09-15", "2026-10-27")
    case["prior"]["progressed_since_last_line"] = progressed
    if progressed is None:
        del case["prior"]["progressed_since_last_line"]
    r = rec(case, kb)
    assert SHORT not in r.summary and not any(w.startswith(SHORT_WARNING) for w in r.warnings)


def test_a_resectable_case_after_a_short_line_does_not_wait_either(kb: KnowledgeBase) -> None:
    case = _stopped(FOLFOX_BEV, "2026-09-15", "2026-10-27")
    case["metastases"] = [{"site": "liver", "count": 2, "largest_mm": 20, "resectability": "resectable"}]
    r = rec(case, kb)
    assert r.intent == "curative"
    assert SHORT not in r.summary and not any(w.startswith(SHORT_WARNING) for w in r.warnings)
