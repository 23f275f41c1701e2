"""The rule language's meaning: three-valued (Kleene) evaluation of a condition over a case's facts.

Split from `rectoplan.core.conditions` (which re-exports these names): `evaluate` is the reference
interpreter every other evaluator is tested against (the closures of `compile_condition` here, the
generated Python of `core._codegen`, SQL, Polars, Spark and z3), so the semantics live in one place:
`None` is unknown, and unknown never turns into true by accident (`not unknown` is unknown).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, assert_never

from rectoplan.core._conditions_tree import _CMP, All, AnyOf, Condition, Const, Count, Not, OptionRef, Test, Tri


def _test(t: Test, facts: Mapping[str, Any]) -> Tri:
    v = facts.get(t.fact)
    op = t.op
    if op == "known":
        return (v is not None) is t.value
    if v is None:
        return None
    if op == "is":
        return bool(v == t.value)
    if op == "is_not":
        return bool(v != t.value)
    if op == "in":
        return v in t.value
    if op == "not_in":
        return v not in t.value
    if op == "contains":
        return t.value in v
    if op == "contains_any":
        return not v.isdisjoint(t.value)
    if op == "contains_all":
        return bool(v.issuperset(t.value))
    return _CMP[op](v, t.value)


def evaluate(cond: Condition, facts: Mapping[str, Any]) -> Tri:
    """Reference interpreter, three-valued. `compile_condition` must agree with it."""
    match cond:
        case Test():
            return _test(cond, facts)
        case Const():
            return cond.value
        case Not():
            r = evaluate(cond.item, facts)
            return None if r is None else not r
        case All():
            unknown = False
            for item in cond.items:
                r = evaluate(item, facts)
                if r is False:
                    return False
                unknown |= r is None
            return None if unknown else True
        case AnyOf():
            unknown = False
            for item in cond.items:
                r = evaluate(item, facts)
                if r is True:
                    return True
                unknown |= r is None
            return None if unknown else False
        case Count():
            results = [evaluate(item, facts) for item in cond.items]
            return count_result(cond.op, cond.n, results.count(True), results.count(None))
        case _:
            assert_never(cond)


def count_result(op: str, n: int, true: int, unknown: int) -> Tri:
    """A count is decided only if every completion of the unknowns gives the same answer."""
    cmp = _CMP[op]
    outcomes = {cmp(k, n) for k in range(true, true + unknown + 1)}
    return outcomes.pop() if len(outcomes) == 1 else None


Compiled = Callable[[Mapping[str, Any]], Tri]


def compile_condition(cond: Condition) -> Compiled:
    """Turn a condition into a closure: same semantics as `evaluate`, several times faster."""
    match cond:
        case Const():
            value = cond.value
            return lambda f: value
        case Test():
            return _compile_test(cond)
        case Not():
            return _compile_not(compile_condition(cond.item))
        case All():
            return _compile_all(tuple(compile_condition(i) for i in cond.items))
        case AnyOf():
            return _compile_any(tuple(compile_condition(i) for i in cond.items))
        case Count():
            return _compile_count(tuple(compile_condition(i) for i in cond.items), cond.op, cond.n)
        case _:
            assert_never(cond)


def _compile_not(inner: Compiled) -> Compiled:
    def negate(f: Mapping[str, Any]) -> Tri:
        r = inner(f)
        return None if r is None else not r

    return negate


def _compile_all(parts: tuple[Compiled, ...]) -> Compiled:
    def all_of(f: Mapping[str, Any]) -> Tri:
        unknown = False
        for p in parts:
            r = p(f)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return all_of


def _compile_any(parts: tuple[Compiled, ...]) -> Compiled:
    def any_of(f: Mapping[str, Any]) -> Tri:
        unknown = False
        for p in parts:
            r = p(f)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return any_of


def _compile_count(parts: tuple[Compiled, ...], op: str, n: int) -> Compiled:
    def count(f: Mapping[str, Any]) -> Tri:
        results = [p(f) for p in parts]
        return count_result(op, n, results.count(True), results.count(None))

    return count


def _unbound(f: Mapping[str, Any]) -> Tri:
    raise ValueError("condition still refers to an option fact: bind it to an option first")


def _compile_test(t: Test) -> Compiled:
    name, op, value = t.fact, t.op, t.value
    if isinstance(value, OptionRef):
        return _unbound
    if op == "known":
        want = bool(value)
        return lambda f: (f.get(name) is not None) is want
    if op in ("in", "not_in", "contains_any", "contains_all"):
        value = frozenset(value)
    if op == "is":
        return lambda f: None if (v := f.get(name)) is None else v == value
    if op == "is_not":
        return lambda f: None if (v := f.get(name)) is None else v != value
    if op == "in":
        return lambda f: None if (v := f.get(name)) is None else v in value
    if op == "not_in":
        return lambda f: None if (v := f.get(name)) is None else v not in value
    if op == "contains":
        return lambda f: None if (v := f.get(name)) is None else value in v
    if op == "contains_any":
        return lambda f: None if (v := f.get(name)) is None else not v.isdisjoint(value)
    if op == "contains_all":
        return lambda f: None if (v := f.get(name)) is None else v.issuperset(value)
    cmp = _CMP[op]
    return lambda f: None if (v := f.get(name)) is None else cmp(v, value)
