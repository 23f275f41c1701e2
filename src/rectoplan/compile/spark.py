"""The column-expression IR printed as Spark SQL (PySpark 4, ANSI mode on).

The same plan as the embedded engines, printed for Catalyst: `try_cast` and `try_element_at` where ANSI
mode would raise on data, higher-order functions (`transform`, `aggregate`, `forall`, `exists`, `filter`)
for list folds, Java regular expressions with explicit anchors, and string literals with backslashes
escaped (Spark SQL reads escapes in literals). Everything the dialects share is in `sql_text`.
"""

from __future__ import annotations

from typing import ClassVar

from rectoplan.compile import ir
from rectoplan.compile.sql_text import SqlDialect


def _ddl(t: ir.JsonType) -> str:
    if isinstance(t, str):
        return {"text": "STRING", "int": "BIGINT", "bool": "BOOLEAN"}[t]
    if t[0] == "list":
        return f"ARRAY<{_ddl(t[1])}>"
    return "STRUCT<" + ", ".join(f"{name}: {_ddl(sub)}" for name, sub in t[1]) + ">"


class SparkSql(SqlDialect):
    types: ClassVar[dict[str, str]] = {
        "text": "STRING",
        "int": "BIGINT",
        "small": "TINYINT",
        "bool": "BOOLEAN",
        "text_list": "ARRAY<STRING>",
        "lines": "ARRAY<STRUCT<agents: ARRAY<STRING>, stopped_for: STRING>>",
    }
    quote_char = "`"

    def literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def fold(self, e: ir.Fold, items: str, body: str) -> str:
        lam = f"{e.var} -> "
        if e.how == "bit_or":
            return f"aggregate(transform({items}, {lam}{body}), CAST(0 AS BIGINT), (acc, x) -> acc | COALESCE(x, 0))"
        if e.how == "all":
            return f"forall({items}, {lam}COALESCE({body}, FALSE))"
        if e.how == "any":
            return f"exists({items}, {lam}COALESCE({body}, FALSE))"
        return f"CAST(size(filter({items}, {lam}COALESCE({body}, FALSE))) AS BIGINT)"

    def function(self, e: ir.Expr) -> str:
        sql, literal = self.sql, self.literal
        if isinstance(e, ir.Field):
            return f"{sql(e.base)}.{self.quote(e.name)}"
        if isinstance(e, ir.Last):
            return f"try_element_at({sql(e.item)}, -1)"
        if isinstance(e, ir.Len):
            items = sql(e.item)
            return f"CASE WHEN {items} IS NULL THEN CAST(NULL AS BIGINT) ELSE CAST(size({items}) AS BIGINT) END"
        if isinstance(e, ir.TextLen):
            return f"CAST(octet_length({sql(e.item)}) AS BIGINT)"
        if isinstance(e, ir.Matches):
            return f"({sql(e.item)} RLIKE {literal('^(?:' + e.pattern + ')$')})"
        if isinstance(e, ir.ToInt):
            return f"try_cast({sql(e.item)} AS BIGINT)"
        if isinstance(e, ir.JsonDecode):
            return f"from_json({sql(e.item)}, {literal(_ddl(e.type))})"
        raise TypeError(f"no Spark SQL for {type(e).__name__}")


DIALECT = SparkSql()
sql = DIALECT.sql
quote = DIALECT.quote
literal = DIALECT.literal
select_items = DIALECT.select_items
staged_query = DIALECT.staged_query
