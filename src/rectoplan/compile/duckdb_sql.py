"""The column-expression IR printed as DuckDB SQL (DuckDB 2: `lambda x: ...` list lambdas).

SQL's three-valued logic is Kleene logic, so AND/OR/NOT/comparisons/IN print as themselves; list folds
use `list_transform` + `list_aggregate`, and NULL/empty lists are handled explicitly as the IR says.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rectoplan.compile import ir

_NULL_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "small": "TINYINT",
    "bool": "BOOLEAN",
    "text_list": "VARCHAR[]",
    "lines": "STRUCT(agents VARCHAR[], stopped_for VARCHAR)[]",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _json_structure(t: ir.JsonType) -> object:
    if isinstance(t, str):
        return {"text": "VARCHAR", "int": "BIGINT", "bool": "BOOLEAN"}[t]
    if t[0] == "list":
        return [_json_structure(t[1])]
    return {name: _json_structure(sub) for name, sub in t[1]}


def sql(e: ir.Expr) -> str:
    """One IR expression as DuckDB SQL text."""
    if isinstance(e, ir.Col):
        return quote(e.name)
    if isinstance(e, ir.Lit):
        if e.value is None:
            return f"NULL::{_NULL_TYPES[e.kind]}"
        if isinstance(e.value, bool):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e.value, int):
            return f"{e.value}::{'TINYINT' if e.kind == 'small' else 'BIGINT'}"
        return literal(e.value)
    if isinstance(e, ir.Var):
        return e.name
    if isinstance(e, ir.Field):
        return f"struct_extract({sql(e.base)}, {literal(e.name)})"
    if isinstance(e, ir.And):
        return "(" + " AND ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Or):
        return "(" + " OR ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Not):
        return f"(NOT {sql(e.item)})"
    if isinstance(e, ir.IsNull):
        return f"({sql(e.item)} IS NULL)"
    if isinstance(e, ir.Cmp):
        return f"({sql(e.left)} {e.op} {sql(e.right)})"
    if isinstance(e, ir.In):
        return f"({sql(e.item)} IN (" + ", ".join(sql(v) for v in e.values) + "))"
    if isinstance(e, ir.Case):
        whens = " ".join(f"WHEN {sql(c)} THEN {sql(v)}" for c, v in e.whens)
        return f"CASE {whens} ELSE {sql(e.default)} END"
    if isinstance(e, ir.Coalesce):
        return "COALESCE(" + ", ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.BitAnd):
        return f"({sql(e.left)} & {sql(e.right)})"
    if isinstance(e, ir.BitOr):
        return "(" + " | ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Add):
        return "(" + " + ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Mul):
        return f"({sql(e.left)} * {sql(e.right)})"
    if isinstance(e, ir.Lookup):
        whens = " ".join(f"WHEN {literal(k)} THEN {v}::BIGINT" for k, v in e.table)
        return f"CASE {sql(e.item)} {whens} ELSE {e.default}::BIGINT END"
    if isinstance(e, ir.Collect):
        if not e.items:
            return "''"
        items = ", ".join(f"CASE WHEN {sql(c)} THEN {literal(label)} END" for c, label in e.items)
        return f"concat_ws(' ', {items})"
    if isinstance(e, ir.Hash):
        return f"hash({e.seed}::BIGINT, " + ", ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Last):
        return f"list_extract({sql(e.item)}, -1)"
    if isinstance(e, ir.Fold):
        return _fold(e)
    if isinstance(e, ir.Len):
        return f"len({sql(e.item)})::BIGINT"
    if isinstance(e, ir.TextLen):
        return f"strlen({sql(e.item)})::BIGINT"
    if isinstance(e, ir.Matches):
        return f"regexp_full_match({sql(e.item)}, {literal(e.pattern)})"
    if isinstance(e, ir.ToInt):
        return f"TRY_CAST({sql(e.item)} AS BIGINT)"
    if isinstance(e, ir.ToText):
        return f"CAST({sql(e.item)} AS VARCHAR)"
    if isinstance(e, ir.JsonDecode):
        return f"from_json({sql(e.item)}, {literal(json.dumps(_json_structure(e.type)))})"
    return f"CAST({sql(e.item)} AS {_NULL_TYPES[e.kind]})"


def _fold(e: ir.Fold) -> str:
    items = sql(e.items)
    body = sql(e.body)
    lam = f"lambda {e.var}: "
    if e.how == "bit_or":
        agg = f"COALESCE(list_aggregate(list_transform({items}, {lam}{body}), 'bit_or'), 0::BIGINT)"
    elif e.how == "all":
        agg = f"COALESCE(list_aggregate(list_transform({items}, {lam}COALESCE({body}, FALSE)), 'bool_and'), TRUE)"
    elif e.how == "any":
        agg = f"COALESCE(list_aggregate(list_transform({items}, {lam}COALESCE({body}, FALSE)), 'bool_or'), FALSE)"
    else:
        agg = f"len(list_filter({items}, {lam}COALESCE({body}, FALSE)))::BIGINT"
    return f"CASE WHEN {items} IS NULL THEN NULL ELSE {agg} END"


def select_list(stage: Sequence[tuple[str, ir.Expr]]) -> str:
    return ",\n  ".join(f"{sql(expr)} AS {quote(name)}" for name, expr in stage)


def staged_query(source: str, stages: Sequence[Sequence[tuple[str, ir.Expr]]], keep: Sequence[str]) -> str:
    """Nested SELECTs, one per stage, each carrying only the columns later stages still read."""
    query = f"SELECT * FROM {source}"
    for carried, stage in ir.prune([list(s) for s in stages], list(keep)):
        items = [quote(c) for c in carried] + [f"{sql(expr)} AS {quote(name)}" for name, expr in stage]
        query = f"SELECT {', '.join(items)} FROM ({query})"
    return f"SELECT {', '.join(quote(k) for k in keep)} FROM ({query})"
