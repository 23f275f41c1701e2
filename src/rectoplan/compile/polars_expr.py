"""The column-expression IR as Polars expressions.

Polars' `&`, `|` and `~` on nullable booleans follow Kleene logic, comparisons and `is_in` give null on a
null input, and `when` treats a null condition as not true: the IR's semantics map one to one. List
folds use `list.eval`; a fold body may only refer to its own element (checked), which is all the plan
needs (an outer line's `stopped_for` is tested outside the inner fold over its agents).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

from rectoplan.compile import ir


def _dtype(t: ir.JsonType) -> Any:
    import polars as pl

    if isinstance(t, str):
        return {"text": pl.String, "int": pl.Int64, "bool": pl.Boolean}[t]
    if t[0] == "list":
        return pl.List(_dtype(t[1]))
    return pl.Struct([pl.Field(name, _dtype(sub)) for name, sub in t[1]])


def _lit_dtype(kind: str) -> Any:
    import polars as pl

    return {
        "text": pl.String,
        "int": pl.Int64,
        "small": pl.Int8,
        "bool": pl.Boolean,
        "text_list": pl.List(pl.String),
        "lines": _dtype(ir.LINES),
    }[kind]


def expr(e: ir.Expr, var: str | None = None) -> Any:
    """One IR expression as a Polars expression; `var` is the element bound by the enclosing fold."""
    import polars as pl

    def sub(x: ir.Expr) -> Any:
        return expr(x, var)

    if isinstance(e, ir.Col):
        return pl.col(e.name)
    if isinstance(e, ir.Lit):
        return pl.lit(e.value, dtype=_lit_dtype(e.kind))
    if isinstance(e, ir.Var):
        if e.name != var:
            raise ValueError(f"fold body refers to {e.name!r} outside its own element ({var!r})")
        return pl.element()
    if isinstance(e, ir.Field):
        return sub(e.base).struct.field(e.name)
    if isinstance(e, ir.And):
        return functools.reduce(operator.and_, (sub(i) for i in e.items))
    if isinstance(e, ir.Or):
        return functools.reduce(operator.or_, (sub(i) for i in e.items))
    if isinstance(e, ir.Not):
        return ~sub(e.item)
    if isinstance(e, ir.IsNull):
        return sub(e.item).is_null()
    if isinstance(e, ir.Cmp):
        left, right = sub(e.left), sub(e.right)
        ops = {
            "=": operator.eq,
            "<>": operator.ne,
            "<": operator.lt,
            "<=": operator.le,
            ">": operator.gt,
            ">=": operator.ge,
        }
        return ops[e.op](left, right)
    if isinstance(e, ir.In):
        values = [v.value for v in e.values]
        return sub(e.item).is_in(values)
    if isinstance(e, ir.Case):
        if all(isinstance(v, ir.Lit) and v.kind == "text" for v in (*(v for _, v in e.whens), e.default)):
            return _text_case(e, var)
        if len(e.whens) > 2 and all(isinstance(v, ir.Lit) and v.value is not None for _, v in e.whens):
            # First true condition wins: each `when` without `otherwise` is null where its condition is not
            # true, so the first non-null is the answer (a third faster than nested otherwise branches).
            return pl.coalesce([*(pl.when(sub(c)).then(sub(v)) for c, v in e.whens), sub(e.default)])
        return _chain(e, var, sub)
    if isinstance(e, ir.Coalesce):
        return pl.coalesce([sub(i) for i in e.items])
    if isinstance(e, ir.BitAnd):
        return sub(e.left) & sub(e.right)
    if isinstance(e, ir.BitOr):
        return functools.reduce(operator.or_, (sub(i) for i in e.items))
    if isinstance(e, ir.Add):
        return functools.reduce(operator.add, (sub(i) for i in e.items))
    if isinstance(e, ir.Mul):
        return sub(e.left) * sub(e.right)
    if isinstance(e, ir.Lookup):
        keys = [k for k, _ in e.table]
        values = [v for _, v in e.table]
        return sub(e.item).replace_strict(keys, values, default=e.default, return_dtype=pl.Int64)
    if isinstance(e, ir.Collect):
        if not e.items:
            return pl.lit("", dtype=pl.String)
        parts = [pl.when(sub(c)).then(pl.lit(label)) for c, label in e.items]
        return pl.concat_str(parts, separator=" ", ignore_nulls=True).fill_null("")
    if isinstance(e, ir.Last):
        return sub(e.item).list.last()
    if isinstance(e, ir.Fold):
        return _fold(e, var)
    if isinstance(e, ir.Len):
        return sub(e.item).list.len().cast(pl.Int64)
    if isinstance(e, ir.TextLen):
        return sub(e.item).str.len_bytes().cast(pl.Int64)
    if isinstance(e, ir.Matches):
        return sub(e.item).str.contains(f"^(?:{e.pattern})$")
    if isinstance(e, ir.ToInt):
        return sub(e.item).cast(pl.Int64, strict=False)
    if isinstance(e, ir.ToText):
        return sub(e.item).cast(pl.String)
    if isinstance(e, ir.JsonDecode):
        return sub(e.item).str.json_decode(_dtype(e.type))
    return sub(e.item).cast(_lit_dtype(e.kind))


def _text_case(e: ir.Case, var: str | None) -> Any:
    """A choice among a few fixed texts (the intent, a resectability) as a Categorical column.

    Building a million strings and comparing them cost ten times what small codes cost; a Categorical
    compares with text literals and `is_in` exactly as text does, and nulls stay nulls."""
    import polars as pl

    def value(v: ir.Expr) -> Any:
        assert isinstance(v, ir.Lit)
        return pl.lit(v.value, dtype=pl.Categorical)

    return _chain(e, var, value)


def _chain(e: ir.Case, var: str | None, value: Callable[[ir.Expr], Any]) -> Any:
    """`when ... then ... otherwise` in order; `value` prints the branches' values."""
    import polars as pl

    chain: Any = None
    for cond, then in e.whens:
        chain = (pl.when(expr(cond, var)) if chain is None else chain.when(expr(cond, var))).then(value(then))
    return chain.otherwise(value(e.default)) if chain is not None else value(e.default)


def _fold(e: ir.Fold, var: str | None) -> Any:
    import polars as pl

    items = expr(e.items, var)
    body = expr(e.body, e.var)
    if e.how == "bit_or":
        agg = items.list.eval(body).list.agg(pl.element().bitwise_or()).fill_null(0).cast(pl.Int64)
    elif e.how == "all":
        agg = items.list.eval(body.fill_null(False)).list.all()
    elif e.how == "any":
        agg = items.list.eval(body.fill_null(False)).list.any()
    else:
        agg = items.list.eval(body.fill_null(False)).list.sum().cast(pl.Int64)
    return pl.when(items.is_null()).then(None).otherwise(agg)


def stage_exprs(stage: Sequence[tuple[str, ir.Expr]]) -> list[Any]:
    return [expr(e).alias(name) for name, e in stage]
