"""The z3 semantics and the Python engine agree: on generated cases, and on the solver's own models.

Cases and conditions come from `tests/strategies.py`.

- Engine differential: for generated cases the case variables are fixed to the case, and the
  solver's intent, status of every option and every decision fact an invariant can read must equal what
  `rectoplan.core.engine.assess` (and `rectoplan.verify.check`) compute.
- Model round trip: cases the solver invents (under generated extra constraints) must be valid contract-1
  JSON, and the facts Python derives from that JSON must equal the facts in the solver's model.
- Conditions: random conditions of the rule language evaluated by z3 and by `conditions.evaluate` agree.
"""

from __future__ import annotations

from typing import Any

import pytest

z3 = pytest.importorskip("z3")

from hypothesis import assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rectoplan.api import validate_case  # noqa: E402
from rectoplan.compile.z3_smt import Conditions, Engine, Fact  # noqa: E402
from rectoplan.core.conditions import Condition, evaluate  # noqa: E402
from rectoplan.core.engine import assess  # noqa: E402
from rectoplan.core.knowledge import KnowledgeBase  # noqa: E402
from rectoplan.kb.loader import default_knowledge  # noqa: E402
from rectoplan.verify.casejson import model_case  # noqa: E402
from rectoplan.verify.check import outcome_facts, plan_facts  # noqa: E402
from tests.strategies import case_facts_only, cases, conditions, examples  # noqa: E402

# The facts z3 models: every fact of a case (not the option's, not the plan's).
Z3_FACTS = case_facts_only(default_knowledge().schema)


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


@pytest.fixture(scope="module")
def solver(engine: Engine) -> Any:
    s = z3.Solver()
    s.add(*engine.case.contract())
    return s


def _value(model: Any, fact: Fact) -> Any:
    """A fact of the model as Python: None when unknown, else a value of the fact's kind."""
    if not z3.is_true(model.eval(fact.known, model_completion=True)):
        return None
    if fact.kind == "set":
        return frozenset(k for k, v in fact.value.items() if z3.is_true(model.eval(v, model_completion=True)))
    value = model.eval(fact.value, model_completion=True)
    if fact.kind == "bool":
        return z3.is_true(value)
    number = value.as_long()
    return fact.domain[number] if fact.kind == "enum" else number


class Packed:
    """Many small z3 integers packed into one big one, so that one `model.eval` reads them all."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, int]] = []
        self.terms: list[Any] = []
        self.mult = 1

    def add(self, key: Any, expr: Any, base: int) -> None:
        self.items.append((key, base))
        self.terms.append(expr * self.mult)
        self.mult *= base

    def add_bool(self, key: Any, expr: Any) -> None:
        self.add(key, z3.If(expr, 1, 0), 2)

    def read(self, model: Any, expr: Any) -> dict[Any, int]:
        n = model.eval(expr, model_completion=True).as_long()
        out = {}
        for key, base in self.items:
            n, out[key] = divmod(n, base)
        return out


@pytest.fixture(scope="module")
def packed(kb: KnowledgeBase, engine: Engine) -> tuple[Packed, Any]:
    p = Packed()
    p.add("intent", engine.intent, 3)
    for c in kb.global_cautions:
        p.add_bool(("plan.warnings", c.id), engine.plan["plan.warnings"].value[c.id])
    for option in kb.options:
        terms = engine.options[option.id]
        relevant = {g.id for g in option.gates} | {c.id for c in option.cautions}
        for name, fact in terms.outcome.items():
            if fact.kind == "set":
                for member in sorted(relevant & set(fact.value)):
                    p.add_bool((option.id, name, member), fact.value[member])
            elif fact.kind == "bool":
                p.add_bool((option.id, name), fact.value)
            else:
                p.add((option.id, name), fact.value, len(fact.domain))
    return p, z3.Sum(p.terms)


@settings(max_examples=examples(80))
@given(data=cases())
def test_z3_engine_agrees_with_python_engine(
    kb: KnowledgeBase, engine: Engine, solver: Any, packed: tuple[Packed, Any], data: dict[str, Any]
) -> None:
    """Intent, global warnings and every outcome fact of every option (status, setting, strength, shown
    warnings, gates) as the solver computes them for the case equal what the Python engine computes."""
    pack, expr = packed
    intents = kb.schema["plan.intent"].values
    case = validate_case(data, kb)
    assessment = assess(case, kb)
    got = pack.read(_fixed_model(engine, solver, case), expr)
    plan = plan_facts(assessment)
    assert intents[got["intent"]] == plan["plan.intent"]
    shown = {c.id for c in kb.global_cautions if got[("plan.warnings", c.id)]}
    assert shown == plan["plan.warnings"]
    members: dict[tuple[str, str], set[str]] = {}
    for key, value in got.items():
        if len(key) == 3:
            members.setdefault(key[:2], set())
            if value:
                members[key[:2]].add(key[2])
    for outcome in assessment.outcomes:
        option = outcome.option
        expected = outcome_facts(outcome, plan)
        event(f"status: {outcome.status}")
        for name, fact in engine.options[option.id].outcome.items():
            if fact.kind == "set":
                assert members.get((option.id, name), set()) == expected[name], (option.id, name)
            elif fact.kind == "bool":
                assert bool(got[(option.id, name)]) == expected[name], (option.id, name)
            else:
                assert fact.domain[got[(option.id, name)]] == expected[name], (option.id, name)


def _fixed_model(engine: Engine, solver: Any, case: Any) -> Any:
    """The solver's model with the case variables fixed to the case (the contract admits every valid case)."""
    solver.push()
    try:
        for eqs in engine.case.fix(case).values():
            solver.add(*eqs)
        assert solver.check() == z3.sat
        return solver.model()
    finally:
        solver.pop()


@settings(max_examples=examples(30))
@given(st.data())
def test_solver_cases_are_valid_and_derive_the_same_facts(kb: KnowledgeBase, engine: Engine, data: Any) -> None:
    """Random models -> case JSON -> validated Case -> facts: equal to the model's facts."""
    from rectoplan.core.facts import case_facts

    fields = engine.case.absent()
    chosen = data.draw(st.lists(st.sampled_from(sorted(fields)), min_size=12, max_size=12, unique=True))
    s = z3.Solver()
    s.add(*engine.case.contract())
    for name in chosen:  # force a mix of absent and present fields
        s.add(fields[name] if data.draw(st.integers(0, 4)) < 2 else z3.Not(fields[name]))
    agents = list(engine.case.agents.values())
    s.add(z3.Sum([z3.If(a, 1, 0) for a in agents]) >= data.draw(st.integers(0, 4)))
    assume(s.check() == z3.sat)
    model = s.model()
    case_data = model_case(engine.case, model, "model")
    case = validate_case(case_data, kb)  # raises if the solver invented an invalid case
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    for name, fact in engine.facts.items():
        assert _value(model, fact) == facts[name], (name, case_data)


@settings(max_examples=examples(100))
@given(data=cases(), cond=conditions(Z3_FACTS))
def test_three_valued_conditions_agree(
    kb: KnowledgeBase, engine: Engine, solver: Any, data: dict[str, Any], cond: Condition
) -> None:
    """Random conditions over every fact z3 models, on the facts of a generated case: z3's (true, false)
    pair and `conditions.evaluate` give the same three-valued result."""
    from rectoplan.core.facts import case_facts

    case = validate_case(data, kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    t, f = Conditions(engine.facts).tri(cond)
    model = _fixed_model(engine, solver, case)
    is_true = z3.is_true(model.eval(t, model_completion=True))
    is_false = z3.is_true(model.eval(f, model_completion=True))
    expected = evaluate(cond, facts)
    event(f"result: {expected}")
    assert not (is_true and is_false)
    assert (True if is_true else False if is_false else None) == expected, cond
