"""Parsing the rule language: YAML data in, a type-checked `Condition` out.

Split from `rectoplan.core.conditions` (which re-exports `parse`): reading the YAML form and checking it
against the fact schema is one job, done once when the knowledge is loaded, so that a misspelt fact,
operator or value fails there, with the path and a suggestion, and never at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from rectoplan.core._conditions_tree import (
    COMPARE_OPS,
    OPERATORS,
    SET_OPS,
    All,
    AnyOf,
    Condition,
    Const,
    Count,
    Not,
    OptionRef,
    Test,
)
from rectoplan.core.errors import Problem, RuleError
from rectoplan.core.schema import FactType


def _suggest(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not near and word:
        near = [c for c in choices if c.startswith(word) or word in c][:1]
    return f"did you mean {near[0]!r}?" if near else ""


class _Parser:
    def __init__(self, schema: Mapping[str, FactType]) -> None:
        self.schema = schema
        self.problems: list[Problem] = []

    def fail(self, path: str, found: str, expected: str, suggestion: str = "") -> Const:
        self.problems.append(Problem(path, found, expected, suggestion))
        return Const(False)

    def parse(self, data: Any, path: str) -> Condition:
        if isinstance(data, bool):
            return Const(data)
        if not isinstance(data, dict):
            return self.fail(path, repr(data)[:60], "a condition: a mapping or true/false")
        if "fact" in data:
            return self.test(data, path)
        keys = set(data)
        if keys in ({"all"}, {"any"}):
            key = keys.pop()
            items = data[key]
            if not isinstance(items, list) or not items:
                return self.fail(f"{path}.{key}", repr(items)[:60], "a non-empty list of conditions")
            parsed = tuple(self.parse(x, f"{path}.{key}[{i}]") for i, x in enumerate(items))
            return All(parsed) if key == "all" else AnyOf(parsed)
        if keys == {"not"}:
            return Not(self.parse(data["not"], f"{path}.not"))
        if "count" in keys:
            ops = keys - {"count"}
            if len(ops) != 1 or (op := ops.pop()) not in COMPARE_OPS:
                return self.fail(path, f"keys {sorted(keys)}", f"'count' with exactly one of {COMPARE_OPS}")
            items, n = data["count"], data[op]
            if not isinstance(items, list) or not items:
                return self.fail(f"{path}.count", repr(items)[:60], "a non-empty list of conditions")
            if not isinstance(n, int) or isinstance(n, bool):
                return self.fail(f"{path}.{op}", repr(n), "a whole number")
            return Count(tuple(self.parse(x, f"{path}.count[{i}]") for i, x in enumerate(items)), op, n)
        return self.fail(
            path,
            f"keys {sorted(map(str, keys))}",
            "one of: fact (+ operator), all, any, not, count",
            _suggest(str(next(iter(keys), "")), ["fact", "all", "any", "not", "count"]),
        )

    def test(self, data: dict[str, Any], path: str) -> Condition:
        name = data["fact"]
        ops = [k for k in data if k != "fact"]
        if not isinstance(name, str) or name not in self.schema:
            return self.fail(f"{path}.fact", repr(name), "a fact of the schema", _suggest(str(name), list(self.schema)))
        if len(ops) != 1 or ops[0] not in OPERATORS:
            bad = ops[0] if ops else ""
            return self.fail(
                path,
                f"operators {ops}",
                f"exactly one operator of {', '.join(OPERATORS)}",
                _suggest(str(bad), list(OPERATORS)),
            )
        op = ops[0]
        ftype = self.schema[name]
        raw = data[op]
        where = f"{path}.{op}"
        if op == "known":
            if not isinstance(raw, bool):
                return self.fail(where, repr(raw), "true or false")
            return Test(name, op, raw)
        if isinstance(raw, dict) and set(raw) == {"fact"}:
            return self.option_ref(name, op, ftype, raw["fact"], where)
        if ftype.kind == "set":
            return self.set_test(name, op, ftype, raw, where)
        if op in SET_OPS:
            return self.fail(where, f"operator {op!r} on {ftype.kind} fact {name!r}", "a set fact for " + op)
        if op in COMPARE_OPS:
            if ftype.kind != "int":
                return self.fail(where, f"operator {op!r} on {ftype.kind} fact {name!r}", "an int fact")
            return Test(name, op, self.scalar(ftype, raw, where))
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                return self.fail(where, repr(raw)[:60], "a non-empty list of values")
            return Test(name, op, tuple(self.scalar(ftype, v, f"{where}[{i}]") for i, v in enumerate(raw)))
        return Test(name, op, self.scalar(ftype, raw, where))

    def scalar(self, ftype: FactType, raw: Any, where: str) -> Any:
        if ftype.kind == "bool":
            if not isinstance(raw, bool):
                self.fail(where, repr(raw), "true or false")
            return raw
        if ftype.kind == "int":
            if not isinstance(raw, int) or isinstance(raw, bool):
                self.fail(where, repr(raw), "a whole number")
            elif not ftype.low <= raw <= ftype.high:
                self.fail(where, repr(raw), f"a number in {ftype.low}..{ftype.high}")
            return raw
        if raw not in ftype.values:
            self.fail(where, repr(raw), f"one of {', '.join(ftype.values)}", _suggest(str(raw), list(ftype.values)))
        return raw

    def set_test(self, name: str, op: str, ftype: FactType, raw: Any, where: str) -> Condition:
        if op not in SET_OPS:
            return self.fail(where, f"operator {op!r} on set fact {name!r}", f"one of {', '.join(SET_OPS)}")
        if op == "contains":
            return Test(name, op, self.scalar(FactType("enum", ftype.values), raw, where))
        if not isinstance(raw, list) or not raw:
            return self.fail(where, repr(raw)[:60], "a non-empty list of values")
        member = FactType("enum", ftype.values)
        return Test(name, op, tuple(self.scalar(member, v, f"{where}[{i}]") for i, v in enumerate(raw)))

    def option_ref(self, name: str, op: str, ftype: FactType, ref: Any, where: str) -> Condition:
        target = self.schema.get(ref) if isinstance(ref, str) else None
        if target is None or not target.option:
            options = [k for k, v in self.schema.items() if v.option]
            return self.fail(where, repr(ref), "an option set fact (" + ", ".join(options) + ")")
        if ftype.kind != "set" or op not in ("contains_any", "contains_all") or ftype.option:
            return self.fail(where, f"{op} of {ref}", "contains_any or contains_all on a case set fact")
        return Test(name, op, OptionRef(ref))


def parse(data: Any, schema: Mapping[str, FactType], path: str = "when") -> Condition:
    """Parse and type-check one condition; raise `RuleError` with every problem found."""
    parser = _Parser(schema)
    cond = parser.parse(data, path)
    if parser.problems:
        raise RuleError(parser.problems)
    return cond
