"""What is known of a condition before any case: the facts it reads, the values it names, and its
partial evaluation with the option's own facts.

Split from `rectoplan.core.conditions` (which re-exports these names): the loader binds every gate and
row to its option once (`bind`), and what-if, test requests and the linter read what a condition reads
(`facts_read`, `literals`); none of this runs per case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from rectoplan.core._conditions_eval import _test
from rectoplan.core._conditions_tree import _CMP, All, AnyOf, Condition, Const, Count, Not, OptionRef, Test


def facts_read(cond: Condition) -> frozenset[str]:
    """Every fact a condition reads: drives 'what would change', test requests and the linter."""
    match cond:
        case Test():
            return frozenset({cond.fact})
        case Const():
            return frozenset()
        case Not():
            return facts_read(cond.item)
        case All() | AnyOf() | Count():
            return frozenset().union(*(facts_read(i) for i in cond.items))
        case _:
            assert_never(cond)


def literals(cond: Condition) -> list[tuple[str, Any]]:
    """(fact, value) pairs named in a condition, for the linter's vocabulary checks."""
    match cond:
        case Test():
            vals = cond.value if isinstance(cond.value, tuple) else (cond.value,)
            return [(cond.fact, v) for v in vals]
        case Const():
            return []
        case Not():
            return literals(cond.item)
        case All() | AnyOf() | Count():
            return [pair for item in cond.items for pair in literals(item)]
        case _:
            assert_never(cond)


def bind(cond: Condition, known: Mapping[str, Any]) -> Condition:
    """Partially evaluate with the facts that are fixed (the option's own facts).

    Tests on known facts fold to constants, option references become literals, and constant branches of
    all/any/not/count are simplified. What remains reads case facts only, which keeps the run-time
    evaluators (Python, SQL, z3) free of option logic.
    """
    match cond:
        case Const():
            return cond
        case Test():
            return _bind_test(cond, known)
        case Not():
            inner = bind(cond.item, known)
            return Const(not inner.value) if isinstance(inner, Const) else Not(inner)
        case Count():
            items = tuple(bind(i, known) for i in cond.items)
            fixed = sum(1 for i in items if isinstance(i, Const) and i.value)
            rest = tuple(i for i in items if not isinstance(i, Const))
            if not rest:
                return Const(_CMP[cond.op](fixed, cond.n))
            return Count(rest, cond.op, cond.n - fixed)
        case All() | AnyOf():
            return _bind_junction(cond, known)
        case _:
            assert_never(cond)


def _bind_test(cond: Test, known: Mapping[str, Any]) -> Condition:
    value = cond.value
    if isinstance(value, OptionRef):
        if value.fact not in known:
            return cond
        value = tuple(sorted(known[value.fact]))
        if not value:  # an empty set: contains_all is trivially true, contains_any false
            return Const(cond.op == "contains_all")
        cond = Test(cond.fact, cond.op, value)
    if cond.fact in known:
        result = _test(cond, known)
        return Const(bool(result))
    return cond


def _bind_junction(cond: All | AnyOf, known: Mapping[str, Any]) -> Condition:
    items = tuple(bind(i, known) for i in cond.items)
    is_all = isinstance(cond, All)
    if any(isinstance(i, Const) and i.value is not is_all for i in items):
        return Const(not is_all)
    rest = tuple(i for i in items if not isinstance(i, Const))
    if not rest:
        return Const(is_all)
    if len(rest) == 1:
        return rest[0]
    return All(rest) if is_all else AnyOf(rest)
