"""The z3 semantics and the Python engine agree: on generated cases, and on the solver's own models.

- Engine differential: for many synthetic cases the case variables are fixed to the case, and the
  solver's intent, status of every option and every decision fact an invariant can read must equal what
  `rectoplan.core.engine.assess` (and `rectoplan.verify.check`) compute.
- Model round trip: cases the solver invents (under random extra constraints) must be valid contract-1
  JSON, and the facts Python derives from that JSON must equal the facts in the solver's model.
- Conditions: random conditions of the rule language evaluated by z3 and by `conditions.evaluate` agree.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

z3 = pytest.importorskip("z3")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rectoplan.api import validate_case  # noqa: E402
from rectoplan.compile.z3_smt import Conditions, Engine, Fact  # noqa: E402
from rectoplan.core.conditions import All, AnyOf, Condition, Count, Not, Test, evaluate  # noqa: E402
from rectoplan.core.engine import assess  # noqa: E402
from rectoplan.core.knowledge import KnowledgeBase  # noqa: E402
from rectoplan.kb.invariants import STATUSES  # noqa: E402
from rectoplan.synthetic import random_cases  # noqa: E402
from rectoplan.verify.casejson import model_case  # noqa: E402
from rectoplan.verify.check import outcome_facts, plan_facts  # noqa: E402
from tests.strategies import cases as hypothesis_cases  # noqa: E402

CASES = 240


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


def test_z3_engine_agrees_with_python_engine(
    kb: KnowledgeBase, engine: Engine, solver: Any, packed: tuple[Packed, Any]
) -> None:
    pack, expr = packed
    intents = kb.schema["plan.intent"].values
    seen: set[str] = set()
    for data in random_cases(CASES // 2, 11) + random_cases(CASES // 2, 12):
        case = validate_case(data, kb)
        assessment = assess(case, kb)
        solver.push()
        for eqs in engine.case.fix(case).values():
            solver.add(*eqs)
        assert solver.check() == z3.sat, data  # the contract model admits every valid case
        got = pack.read(solver.model(), expr)
        solver.pop()
        plan = plan_facts(assessment)
        assert intents[got["intent"]] == plan["plan.intent"], data["id"]
        shown = {c.id for c in kb.global_cautions if got[("plan.warnings", c.id)]}
        assert shown == plan["plan.warnings"], data["id"]
        members: dict[tuple[str, str], set[str]] = {}
        for key, value in got.items():
            if len(key) == 3:
                members.setdefault(key[:2], set())
                if value:
                    members[key[:2]].add(key[2])
        for outcome in assessment.outcomes:
            option = outcome.option
            expected = outcome_facts(outcome, plan)
            seen.add(outcome.status)
            for name, fact in engine.options[option.id].outcome.items():
                if fact.kind == "set":
                    assert members.get((option.id, name), set()) == expected[name], (data["id"], option.id, name)
                elif fact.kind == "bool":
                    assert bool(got[(option.id, name)]) == expected[name], (data["id"], option.id, name)
                else:
                    assert fact.domain[got[(option.id, name)]] == expected[name], (data["id"], option.id, name)
    assert seen == set(STATUSES)  # the sample exercises every status


def test_solver_cases_are_valid_and_derive_the_same_facts(kb: KnowledgeBase, engine: Engine) -> None:
    """Random models -> case JSON -> validated Case -> facts: equal to the model's facts."""
    from rectoplan.core.facts import case_facts

    rng = random.Random(5)
    fields = engine.case.absent()
    names = sorted(fields)
    for i in range(40):
        s = z3.Solver()
        s.add(*engine.case.contract())
        for name in rng.sample(names, 12):  # force a random mix of absent and present fields
            s.add(fields[name] if rng.random() < 0.4 else z3.Not(fields[name]))
        agents = list(engine.case.agents.values())
        s.add(z3.Sum([z3.If(a, 1, 0) for a in agents]) >= rng.randint(0, 4))
        if s.check() != z3.sat:
            continue
        model = s.model()
        data = model_case(engine.case, model, f"model-{i}")
        case = validate_case(data, kb)  # raises if the solver invented an invalid case
        facts = case_facts(case, kb.resistance_class, kb.drug_classes)
        for name, fact in engine.facts.items():
            assert _value(model, fact) == facts[name], (name, data)


FACTS = ("biomarkers.mmr", "ecog", "prior.agents", "biomarkers.kras_g12c", "disease.resectability", "symptoms")


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> Condition:
    leaf = depth >= 2 or draw(st.booleans())
    if leaf:
        fact = draw(st.sampled_from(FACTS))
        if draw(st.integers(0, 5)) == 0:
            return Test(fact, "known", draw(st.booleans()))
        if fact == "ecog":
            return Test(fact, draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])), draw(st.integers(0, 4)))
        if fact == "biomarkers.kras_g12c":
            return Test(fact, "is", draw(st.booleans()))
        if fact in ("prior.agents", "symptoms"):
            pool = ["fluorouracil", "oxaliplatin", "irinotecan"] if fact == "prior.agents" else ["pain", "bleeding"]
            op = draw(st.sampled_from(["contains", "contains_any", "contains_all"]))
            values = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)))
            return Test(fact, op, values[0] if op == "contains" else values)
        domain = {
            "biomarkers.mmr": ["dmmr_msi_h", "pmmr_mss"],
            "disease.resectability": ["resectable", "potentially_resectable", "unresectable"],
        }[fact]
        op = draw(st.sampled_from(["is", "is_not", "in", "not_in"]))
        values = tuple(draw(st.lists(st.sampled_from(domain), min_size=1, max_size=2, unique=True)))
        return Test(fact, op, values[0] if op in ("is", "is_not") else values)
    items = tuple(draw(st.lists(conditions(depth + 1), min_size=1, max_size=3)))
    kind = draw(st.sampled_from(["all", "any", "not", "count"]))
    if kind == "not":
        return Not(items[0])
    if kind == "count":
        return Count(items, draw(st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])), draw(st.integers(0, 3)))
    return All(items) if kind == "all" else AnyOf(items)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(cond=conditions(), index=st.integers(0, 59))
def test_three_valued_conditions_agree(
    kb: KnowledgeBase, engine: Engine, solver: Any, cond: Condition, index: int
) -> None:
    from rectoplan.core.facts import case_facts

    data = random_cases(60, 21)[index]
    case = validate_case(data, kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    t, f = Conditions(engine.facts).tri(cond)
    solver.push()
    for eqs in engine.case.fix(case).values():
        solver.add(*eqs)
    assert solver.check() == z3.sat
    model = solver.model()
    solver.pop()
    is_true = z3.is_true(model.eval(t, model_completion=True))
    is_false = z3.is_true(model.eval(f, model_completion=True))
    expected = evaluate(cond, facts)
    assert not (is_true and is_false)
    assert (True if is_true else False if is_false else None) == expected, cond


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=hypothesis_cases())
def test_statuses_agree_on_hypothesis_cases(
    kb: KnowledgeBase, engine: Engine, solver: Any, packed: tuple[Packed, Any], data: dict[str, Any]
) -> None:
    """Hypothesis cases reach corners the synthetic generator does not (symptoms only on the recurrence,
    absent primary status, empty staging with a recurrence, repeated treatment lines)."""
    case = validate_case(data, kb)
    solver.push()
    for eqs in engine.case.fix(case).values():
        solver.add(*eqs)
    assert solver.check() == z3.sat
    model = solver.model()
    solver.pop()
    intents = kb.schema["plan.intent"].values
    assessment = assess(case, kb)
    assert intents[model.eval(engine.intent, model_completion=True).as_long()] == assessment.intent.intent
    statuses = z3.Sum([engine.options[o.id].status * 5**i for i, o in enumerate(kb.options)])
    packed_value = model.eval(statuses, model_completion=True).as_long()
    for outcome in assessment.outcomes:
        packed_value, status = divmod(packed_value, 5)
        assert STATUSES[status] == outcome.status, outcome.option.id
