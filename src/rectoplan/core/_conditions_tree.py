"""The rule language's tree: the node types of a condition and the operators a fact test may use.

Split from `rectoplan.core.conditions` (which re-exports every name here): the tree is what the parser
builds, the evaluators walk and the compilers print (Python, SQL, Polars, Spark, z3), so it is the one
module all of them share and it depends on nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Tri = bool | None


@dataclass(frozen=True, slots=True)
class Test:
    """`fact OP value`. `value` is a literal (a tuple for list operators), or an `OptionRef` before
    the knowledge base binds it to the option being evaluated."""

    fact: str
    op: str
    value: Any
    __test__ = False  # not a pytest test class


@dataclass(frozen=True, slots=True)
class OptionRef:
    """A reference to a fact of the option under evaluation, resolved when the knowledge is loaded."""

    fact: str


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


@dataclass(frozen=True, slots=True)
class Count:
    items: tuple[Condition, ...]
    op: str
    n: int


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


Condition = Test | All | AnyOf | Not | Count | Const

COMPARE_OPS = ("eq", "ne", "lt", "le", "gt", "ge")
SCALAR_OPS = ("is", "is_not", "in", "not_in")
SET_OPS = ("contains", "contains_any", "contains_all")
OPERATORS = (*SCALAR_OPS, *COMPARE_OPS, *SET_OPS, "known")
_CMP: dict[str, Callable[[int, int], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
