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
from typing import Any, Final, assert_never

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


_CMP: Final = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def expr(e: ir.Expr, var: str | None = None) -> Any:
    """One IR expression as a Polars expression; `var` is the element bound by the enclosing fold."""
    import polars as pl

    def sub(x: ir.Expr) -> Any:
        return expr(x, var)

    match e:
        case ir.Col():
            return pl.col(e.name)
        case ir.Lit():
            return pl.lit(e.value, dtype=_lit_dtype(e.kind))
        case ir.Var():
            if e.name != var:
                raise ValueError(f"fold body refers to {e.name!r} outside its own element ({var!r})")
            return pl.element()
        case ir.Field():
            return sub(e.base).struct.field(e.name)
        case ir.And() | ir.Or() | ir.Not() | ir.IsNull() | ir.Cmp() | ir.In():
            return _logic(e, sub)
        case ir.Case():
            return _case(e, var, sub)
        case ir.Coalesce() | ir.BitAnd() | ir.BitOr() | ir.Add() | ir.Mul() | ir.Lookup():
            return _arithmetic(e, sub)
        case ir.Collect() | ir.Last() | ir.Fold() | ir.Len():
            return _lists(e, var, sub)
        case ir.TextLen() | ir.Matches() | ir.ToInt() | ir.ToText() | ir.JsonDecode() | ir.Cast():
            return _conversion(e, sub)
        case _:
            assert_never(e)


Sub = Callable[[ir.Expr], Any]


def _logic(e: ir.And | ir.Or | ir.Not | ir.IsNull | ir.Cmp | ir.In, sub: Sub) -> Any:
    match e:
        case ir.And():
            return functools.reduce(operator.and_, (sub(i) for i in e.items))
        case ir.Or():
            return functools.reduce(operator.or_, (sub(i) for i in e.items))
        case ir.Not():
            return ~sub(e.item)
        case ir.IsNull():
            return sub(e.item).is_null()
        case ir.Cmp():
            return _CMP[e.op](sub(e.left), sub(e.right))
        case ir.In():
            return sub(e.item).is_in([v.value for v in e.values])
        case _:
            assert_never(e)


def _case(e: ir.Case, var: str | None, sub: Sub) -> Any:
    import polars as pl

    if all(isinstance(v, ir.Lit) and v.kind == "text" for v in (*(v for _, v in e.whens), e.default)):
        return _text_case(e, var)
    if len(e.whens) > 2 and all(_never_null(v) for _, v in e.whens):
        # First true condition wins: each `when` without `otherwise` is null where its condition is not
        # true, so the first non-null is the answer (a third faster than nested otherwise branches). Only
        # for values that are never NULL themselves: a NULL value would pass the choice to a later `when`.
        return pl.coalesce([*(pl.when(sub(c)).then(sub(v)) for c, v in e.whens), sub(e.default)])
    return _chain(e, var, sub)


def _never_null(v: ir.Expr) -> bool:
    """Whether `v` is never NULL, by its form."""
    match v:
        case ir.Lit():
            return v.value is not None
        case ir.Col():
            return v.never_null
        case ir.Add():
            return all(_never_null(i) for i in v.items)
        case ir.Case():
            return all(_never_null(x) for _, x in v.whens) and _never_null(v.default)
        case _:
            return False


def _arithmetic(e: ir.Coalesce | ir.BitAnd | ir.BitOr | ir.Add | ir.Mul | ir.Lookup, sub: Sub) -> Any:
    import polars as pl

    match e:
        case ir.Coalesce():
            return pl.coalesce([sub(i) for i in e.items])
        case ir.BitAnd():
            return sub(e.left) & sub(e.right)
        case ir.BitOr():
            return functools.reduce(operator.or_, (sub(i) for i in e.items))
        case ir.Add():
            return functools.reduce(operator.add, (sub(i) for i in e.items))
        case ir.Mul():
            return sub(e.left) * sub(e.right)
        case ir.Lookup():
            keys = [k for k, _ in e.table]
            values = [v for _, v in e.table]
            return sub(e.item).replace_strict(keys, values, default=e.default, return_dtype=pl.Int64)
        case _:
            assert_never(e)


def _lists(e: ir.Collect | ir.Last | ir.Fold | ir.Len, var: str | None, sub: Sub) -> Any:
    import polars as pl

    match e:
        case ir.Collect():
            if not e.items:
                return pl.lit("", dtype=pl.String)
            parts = [pl.when(sub(c)).then(pl.lit(label)) for c, label in e.items]
            return pl.concat_str(parts, separator=" ", ignore_nulls=True).fill_null("")
        case ir.Last():
            return sub(e.item).list.last()
        case ir.Fold():
            return _fold(e, var)
        case ir.Len():
            return sub(e.item).list.len().cast(pl.Int64)
        case _:
            assert_never(e)


def _conversion(e: ir.TextLen | ir.Matches | ir.ToInt | ir.ToText | ir.JsonDecode | ir.Cast, sub: Sub) -> Any:
    import polars as pl

    match e:
        case ir.TextLen():
            return sub(e.item).str.len_bytes().cast(pl.Int64)
        case ir.Matches():
            excluded = _excluded_class(e.pattern)
            if excluded is not None:  # "only characters outside X": no character of X anywhere (a third faster)
                return ~sub(e.item).str.contains(f"[{excluded}]")
            return sub(e.item).str.contains(f"^(?:{e.pattern})$")
        case ir.ToInt():
            return sub(e.item).cast(pl.Int64, strict=False)
        case ir.ToText():
            return sub(e.item).cast(pl.String)
        case ir.JsonDecode():
            return sub(e.item).str.json_decode(_dtype(e.type))
        case ir.Cast():
            return sub(e.item).cast(_lit_dtype(e.kind))
        case _:
            assert_never(e)


def _excluded_class(pattern: str) -> str | None:
    """X when `pattern` is `[^X]*` (a text of any length with no character of X; X a plain class body
    without brackets), else None. Full-matching `[^X]*` is testing that no character of X occurs."""
    body = pattern[2:-2]
    plain = body[:1] not in ("", "^") and "[" not in body and "]" not in body
    return body if pattern.startswith("[^") and pattern.endswith("]*") and plain else None


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
    """The stage's columns as Polars expressions, with the `is_true` their context implies left out
    (`ir.lean`)."""
    return [expr(ir.lean(e)).alias(name) for name, e in stage]
