"""The compiled plan (fast path) must give exactly the reference interpreter's assessment."""

from __future__ import annotations

from rectoplan.api import validate_case
from rectoplan.core.engine import assess, assess_reference
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases


def test_plan_equals_reference_on_generated_cases(kb: KnowledgeBase) -> None:
    seen_status: set[str] = set()
    for data in random_cases(3000, seed=7):
        case = validate_case(data, kb)
        fast, slow = assess(case, kb), assess_reference(case, kb)
        assert fast.intent == slow.intent
        assert fast.facts == slow.facts
        assert fast.outcomes == slow.outcomes, data["id"]
        assert fast.tests == slow.tests
        assert fast.cautions == slow.cautions and fast.unknown_cautions == slow.unknown_cautions
        seen_status |= {o.status for o in fast.outcomes}
    # the comparison covered every kind of outcome, so it could have caught a difference in each
    assert seen_status == {"offered", "excluded", "held", "not_indicated", "not_applicable"}
