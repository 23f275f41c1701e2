"""The rule language: one small declarative language for every condition in the knowledge base.

A condition is data (parsed from YAML): a fact test `{fact: NAME, OP: VALUE}`, a combination
`{all: [...]}`, `{any: [...]}`, `{not: C}`, a count `{count: [...], ge: N}`, or `true` / `false`.
Parsing type-checks against the fact schema, so a misspelt fact or value fails at load time with a
suggestion. Evaluation is three-valued (Kleene): `None` means unknown, and unknown never turns into
true by accident (`not unknown` is unknown). The same tree is compiled to SQL, Polars, Spark and z3.

This module is the language's one public name: import from here. Each job lives in a private module
beside it, so that a change to one (say, a new operator's parsing) is read and reviewed alone:
- `_conditions_tree`: the node types and the operators (a new operator starts here);
- `_conditions_parse`: YAML data to a type-checked tree (`parse`);
- `_conditions_eval`: the three-valued meaning (`evaluate`, the reference, and `compile_condition`);
- `_conditions_bind`: before any case: `bind` to an option's facts, `facts_read`, `literals`;
- `_conditions_text`: printed back (`to_data`, `describe`).
"""

from __future__ import annotations

from rectoplan.core._conditions_bind import bind, facts_read, literals
from rectoplan.core._conditions_eval import Compiled, compile_condition, count_result, evaluate
from rectoplan.core._conditions_parse import parse
from rectoplan.core._conditions_text import describe, to_data
from rectoplan.core._conditions_tree import _CMP as _CMP  # read by core._codegen (the generated comparisons)
from rectoplan.core._conditions_tree import (
    COMPARE_OPS,
    OPERATORS,
    SCALAR_OPS,
    SET_OPS,
    All,
    AnyOf,
    Condition,
    Const,
    Count,
    Not,
    OptionRef,
    Test,
    Tri,
)

__all__ = [
    "COMPARE_OPS",
    "OPERATORS",
    "SCALAR_OPS",
    "SET_OPS",
    "All",
    "AnyOf",
    "Compiled",
    "Condition",
    "Const",
    "Count",
    "Not",
    "OptionRef",
    "Test",
    "Tri",
    "bind",
    "compile_condition",
    "count_result",
    "describe",
    "evaluate",
    "facts_read",
    "literals",
    "parse",
    "to_data",
]
