"""Tenth review (stop 15) and ninth review leftovers: knowledge corrections, each with a trigger and a
non-trigger test."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import course, offered, rec
from tests.test_knowledge_review5 import _ras_wild_type

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFIRI_CET = ["leucovorin", "fluorouracil", "irinotecan", "cetuximab"]
FOLFOX_CET = ["leucovorin", "fluorouracil", "oxaliplatin", "cetuximab"]


# --- ninth review #2 (v03): a cetuximab doublet stopped for side effects while it controlled the cancer ------


def _second_line_stopped(agents: list[str], stopped_for: str) -> dict[str, Any]:
    first = course(FOLFOX_BEV, "2025-06-01", "2026-01-15", stopped_for="progression", best_response="partial")
    second = course(agents, "2026-02-01", "2026-04-15", stopped_for=stopped_for, best_response="partial")
    return _ras_wild_type(first, second)


def test_folfiri_cetuximab_resumed_after_a_stop_for_side_effects(kb: KnowledgeBase) -> None:
    option = offered(rec(_second_line_stopped(FOLFIRI_CET, "toxicity"), kb))["folfiri-cetuximab"]
    assert option.trace["setting"].startswith("folfiri-cetuximab-resumed-after-side-effects")
    assert option.strength == "alternative"
    assert "after a severe rash" in " ".join(option.rationale)


def test_folfox_cetuximab_resumed_after_a_stop_for_side_effects(kb: KnowledgeBase) -> None:
    case = _ras_wild_type(
        course(FOLFOX_CET, "2026-06-01", "2026-09-01", stopped_for="toxicity", best_response="stable")
    )
    option = offered(rec(case, kb))["folfox-cetuximab"]
    assert option.trace["setting"].startswith("folfox-cetuximab-resumed-after-side-effects")


@pytest.mark.parametrize("change", ["progression", "grown_since", "no_response_recorded"])
def test_no_cetuximab_resumption_without_control(kb: KnowledgeBase, change: str) -> None:
    case = _second_line_stopped(FOLFIRI_CET, "progression" if change == "progression" else "toxicity")
    if change == "grown_since":
        case["prior"]["progressed_since_last_line"] = True
    if change == "no_response_recorded":
        del case["prior"]["courses"][-1]["best_response"]
    option = offered(rec(case, kb)).get("folfiri-cetuximab")
    assert option is None or not option.trace["setting"].startswith("folfiri-cetuximab-resumed")
