"""The engine's own plan (`compile_engine_plan`) and its caches change speed only.

Its candidates replace the gate and caution results an option's outcome does not depend on by fixed
values, so that they repeat across cases as cache keys; here, on random condition trees in every place a
knowledge base puts them, each candidate must give exactly the outcome of the raw results. The caches of
rules found fired and of citations found by identity must not change what callers get.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rectoplan.api import recommend_json
from rectoplan.core import _parts
from rectoplan.core._cache import Bounded, Made, caches_for, forget
from rectoplan.core.conditions import Condition, Const
from rectoplan.core.engine import _outcome
from rectoplan.core.knowledge import Caution, Gate, KnowledgeBase, Option, Setting
from rectoplan.core.plan import compile_engine_plan, compile_plan, expand
from rectoplan.kb.loader import default_knowledge
from rectoplan.synthetic import random_cases
from tests.strategies import case_facts_only, conditions, examples, fact_values

PLAN_FACTS = {**case_facts_only(default_knowledge().schema), "plan.intent": default_knowledge().schema["plan.intent"]}
CASE_CONDITIONS = conditions(case_facts_only(default_knowledge().schema))
PLAN_CONDITIONS = conditions(PLAN_FACTS)
GATES = st.tuples(
    PLAN_CONDITIONS, st.sampled_from(["requires", "excludes"]), st.sampled_from(["hold", "warn", "ignore"])
)
CAUTIONS = st.tuples(PLAN_CONDITIONS, st.booleans())
OPTIONS = st.tuples(
    st.lists(CASE_CONDITIONS, min_size=1, max_size=2).map(tuple),
    st.lists(GATES, max_size=4).map(tuple),
    st.lists(CAUTIONS, max_size=2).map(tuple),
)


def _never(_: Any) -> None:
    return None


def _option(spec: tuple[Any, ...]) -> Option:
    """An option with the given settings, gates and cautions (texts and citations left empty)."""
    settings_, gates, cauts = spec
    return Option(
        "o",
        "",
        "systemic",
        (),
        (),
        "",
        "",
        (),
        tuple(Setting(f"s{i}", c, "any", "preferred", 1, None, "", (), _never) for i, c in enumerate(settings_)),
        tuple(Gate(f"g{i}", e, c, "", "", u, None, (), _never) for i, (c, e, u) in enumerate(gates)),
        tuple(Caution(f"c{i}", c, "", "said" if u else "", "warning", (), _never) for i, (c, u) in enumerate(cauts)),
        (),
        0,
    )


@settings(max_examples=examples(200))
@given(
    intents=st.lists(CASE_CONDITIONS, max_size=2),
    options=st.lists(OPTIONS, min_size=1, max_size=4),
    tests=st.lists(PLAN_CONDITIONS, max_size=2),
    cautions=st.lists(PLAN_CONDITIONS, max_size=2),
    facts=fact_values(PLAN_FACTS),
)
def test_engine_candidates_give_the_outcomes_of_the_raw_results(
    intents: list[Condition],
    options: list[tuple[Any, ...]],
    tests: list[Condition],
    cautions: list[Condition],
    facts: dict[str, Any],
) -> None:
    rules = (*zip(intents, ("curative", "conversion"), strict=False), (Const(True), "palliative"))
    raw_options = tuple((s, tuple(g[0] for g in gs), tuple(c[0] for c in cs)) for s, gs, cs in options)
    raw, _ = compile_plan(tuple(rules), raw_options, tuple(tests), tuple(cautions))
    engine, _, layouts = compile_engine_plan(tuple(rules), tuple(options), tuple(tests), tuple(cautions))
    got_raw = raw(dict(facts, **{"plan.intent": None}))
    got = engine(dict(facts, **{"plan.intent": None}))
    assert (got[0], got[2], got[3]) == (got_raw[0], got_raw[2], got_raw[3])
    assert got_raw[4] == got_raw[5] == []
    # candidates offered (sixth result) and kept out (second), each in knowledge order: merged by option
    expanded = sorted((expand(key, layouts) for key in got[1] + got[5]), key=lambda e: e[0])
    assert [x for _, x, _ in expanded if x >= 0] == [expand(key, layouts)[1] for key in got[5]]
    assert [o for o, _, _ in expanded] == [k[0] for k in got_raw[1]]
    kept_settings = iter(got[4])  # the setting index of each candidate kept out, in order
    for (o, x, results), raw_key in zip(expanded, got_raw[1], strict=True):
        option = _option(options[o])
        split = len(option.gates)
        setting = option.settings[raw_key[1]]
        raw_outcome = _outcome(option, setting, raw_key[2 : 2 + split], raw_key[2 + split :])
        if x < 0:  # kept out: the candidate carries no setting, the plan's fifth result gives it
            assert next(kept_settings) == raw_key[1]
            canonical = _outcome(option, None, results[:split], results[split:])
            assert canonical.status != "offered"
            assert canonical._replace(setting=setting) == raw_outcome
        else:
            assert x == raw_key[1]
            canonical = _outcome(option, setting, results[:split], results[split:])
            assert canonical == raw_outcome
        event(f"status: {canonical.status}")


def test_tiny_caches_of_fired_rules_and_citations_give_the_same_results(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = random_cases(80, 71)
    expected = [recommend_json(json.dumps(c), kb) for c in cases]
    forget(kb)
    tiny = caches_for(kb)
    tiny.outcomes = Made(2)
    tiny.tests_fired, tiny.cautions_fired = Bounded(2), Bounded(2)
    monkeypatch.setattr(_parts, "CITES", Bounded(2))
    monkeypatch.setattr(_parts, "CITES_BY_ID", Bounded(2))
    assert [recommend_json(json.dumps(c), kb) for c in cases] == expected
    forget(kb)
