"""The compiled plan (fast path) must give exactly the reference interpreter's assessment."""

from __future__ import annotations

from rectoplan.api import validate_case
from rectoplan.core.engine import assess, assess_reference
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases, registry_cases


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


def test_registry_shaped_cases_are_valid_and_repeat_outcomes(kb: KnowledgeBase) -> None:
    """The benchmark's registry-shaped cases pass the edge validator and, unlike the coverage cases,
    share outcomes (what the cohort benchmark's second shape is for), while still reaching every status."""
    outcomes = []
    statuses: set[str] = set()
    for data in registry_cases(2000, seed=3):
        a = assess(validate_case(data, kb), kb)
        outcomes.append(tuple((o.option.id, o.status) for o in a.outcomes))
        statuses |= {o.status for o in a.outcomes}
    coverage = {
        tuple((o.option.id, o.status) for o in assess(validate_case(d, kb), kb).outcomes)
        for d in random_cases(2000, seed=3)
    }
    assert len(set(outcomes)) < len(coverage)
    assert statuses == {"offered", "excluded", "held", "not_indicated", "not_applicable"}
