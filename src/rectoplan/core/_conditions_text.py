"""A condition printed back: its YAML/JSON data form and a compact reading for people.

Split from `rectoplan.core.conditions` (which re-exports these names): traces, counterexamples, 'why
not' answers and the documentation show conditions, and printing them is a job of its own.
"""

from __future__ import annotations

from typing import Any, Final, assert_never

from rectoplan.core._conditions_tree import All, AnyOf, Condition, Const, Count, Not, OptionRef, Test


def to_data(cond: Condition) -> Any:
    """Back to the YAML/JSON form (for traces, counterexamples and documentation)."""
    match cond:
        case Const():
            return cond.value
        case Test():
            value = cond.value
            if isinstance(value, OptionRef):
                value = {"fact": value.fact}
            elif isinstance(value, tuple):
                value = list(value)
            return {"fact": cond.fact, cond.op: value}
        case Not():
            return {"not": to_data(cond.item)}
        case Count():
            return {"count": [to_data(i) for i in cond.items], cond.op: cond.n}
        case All():
            return {"all": [to_data(i) for i in cond.items]}
        case AnyOf():
            return {"any": [to_data(i) for i in cond.items]}
        case _:
            assert_never(cond)


_WORDS: Final = {
    "is": "=",
    "is_not": "≠",
    "in": "in",
    "not_in": "not in",
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "contains": "includes",
    "contains_any": "includes any of",
    "contains_all": "includes all of",
}


def describe(cond: Condition) -> str:
    """A compact human reading of a condition, used in rationales and 'why not' answers."""
    match cond:
        case Const():
            return "always" if cond.value else "never"
        case Test():
            value = cond.value
            if cond.op == "known":
                return f"{cond.fact} is {'known' if value else 'unknown'}"
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value).lower()
            return f"{cond.fact} {_WORDS[cond.op]} {shown}"
        case Not():
            return f"not ({describe(cond.item)})"
        case Count():
            return f"at least/most ({cond.op} {cond.n}) of [" + "; ".join(describe(i) for i in cond.items) + "]"
        case All():
            return "(" + " and ".join(describe(i) for i in cond.items) + ")"
        case AnyOf():
            return "(" + " or ".join(describe(i) for i in cond.items) + ")"
        case _:
            assert_never(cond)
