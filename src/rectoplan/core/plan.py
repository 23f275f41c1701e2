"""The knowledge base compiled to one Python function: the engine's fast path.

Interpreting ~70 options x several closures per case costs far more than the logic itself, so the
loader compiles every setting, gate and rule condition into straight-line Python (Kleene logic spelled
out with walrus temporaries, shared conditions evaluated once per case). The closure interpreter in
`conditions.py` stays the reference: a test checks that both agree on thousands of cases.
Generating and `exec`-ing source is pure computation: no I/O, no state beyond the returned function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import count
from typing import Any, assert_never

from rectoplan.core.conditions import _CMP, All, AnyOf, Condition, Const, Count, Not, Test, count_result


def _count_of(op: str, n: int, results: tuple[bool | None, ...]) -> bool | None:
    return count_result(op, n, results.count(True), results.count(None))


PlanResult = tuple[int, list[tuple[Any, ...]], tuple[Any, ...], tuple[Any, ...]]


class _Gen:
    """Builds expression source for conditions; literals become named constants of the module."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {"_count_of": _count_of}
        self.names = count()
        self.const_names: dict[Any, str] = {}
        self.tests: dict[Test, str] = {}
        self.pending: list[str] = []

    def const(self, value: Any) -> str:
        key = (type(value), value)
        if key not in self.const_names:
            name = f"_k{len(self.const_names)}"
            self.const_names[key] = name
            self.consts[name] = value
        return self.const_names[key]

    def flush(self, lines: list[str]) -> None:
        """Emit the definitions of fact tests first used by the expressions generated since the last flush."""
        lines += self.pending
        self.pending = []

    def tmp(self) -> str:
        return f"_t{next(self.names)}"

    def fact_test(self, cond: Test) -> str:
        """The local variable holding a fact test's three-valued result (defined once, before first use)."""
        if cond not in self.tests:
            name = f"_f{len(self.tests)}"
            self.tests[cond] = name
            self.pending.append(f"    {name} = {self.test(cond)}")
        return self.tests[cond]

    def is_true(self, cond: Condition) -> str:
        """A two-valued expression: the condition is definitely TRUE (Kleene). Plain short-circuit logic."""
        match cond:
            case Const():
                return "True" if cond.value else "False"
            case Test():
                return f"{self.fact_test(cond)} is True"
            case Not():
                return self.is_false(cond.item)
            case All():
                return "(" + " and ".join(self.is_true(i) for i in cond.items) + ")"
            case AnyOf():
                return "(" + " or ".join(self.is_true(i) for i in cond.items) + ")"
            case Count():
                return f"{self.expr(cond)} is True"
            case _:
                assert_never(cond)

    def is_false(self, cond: Condition) -> str:
        """A two-valued expression: the condition is definitely FALSE (Kleene)."""
        match cond:
            case Const():
                return "False" if cond.value else "True"
            case Test():
                return f"{self.fact_test(cond)} is False"
            case Not():
                return self.is_true(cond.item)
            case All():
                return "(" + " or ".join(self.is_false(i) for i in cond.items) + ")"
            case AnyOf():
                return "(" + " and ".join(self.is_false(i) for i in cond.items) + ")"
            case Count():
                return f"{self.expr(cond)} is False"
            case _:
                assert_never(cond)

    def expr(self, cond: Condition) -> str:
        """A three-valued expression (True, False or None for unknown)."""
        match cond:
            case Const():
                return "True" if cond.value else "False"
            case Test():
                return self.fact_test(cond)
            case Count():
                items = ", ".join(self.expr(i) for i in cond.items)
                return f"_count_of({cond.op!r}, {cond.n}, ({items},))"
            case Not() | All() | AnyOf():
                return f"(True if {self.is_true(cond)} else (False if {self.is_false(cond)} else None))"
            case _:
                assert_never(cond)

    def test(self, t: Test) -> str:
        fact = f"f[{t.fact!r}]"
        if t.op == "known":
            return f"({fact} is {'not ' if t.value else ''}None)"
        v, body = self.body(t)
        return f"(None if ({v} := {fact}) is None else {body})"

    def body(self, t: Test) -> tuple[str, str]:
        """(temporary, comparison of the temporary) for a test on a known value."""
        op, value = t.op, t.value
        v = self.tmp()
        if op in ("in", "not_in", "contains_any", "contains_all"):
            lit = self.const(frozenset(value))
        else:
            lit = self.const(value)
        body = {
            "is": f"{v} == {lit}",
            "is_not": f"{v} != {lit}",
            "in": f"{v} in {lit}",
            "not_in": f"{v} not in {lit}",
            "contains": f"{lit} in {v}",
            "contains_any": f"not {v}.isdisjoint({lit})",
            "contains_all": f"{v}.issuperset({lit})",
        }.get(op)
        if body is None:
            assert op in _CMP
            symbol = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
            body = f"{v} {symbol} {lit}"
        return v, body


class _Inline(_Gen):
    """Fact tests written where they are used, so that `and` / `or` skip what a decision does not need.

    For what-if's deciders, which each decide one option: the plan evaluates every test once up front
    instead, since tests are shared by many options there."""

    def fact_test(self, cond: Test) -> str:
        return self.test(cond)

    def is_true(self, cond: Condition) -> str:
        return self._definitely(cond, True) if isinstance(cond, Test) else super().is_true(cond)

    def is_false(self, cond: Condition) -> str:
        return self._definitely(cond, False) if isinstance(cond, Test) else super().is_false(cond)

    def _definitely(self, t: Test, want: bool) -> str:
        fact = f"f[{t.fact!r}]"
        if t.op == "known":
            return f"({fact} is {'not ' if bool(t.value) is want else ''}None)"
        v, body = self.body(t)
        return f"(({v} := {fact}) is not None and {'' if want else 'not '}({body}))"


def compile_plan(
    intents: tuple[tuple[Condition, str], ...],
    options: tuple[tuple[tuple[Condition, ...], tuple[Condition, ...], tuple[Condition, ...]], ...],
    tests: tuple[Condition, ...],
    cautions: tuple[Condition, ...],
) -> tuple[Callable[[Mapping[str, Any]], PlanResult], str]:
    """Compile a knowledge base's conditions into `plan(facts)`.

    `options` holds, per option, (setting conditions, gate conditions, caution conditions). The plan
    returns (intent index, candidates, test results, global caution results). A candidate is a flat tuple
    (option index, setting index, *gate results, *caution results) for each option whose setting applies;
    it doubles as the cache key of the option's outcome (core/_cache.py). The plan sets `plan.intent` in `facts`.
    """
    gen = _Gen()
    lines = ["def plan(f):"]
    shared: dict[Condition, str] = {}

    def shared_name(cond: Condition) -> str:
        if cond not in shared:
            shared[cond] = f"_s{len(shared)}"
        return shared[cond]

    lines.append("    _i = None")
    for i, (cond, _) in enumerate(intents):
        code = gen.is_true(cond)
        gen.flush(lines)
        lines.append(f"    if _i is None and {code}: _i = {i}")
    lines.append(f"    if _i is None: _i = {len(intents) - 1}")
    lines.append("    f['plan.intent'] = _INTENTS[_i]")
    gate_conditions = dict.fromkeys(g for _, gates, cauts in options for g in (*gates, *cauts))
    for cond in gate_conditions:  # shared by several options: evaluated once, before any option
        code = gen.expr(cond)
        gen.flush(lines)
        lines.append(f"    {shared_name(cond)} = {code}")
    lines.append("    _c = []")
    lines.append("    _a = _c.append")
    for o, (settings, gates, cauts) in enumerate(options):
        chain = []
        for i, setting in enumerate(settings):
            keyword = "if" if i == 0 else "elif"
            chain.append(f"    {keyword} {gen.is_true(setting)}: _x = {i}")
        gen.flush(lines)
        if not settings:
            continue
        lines += chain
        lines.append("    else: _x = None")
        results = "".join(f", {shared_name(g)}" for g in (*gates, *cauts))
        lines.append(f"    if _x is not None: _a(({o}, _x{results}))")
    test_tuple = ", ".join(gen.expr(t) for t in tests) + ("," if len(tests) == 1 else "")
    caution_tuple = ", ".join(gen.expr(c) for c in cautions) + ("," if len(cautions) == 1 else "")
    gen.flush(lines)
    lines.append(f"    return _i, _c, ({test_tuple}), ({caution_tuple})")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(gen.consts)
    namespace["_INTENTS"] = tuple(name for _, name in intents)
    exec(compile(source, "<rectoplan knowledge plan>", "exec"), namespace)
    return namespace["plan"], source


GateSpec = tuple[Condition, bool, bool]  # (condition, effect is "requires", on_unknown is "hold")


def compile_deciders(
    options: tuple[tuple[tuple[Condition, ...], tuple[GateSpec, ...]], ...],
) -> tuple[Callable[[Mapping[str, Any]], int], ...]:
    """Per option, `decide(facts)`: the index of the setting under which it is offered, or -1.

    What-if asks only this of each option a probe touches (offered or not, and under which setting, for
    the ranking), so the deciders skip cautions and the trace. An option is offered when a setting is
    TRUE and no gate blocks it: a requirement must not be FALSE, an exclusion must not be TRUE, and a
    gate that holds on unknown must be known (the engine's `_outcome`, which a test compares).
    """
    gen = _Inline()
    lines: list[str] = []
    for o, (settings, gates) in enumerate(options):
        lines.append(f"def decide{o}(f):")
        chain = [f"    {'if' if i == 0 else 'elif'} {gen.is_true(s)}: _x = {i}" for i, s in enumerate(settings)]
        lines += chain or ["    if False: _x = 0"]
        lines.append("    else: return -1")
        ok = [_gate_ok(gen, *gate) for gate in gates]
        lines.append(f"    return _x if {' and '.join(ok) or 'True'} else -1")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(gen.consts)
    exec(compile(source, "<rectoplan what-if deciders>", "exec"), namespace)
    return tuple(namespace[f"decide{o}"] for o in range(len(options)))


def _gate_ok(gen: _Gen, cond: Condition, requires: bool, hold: bool) -> str:
    """A two-valued expression: this gate lets the option be offered."""
    if requires:
        return gen.is_true(cond) if hold else f"not {gen.is_false(cond)}"
    return gen.is_false(cond) if hold else f"not {gen.is_true(cond)}"
