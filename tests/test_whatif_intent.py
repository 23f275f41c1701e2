"""What-if re-decides a probe's intent with the intent rules compiled (`rectoplan.core.plan.compile_first_true`):
it must be the engine's decision (`engine.decide_intent`, the first rule that is TRUE), on random rules and
facts and on every probe of real cases; a wrong intent would misreport 'the treatment intent becomes'."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rectoplan.api import validate_case
from rectoplan.core._whatif_index import whatif_index
from rectoplan.core.conditions import Condition, Const, compile_condition
from rectoplan.core.engine import decide_intent, facts_with_intent
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.plan import compile_first_true
from rectoplan.core.whatif import probe_facts, probes
from rectoplan.kb.loader import default_knowledge
from rectoplan.synthetic import random_cases, registry_cases
from tests.strategies import case_facts_only, conditions, examples, fact_values

FACTS = case_facts_only(default_knowledge().schema)


@settings(max_examples=examples(200))
@given(rules=st.lists(conditions(FACTS), max_size=4), facts=fact_values(FACTS))
def test_the_compiled_first_true_rule_is_the_loops(rules: list[Condition], facts: dict[str, Any]) -> None:
    conds = (*rules, Const(True))
    expected = next(i for i, c in enumerate(conds) if compile_condition(c)(facts) is True)
    assert compile_first_true(conds)(facts) == expected


def test_probes_of_real_cases_get_the_engines_intent(kb: KnowledgeBase) -> None:
    index = whatif_index(kb)
    changed_intent = 0
    for data in [*random_cases(150, 51), *registry_cases(80, 52)]:
        case = validate_case(data, kb)
        base, rule = facts_with_intent(case, kb)
        assert index.intents[index.intent_of({**base, "plan.intent": None})] == rule.intent
        for probe in probes(case, kb):
            facts, _ = probe_facts(probe, base, rule.intent, kb)
            facts["plan.intent"] = None  # intent rules run before the intent is known
            intent = decide_intent(facts, kb).intent
            assert index.intents[index.intent_of(facts)] == intent, (data["id"], probe.condition)
            changed_intent += intent != rule.intent
    assert changed_intent > 20  # probes that change the intent were met
