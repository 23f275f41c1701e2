"""The rule language and the engine's selection logic compiled to z3, three-valued, over ALL cases.

What is modelled, and why this way:
- **Case fields, not facts, are the variables** (`rectoplan.compile.z3_case`): every field a case can give,
  with an explicit 'absent' state and the contract's constraints; the named facts are derived from them as
  `rectoplan.core.facts.case_facts` derives them.
- **Kleene logic by two rails.** A condition compiles to a pair (T, F) of z3 Booleans: 'is TRUE' and 'is
  FALSE'; unknown is neither. Fact tests are guarded by the fact's `known` flag, so an unknown fact never
  makes a test true or false, exactly as in `conditions.evaluate`.
- **The engine.** Intent = the first intent rule that is TRUE (else the last); per option, the first
  TRUE setting selects it; then requirements (FALSE -> not indicated), exclusions (TRUE -> excluded),
  unknown gates (hold -> held; warn -> offered with warning), then cautions. The outcome of every option is
  a z3 term, as are the decision facts invariants may read (`outcome.*`, `plan.*`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, assert_never

import z3

from rectoplan.compile.z3_case import (
    FALSE,
    MAX_AGENTS,
    MAX_COUNT,
    MAX_LINES,
    TRUE,
    CaseVars,
    Fact,
    Tri,
    all_of,
    any_of,
    case_facts,
    choose,
    count_of,
)
from rectoplan.core.conditions import All, AnyOf, Condition, Const, Count, Not, OptionRef, Test
from rectoplan.core.knowledge import KnowledgeBase, Option
from rectoplan.core.schema import INTENTS, PHASES, STRENGTHS
from rectoplan.kb.invariants import NONE, STATUSES, caution_ids, gate_ids

__all__ = [  # the case half lives in z3_case; re-exported for the verifier
    "MAX_AGENTS",
    "MAX_COUNT",
    "MAX_LINES",
    "CaseVars",
    "Conditions",
    "Engine",
    "Fact",
    "any_of",
]


class Conditions:
    """Compiles conditions of the rule language to (is TRUE, is FALSE) pairs over an environment of facts."""

    def __init__(self, env: Mapping[str, Fact]) -> None:
        self.env = env
        self.memo: dict[Condition, Tri] = {}

    def tri(self, cond: Condition) -> Tri:
        hit = self.memo.get(cond)
        if hit is None:
            hit = self._tri(cond)
            self.memo[cond] = hit
        return hit

    def _tri(self, cond: Condition) -> Tri:
        match cond:
            case Const():
                return (TRUE, FALSE) if cond.value else (FALSE, TRUE)
            case Not():
                t, f = self.tri(cond.item)
                return f, t
            case All():
                parts = [self.tri(i) for i in cond.items]
                return all_of([t for t, _ in parts]), any_of([f for _, f in parts])
            case AnyOf():
                parts = [self.tri(i) for i in cond.items]
                return any_of([t for t, _ in parts]), all_of([f for _, f in parts])
            case Count():
                parts = [self.tri(i) for i in cond.items]
                true = count_of([t for t, _ in parts])
                unknown = count_of([z3.And(z3.Not(t), z3.Not(f)) for t, f in parts])
                return _count_tri(cond.op, cond.n, true, true + unknown)
            case Test():
                return self._test(cond)
            case _:
                assert_never(cond)

    def _test(self, t: Test) -> Tri:
        fact = self.env.get(t.fact)
        if fact is None:  # a fact not available here (e.g. plan.intent inside an intent rule): unknown
            return (
                z3.BoolVal(t.op == "known" and t.value is False),
                z3.BoolVal(t.op == "known" and t.value is True),
            )
        if t.op == "known":
            yes = fact.known if t.value else z3.Not(fact.known)
            return yes, z3.Not(yes)
        if isinstance(t.value, OptionRef):
            raise ValueError(f"unbound option reference in a test of {t.fact}")
        p = _predicate(t, fact)
        return z3.And(fact.known, p), z3.And(fact.known, z3.Not(p))


def _count_tri(op: str, n: int, low: Any, high: Any) -> Tri:
    """Decided iff every count in [low, high] gives the same answer (as `conditions.count_result`)."""
    if op == "ge":
        return low >= n, high < n
    if op == "gt":
        return low > n, high <= n
    if op == "le":
        return high <= n, low > n
    if op == "lt":
        return high < n, low >= n
    exact = z3.And(low == n, high == n)
    outside = z3.Or(low > n, high < n)
    return (exact, outside) if op == "eq" else (outside, exact)


def _scalar(fact: Fact, value: Any) -> Any:
    if fact.kind == "enum":
        return fact.domain.index(value) if value in fact.domain else None
    return value


def _equals(fact: Fact, value: Any) -> Any:
    lit = _scalar(fact, value)
    if lit is None:
        return FALSE
    if fact.kind == "bool":
        return fact.value if lit else z3.Not(fact.value)
    return fact.value == lit


def _predicate(t: Test, fact: Fact) -> Any:
    op, value = t.op, t.value
    if fact.kind == "set":
        members: dict[str, Any] = fact.value
        if op == "contains":
            return members.get(value, FALSE)
        items = [members.get(x, FALSE) for x in value]
        return any_of(items) if op == "contains_any" else all_of(items)
    if op == "is":
        return _equals(fact, value)
    if op == "is_not":
        return z3.Not(_equals(fact, value))
    if op in ("in", "not_in"):
        inside = any_of([_equals(fact, x) for x in value])
        return inside if op == "in" else z3.Not(inside)
    x = fact.value
    return {
        "eq": x == value,
        "ne": x != value,
        "lt": x < value,
        "le": x <= value,
        "gt": x > value,
        "ge": x >= value,
    }[op]


@dataclass
class OptionTerms:
    """One option's decision as z3 terms."""

    option: Option
    status: Any  # Int: index into STATUSES
    chosen: list[Any]  # per setting: this setting selected the option
    gates: list[Tri]
    cautions: list[Tri]
    outcome: dict[str, Fact] = field(default_factory=dict)

    @property
    def offered(self) -> Any:
        return self.status == STATUSES.index("offered")


class Engine:
    """The whole engine for one knowledge base, symbolically: `facts`, intent, every option's outcome."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.case = CaseVars(kb)
        self.facts = case_facts(self.case)
        intents = kb.schema["plan.intent"].values
        before = Conditions(self.facts)  # plan.intent is not yet known while intent rules run
        chosen = [(before.tri(r.when)[0], z3.IntVal(intents.index(r.intent))) for r in kb.intents]
        self.intent = choose(chosen, z3.IntVal(intents.index(kb.intents[-1].intent)))
        self.env = {**self.facts, "plan.intent": Fact(TRUE, "enum", self.intent, intents)}
        self.conditions = Conditions(self.env)
        self.options = {o.id: self._option(o) for o in kb.options}
        shown = {}
        for c in kb.global_cautions:
            t, f = self.conditions.tri(c.when)
            shown[c.id] = z3.Or(
                z3.And(t, z3.BoolVal(bool(c.text))), z3.And(z3.Not(t), z3.Not(f), z3.BoolVal(bool(c.unknown)))
            )
        self.plan = {**self.env, "plan.warnings": Fact(TRUE, "set", shown)}

    def _option(self, option: Option) -> OptionTerms:
        tri = self.conditions.tri
        settings = [tri(s.when)[0] for s in option.settings]
        chosen = [z3.And(t, z3.Not(any_of(settings[:i]))) for i, t in enumerate(settings)]
        gates = [tri(g.when) for g in option.gates]
        failed, excluded, held, warned = [], [], [], []
        for g, (t, f) in zip(option.gates, gates, strict=True):
            unknown = z3.And(z3.Not(t), z3.Not(f))
            failed.append(f if g.effect == "requires" else FALSE)
            excluded.append(t if g.effect == "excludes" else FALSE)
            held.append(unknown if g.on_unknown == "hold" else FALSE)
            warned.append(unknown if g.on_unknown == "warn" else FALSE)
        code = STATUSES.index
        status = z3.If(
            z3.Not(any_of(settings)),
            code("not_applicable"),
            z3.If(
                any_of(failed),
                code("not_indicated"),
                z3.If(any_of(excluded), code("excluded"), z3.If(any_of(held), code("held"), code("offered"))),
            ),
        )
        terms = OptionTerms(option, status, chosen, gates, [tri(c.when) for c in option.cautions])
        terms.outcome = self._outcome(terms, excluded, held, warned)
        return terms

    def _outcome(self, o: OptionTerms, excluded: list[Any], held: list[Any], warned: list[Any]) -> dict[str, Fact]:
        option, offered = o.option, o.offered

        def pick(domain: tuple[str, ...], value: Any) -> Any:
            return choose(
                [(c, value(s)) for c, s in zip(o.chosen, option.settings, strict=True)],
                z3.IntVal(domain.index(NONE)),
            )

        phase_d, strength_d, intent_d = (*PHASES, NONE), (*STRENGTHS, NONE), (*INTENTS, NONE)
        warnings: dict[str, list[Any]] = {}
        notes: dict[str, list[Any]] = {}
        for g, w in zip(option.gates, warned, strict=True):
            if g.unknown:
                warnings.setdefault(g.id, []).append(w)
        for c, (t, f) in zip(option.cautions, o.cautions, strict=True):
            if c.text:
                (warnings if c.severity == "warning" else notes).setdefault(c.id, []).append(t)
            if c.unknown:
                warnings.setdefault(c.id, []).append(z3.And(z3.Not(t), z3.Not(f)))
        cited_offered = z3.And(
            z3.BoolVal(bool(option.cite)),
            any_of([c for c, s in zip(o.chosen, option.settings, strict=True) if s.cite]),
        )
        cited_excluded = all_of(
            [z3.Implies(e, z3.BoolVal(bool(g.cite))) for g, e in zip(option.gates, excluded, strict=True)]
        )
        cited_held = all_of([z3.Implies(h, z3.BoolVal(bool(g.cite))) for g, h in zip(option.gates, held, strict=True)])
        code = STATUSES.index
        cited = z3.If(
            offered,
            cited_offered,
            z3.If(
                o.status == code("excluded"),
                cited_excluded,
                z3.If(o.status == code("held"), cited_held, TRUE),
            ),
        )
        return {
            "outcome.status": Fact(TRUE, "enum", o.status, STATUSES),
            "outcome.phase": Fact(TRUE, "enum", pick(phase_d, lambda s: phase_d.index(s.phase)), phase_d),
            "outcome.strength": Fact(
                TRUE, "enum", pick(strength_d, lambda s: strength_d.index(s.strength)), strength_d
            ),
            "outcome.intent": Fact(
                TRUE,
                "enum",
                pick(intent_d, lambda s: z3.IntVal(intent_d.index(s.intent)) if s.intent else self.intent),
                intent_d,
            ),
            "outcome.warnings": Fact(
                TRUE,
                "set",
                {i: z3.And(offered, any_of(warnings.get(i, []))) for i in (*gate_ids(self.kb), *caution_ids(self.kb))},
            ),
            "outcome.notes": Fact(
                TRUE, "set", {i: z3.And(offered, any_of(notes.get(i, []))) for i in caution_ids(self.kb)}
            ),
            "outcome.cited": Fact(TRUE, "bool", cited),
        }

    def env_for(self, option_id: str | None) -> dict[str, Fact]:
        """Facts an invariant reads: the plan's, plus the outcome of one option."""
        if option_id is None:
            return self.plan
        return {**self.plan, **self.options[option_id].outcome}
