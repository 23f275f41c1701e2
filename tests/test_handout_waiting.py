"""Tenth review #9: when the plan waits (a running line, or no growth since the last line stopped), the
handout's "most likely to discuss" leads with the options for now, and a later line's phase 1 trial is not
among them. Without a waiting plan the order is the ranking's."""

from __future__ import annotations

from typing import Any

from rectoplan.adapters.handout import handout_view
from rectoplan.core.continuation import waits_for_progression
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import course, rec
from tests.test_knowledge_review5 import _ras_wild_type

FOLFOX_PANI = ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"]
FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFIRI_BEV = ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"]


def _likely(kb: KnowledgeBase, case: dict[str, Any]) -> tuple[list[str], Any]:
    r = rec(case, kb)
    return [o["title"] for o in handout_view(r, kb, case)["likely"]], r


def test_options_for_now_lead_when_no_growth_since_a_toxicity_stop(kb: KnowledgeBase) -> None:
    case = _ras_wild_type(
        course(FOLFOX_PANI, "2026-03-01", "2026-09-01", stopped_for="toxicity", best_response="partial")
    )
    case["prior"]["progressed_since_last_line"] = False
    likely, r = _likely(kb, case)
    assert likely[0] == "Maintenance 5-FU/leucovorin + panitumumab"  # the summary's "Now:", before any trial
    assert "Now: observation or maintenance 5-FU/leucovorin + panitumumab" in r.summary
    assert any(waits_for_progression(o) for o in r.options)
    ranked_first_waiting = next(o.title for o in r.options if waits_for_progression(o))
    assert ranked_first_waiting not in likely  # FOLFIRI + bevacizumab ranks first but waits


def test_a_later_lines_phase_1_trial_is_not_most_likely_while_a_line_runs(kb: KnowledgeBase) -> None:
    first = course(FOLFOX_BEV, "2025-01-01", "2025-10-01", stopped_for="progression", best_response="partial")
    running = course(FOLFIRI_BEV, "2025-11-01")
    likely, r = _likely(kb, _ras_wild_type(first, running))
    assert "Phase 1 trial of a new drug" in [o.title for o in r.options]
    assert "Phase 1 trial of a new drug" not in likely


def test_without_a_waiting_plan_the_handout_follows_the_ranking(kb: KnowledgeBase) -> None:
    first = course(FOLFOX_BEV, "2025-01-01", "2025-10-01", stopped_for="progression", best_response="partial")
    likely, r = _likely(kb, _ras_wild_type(first))
    assert not any(waits_for_progression(o) for o in r.options)
    ranked = [o.title for o in r.options if o.strength in ("preferred", r.options[0].strength)]
    assert likely == ranked[: len(likely)]
