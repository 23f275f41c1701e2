"""The rule language (`rectoplan.core.conditions`) compiled to column expressions (`rectoplan.compile.ir`).

Each fact is a column; a set fact is one or more 64-bit words, one bit per member of its domain, so that
`contains`, `contains_any` and `contains_all` are a bitwise AND and a comparison. Semantics follow
`conditions.evaluate` exactly: NULL is unknown, Kleene AND/OR/NOT, `known` is two-valued, and a count is
decided only when every completion of its unknown items gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import assert_never

from rectoplan.compile import ir
from rectoplan.core.conditions import All, AnyOf, Condition, Const, Count, Not, OptionRef, Test
from rectoplan.core.schema import FactType

WORD_BITS = 62  # bits per word: keeps every packed value a positive signed 64-bit integer


@dataclass(frozen=True, slots=True)
class SetLayout:
    """Where each member of a set fact lives: word `i // WORD_BITS`, bit `i % WORD_BITS`."""

    domain: tuple[str, ...]
    words: tuple[str, ...]  # column names

    def weight(self, member: str) -> tuple[int, int]:
        index = self.domain.index(member)
        return index // WORD_BITS, 1 << (index % WORD_BITS)

    def masks(self, members: tuple[str, ...]) -> dict[int, int]:
        out: dict[int, int] = {}
        for m in members:
            word, weight = self.weight(m)
            out[word] = out.get(word, 0) | weight
        return out


def word_count(domain: tuple[str, ...]) -> int:
    return max(1, -(-len(domain) // WORD_BITS))


def fact_column(fact: str) -> str:
    return "f_" + fact.replace(".", "__")


def layouts(schema: Mapping[str, FactType]) -> dict[str, SetLayout]:
    """Column words of every case set fact of the schema."""
    out = {}
    for name, ftype in schema.items():
        if ftype.kind == "set" and not ftype.option:
            base = fact_column(name)
            out[name] = SetLayout(ftype.values, tuple(f"{base}__w{i}" for i in range(word_count(ftype.values))))
    return out


class RuleCompiler:
    """Compiles conditions against one fact schema. Facts are read from `fact_column(name)` columns."""

    def __init__(self, schema: Mapping[str, FactType], unknown: frozenset[str] = frozenset()) -> None:
        self.schema = schema
        self.sets = layouts(schema)
        self.unknown = unknown  # facts not yet known at this point (plan.intent inside intent rules)

    def column(self, fact: str, name: str) -> ir.Expr:
        if fact in self.unknown:
            kind = self.schema[fact].kind
            return ir.Lit(None, "int" if kind in ("int", "set") else "bool" if kind == "bool" else "text")
        return ir.Col(name)

    def literal(self, fact: str, value: object) -> ir.Lit:
        kind = self.schema[fact].kind
        if kind == "bool":
            return ir.Lit(bool(value), "bool")
        if kind == "int":
            assert isinstance(value, int)
            return ir.integer(value)
        assert isinstance(value, str)
        return ir.text(value)

    def test(self, t: Test) -> ir.Expr:
        if isinstance(t.value, OptionRef):
            raise ValueError(f"condition on {t.fact} still refers to option fact {t.value.fact}: bind it first")
        ftype = self.schema.get(t.fact)
        if ftype is None or ftype.option or t.fact.startswith("option."):
            raise ValueError(f"fact {t.fact!r} is not a case fact of the schema")
        if ftype.kind == "set":
            return self.set_test(t)
        col = self.column(t.fact, fact_column(t.fact))
        op = t.op
        if op == "known":
            present = ir.Not(ir.IsNull(col))
            return present if t.value else ir.IsNull(col)
        if op in ("in", "not_in"):
            member = ir.In(col, tuple(self.literal(t.fact, v) for v in t.value))
            return member if op == "in" else ir.Not(member)
        sql_op = {"is": "=", "is_not": "<>", "eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
        return ir.Cmp(sql_op[op], col, self.literal(t.fact, t.value))  # type: ignore[arg-type]

    def set_test(self, t: Test) -> ir.Expr:
        layout = self.sets[t.fact]
        words = [self.column(t.fact, w) for w in layout.words]
        if t.op == "known":
            present = ir.Not(ir.IsNull(words[0]))
            return present if t.value else ir.IsNull(words[0])
        members = (t.value,) if t.op == "contains" else tuple(t.value)
        masks = layout.masks(members)
        parts: list[ir.Expr] = []
        for word, mask in sorted(masks.items()):
            anded = ir.BitAnd(words[word], ir.integer(mask))
            if t.op == "contains_all":
                parts.append(ir.Cmp("=", anded, ir.integer(mask)))
            else:
                parts.append(ir.Cmp("<>", anded, ir.ZERO))
        if t.op == "contains_all":
            return ir.all_of(*parts)
        return ir.any_of(*parts)

    def compile(self, cond: Condition) -> ir.Expr:
        match cond:
            case Const():
                return ir.TRUE if cond.value else ir.FALSE
            case Test():
                return self.test(cond)
            case Not():
                return ir.negate(self.compile(cond.item))
            case All():
                return ir.all_of(*(self.compile(i) for i in cond.items))
            case AnyOf():
                return ir.any_of(*(self.compile(i) for i in cond.items))
            case Count():
                return self.count(cond)
            case _:
                assert_never(cond)

    def count(self, cond: Count) -> ir.Expr:
        items = [self.compile(i) for i in cond.items]
        t = ir.total([ir.bit(ir.is_true(i), 1) for i in items])
        u = ir.total([ir.bit(ir.IsNull(i), 1) for i in items])
        hi = ir.Add((t, u))
        n = ir.integer(cond.n)
        zero_u = ir.Cmp("=", u, ir.ZERO)
        outside = ir.any_of(ir.Cmp(">", t, n), ir.Cmp("<", hi, n))
        exact = ir.all_of(zero_u, ir.Cmp("=", t, n))
        decide: dict[str, tuple[ir.Expr, ir.Expr]] = {
            "ge": (ir.Cmp(">=", t, n), ir.Cmp("<", hi, n)),
            "gt": (ir.Cmp(">", t, n), ir.Cmp("<=", hi, n)),
            "le": (ir.Cmp("<=", hi, n), ir.Cmp(">", t, n)),
            "lt": (ir.Cmp("<", hi, n), ir.Cmp(">=", t, n)),
            "eq": (exact, outside),
            "ne": (outside, exact),
        }
        yes, no = decide[cond.op]
        return ir.Case(((yes, ir.TRUE), (no, ir.FALSE)), ir.NULL_BOOL)
