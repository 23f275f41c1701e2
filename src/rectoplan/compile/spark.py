"""The column-expression IR printed as Spark SQL (PySpark 4, ANSI mode on).

The same plan as the embedded engines, printed for Catalyst: `try_cast` and `try_element_at` where ANSI
mode would raise on data, higher-order functions (`transform`, `aggregate`, `forall`, `exists`, `filter`)
for list folds, Java regular expressions with explicit anchors, and string literals with backslashes
escaped (Spark SQL reads escapes in literals).
"""

from __future__ import annotations

from collections.abc import Sequence

from rectoplan.compile import ir

_TYPES = {
    "text": "STRING",
    "int": "BIGINT",
    "small": "TINYINT",
    "bool": "BOOLEAN",
    "text_list": "ARRAY<STRING>",
    "lines": "ARRAY<STRUCT<agents: ARRAY<STRING>, stopped_for: STRING>>",
}


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ddl(t: ir.JsonType) -> str:
    if isinstance(t, str):
        return {"text": "STRING", "int": "BIGINT", "bool": "BOOLEAN"}[t]
    if t[0] == "list":
        return f"ARRAY<{_ddl(t[1])}>"
    return "STRUCT<" + ", ".join(f"{name}: {_ddl(sub)}" for name, sub in t[1]) + ">"


def sql(e: ir.Expr) -> str:
    """One IR expression as Spark SQL text."""
    if isinstance(e, ir.Col):
        return quote(e.name)
    if isinstance(e, ir.Lit):
        if e.value is None:
            return f"CAST(NULL AS {_TYPES[e.kind]})"
        if isinstance(e.value, bool):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e.value, int):
            return f"CAST({e.value} AS {'TINYINT' if e.kind == 'small' else 'BIGINT'})"
        return literal(e.value)
    if isinstance(e, ir.Var):
        return e.name
    if isinstance(e, ir.Field):
        return f"{sql(e.base)}.{quote(e.name)}"
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
        whens = " ".join(f"WHEN {literal(k)} THEN CAST({v} AS BIGINT)" for k, v in e.table)
        return f"CASE {sql(e.item)} {whens} ELSE CAST({e.default} AS BIGINT) END"
    if isinstance(e, ir.Collect):
        if not e.items:
            return "''"
        return (
            "concat_ws(' ', " + ", ".join(f"CASE WHEN {sql(c)} THEN {literal(label)} END" for c, label in e.items) + ")"
        )
    if isinstance(e, ir.Hash):
        return f"xxhash64({e.seed}, " + ", ".join(sql(i) for i in e.items) + ")"
    if isinstance(e, ir.Last):
        return f"try_element_at({sql(e.item)}, -1)"
    if isinstance(e, ir.Fold):
        return _fold(e)
    if isinstance(e, ir.Len):
        items = sql(e.item)
        return f"CASE WHEN {items} IS NULL THEN CAST(NULL AS BIGINT) ELSE CAST(size({items}) AS BIGINT) END"
    if isinstance(e, ir.TextLen):
        return f"CAST(octet_length({sql(e.item)}) AS BIGINT)"
    if isinstance(e, ir.Matches):
        return f"({sql(e.item)} RLIKE {literal('^(?:' + e.pattern + ')$')})"
    if isinstance(e, ir.ToInt):
        return f"try_cast({sql(e.item)} AS BIGINT)"
    if isinstance(e, ir.ToText):
        return f"CAST({sql(e.item)} AS STRING)"
    if isinstance(e, ir.JsonDecode):
        return f"from_json({sql(e.item)}, {literal(_ddl(e.type))})"
    return f"CAST({sql(e.item)} AS {_TYPES[e.kind]})"


def _fold(e: ir.Fold) -> str:
    items = sql(e.items)
    body = sql(e.body)
    lam = f"{e.var} -> "
    if e.how == "bit_or":
        agg = f"aggregate(transform({items}, {lam}{body}), CAST(0 AS BIGINT), (acc, x) -> acc | COALESCE(x, 0))"
    elif e.how == "all":
        agg = f"forall({items}, {lam}COALESCE({body}, FALSE))"
    elif e.how == "any":
        agg = f"exists({items}, {lam}COALESCE({body}, FALSE))"
    else:
        agg = f"CAST(size(filter({items}, {lam}COALESCE({body}, FALSE))) AS BIGINT)"
    return f"CASE WHEN {items} IS NULL THEN NULL ELSE {agg} END"


def select_items(stage: Sequence[tuple[str, ir.Expr]]) -> list[str]:
    """`expr AS name` items for `DataFrame.selectExpr('*', *items)`."""
    return [f"{sql(expr)} AS {quote(name)}" for name, expr in stage]


def staged_query(source: str, stages: Sequence[Sequence[tuple[str, ir.Expr]]], keep: Sequence[str]) -> str:
    """Nested SELECTs, one per stage, each carrying only the columns later stages still read (Catalyst
    analyses every carried column; the narrow form plans several times faster)."""
    query = f"SELECT * FROM {quote(source)}"
    for carried, stage in ir.prune([list(s) for s in stages], list(keep)):
        items = [quote(c) for c in carried] + [f"{sql(expr)} AS {quote(name)}" for name, expr in stage]
        query = f"SELECT {', '.join(items) or '1 AS _'} FROM ({query})"
    return f"SELECT {', '.join(quote(k) for k in keep)} FROM ({query})"
