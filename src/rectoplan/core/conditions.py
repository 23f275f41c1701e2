"""The rule language: one small declarative language for every condition in the knowledge base.

A condition is data (parsed from YAML): a fact test `{fact: NAME, OP: VALUE}`, a combination
`{all: [...]}`, `{any: [...]}`, `{not: C}`, a count `{count: [...], ge: N}`, or `true` / `false`.
Parsing type-checks against the fact schema, so a misspelt fact or value fails at load time with a
suggestion. Evaluation is three-valued (Kleene): `None` means unknown, and unknown never turns into
true by accident (`not unknown` is unknown). The same tree is compiled to SQL, Polars, Spark and z3.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, assert_never

from rectoplan.core.errors import Problem, RuleError
from rectoplan.core.schema import FactType

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


# ---------------------------------------------------------------------------------------------------
# Evaluation


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


# ---------------------------------------------------------------------------------------------------
# Analysis


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
