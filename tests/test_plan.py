"""The compiled plan (fast path) must give exactly the reference interpreter's assessment: on generated cases
through the shipped knowledge base, and on random condition trees compiled into a plan of their own."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from rectoplan.api import validate_case
from rectoplan.core.conditions import Condition, Const, evaluate
from rectoplan.core.engine import assess, assess_reference
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.plan import compile_plan
from rectoplan.kb.loader import default_knowledge
from rectoplan.synthetic import random_cases, registry_cases
from tests.strategies import case_facts_only, cases, conditions, examples, fact_values


@settings(max_examples=examples(300))
@given(cases())
def test_plan_equals_reference_on_generated_cases(kb: KnowledgeBase, data: dict[str, Any]) -> None:
    """Every status is reached by the cases drawn (tests/test_safety_properties.py counts it)."""
    case = validate_case(data, kb)
    fast, slow = assess(case, kb), assess_reference(case, kb)
    assert fast.intent == slow.intent
    assert fast.facts == slow.facts
    assert fast.outcomes == slow.outcomes
    assert fast.tests == slow.tests
    assert fast.cautions == slow.cautions and fast.unknown_cautions == slow.unknown_cautions
    for status in sorted({o.status for o in fast.outcomes}):
        event(f"status: {status}")


PLAN_FACTS = {**case_facts_only(default_knowledge().schema), "plan.intent": default_knowledge().schema["plan.intent"]}
CASE_CONDITIONS = conditions(case_facts_only(default_knowledge().schema))
PLAN_CONDITIONS = conditions(PLAN_FACTS)  # gates, tests and cautions may read the intent decided first
OPTIONS = st.tuples(
    st.lists(CASE_CONDITIONS, max_size=3).map(tuple),
    st.lists(PLAN_CONDITIONS, max_size=3).map(tuple),
    st.lists(PLAN_CONDITIONS, max_size=2).map(tuple),
)


@settings(max_examples=examples(150))
@given(
    intents=st.lists(CASE_CONDITIONS, max_size=3),
    options=st.lists(OPTIONS, min_size=1, max_size=4),
    tests=st.lists(PLAN_CONDITIONS, max_size=3),
    cautions=st.lists(PLAN_CONDITIONS, max_size=3),
    facts=fact_values(PLAN_FACTS),
)
def test_exec_compiled_plan_equals_the_interpreter_on_random_trees(
    intents: list[Condition],
    options: list[tuple[tuple[Condition, ...], ...]],
    tests: list[Condition],
    cautions: list[Condition],
    facts: dict[str, Any],
) -> None:
    """`compile_plan` generates and `exec`s Python source; on random condition trees in every place a
    knowledge base puts them, it must decide exactly what `conditions.evaluate` decides, step by step."""
    names = ("curative", "conversion", "palliative")
    rules = (*zip(intents, names, strict=False), (Const(True), names[len(intents) % 3]))
    plan, _ = compile_plan(tuple(rules), tuple(options), tuple(tests), tuple(cautions))  # type: ignore[arg-type]
    reference = dict(facts, **{"plan.intent": None})
    index = next((i for i, (c, _) in enumerate(rules) if evaluate(c, reference) is True), len(rules) - 1)
    reference["plan.intent"] = rules[index][1]
    candidates = []
    for o, (settings_, gates, cauts) in enumerate(options):
        chosen = next((k for k, c in enumerate(settings_) if evaluate(c, reference) is True), None)
        if chosen is not None:
            candidates.append((o, chosen, *(evaluate(g, reference) for g in (*gates, *cauts))))
    got = plan(dict(facts, **{"plan.intent": None}))
    assert got[0] == index
    assert got[1] == candidates
    assert got[2] == tuple(evaluate(t, reference) for t in tests)
    assert got[3] == tuple(evaluate(c, reference) for c in cautions)
    event(f"candidates: {min(len(candidates), 2)}")


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
