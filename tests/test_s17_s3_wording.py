"""Review 14, F11: after a break with no growth since, maintenance is an option for now; the summary names it
"Now: observation or maintenance ...", never "waits for progression ... Then: Maintenance", which read as if
maintenance began at progression. A running line keeps "Then:" (maintenance after the induction), and so
does the short-induction plan ("resume it to complete ..., then decide")."""

from __future__ import annotations

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import course, offered, rec, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
AT_PROGRESSION = "At progression: "


@pytest.mark.parametrize(("stopped_for", "strength"), [("treatment_break", "preferred"), ("toxicity", "alternative")])
def test_after_a_stop_without_growth_maintenance_is_for_now(kb: KnowledgeBase, stopped_for: str, strength: str) -> None:
    case = with_courses(
        course(FOLFOX_BEV, "2025-10-01", "2026-03-31", stopped_for=stopped_for, best_response="partial"),
        **({"neuropathy_grade": 3} if stopped_for == "toxicity" else {}),
    )
    case["prior"]["progressed_since_last_line"] = False
    r = rec(case, kb)
    assert offered(r)["maintenance-capecitabine-bevacizumab"].strength == strength
    now = f"Now: observation or maintenance capecitabine + bevacizumab ({strength})."
    assert now in r.summary and "Then:" not in r.summary
    assert r.summary.index(now) < r.summary.index(AT_PROGRESSION)


def test_a_running_induction_keeps_then(kb: KnowledgeBase) -> None:
    r = rec(with_courses(course(FOLFOX_BEV, "2026-05-01")), kb)
    assert "Then: Maintenance capecitabine + bevacizumab" in r.summary
    assert "Now:" not in r.summary


def test_a_short_induction_is_completed_then(kb: KnowledgeBase) -> None:
    case = with_courses(
        course(FOLFOX_BEV, "2026-08-01", "2026-09-15", stopped_for="treatment_break", best_response="partial")
    )
    case["prior"]["progressed_since_last_line"] = False
    r = rec(case, kb)
    assert "resume it to complete about 4-6 months" in r.summary
    assert "Now: observation" not in r.summary
