"""The column-expression IR printed as DuckDB SQL (DuckDB 2: `lambda x: ...` list lambdas).

List folds use `list_transform` + `list_aggregate`; NULL and empty lists are handled explicitly as the IR
says. Everything the dialects share is in `sql_text`.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rectoplan.compile import ir
from rectoplan.compile.sql_text import SqlDialect


def _json_structure(t: ir.JsonType) -> object:
    if isinstance(t, str):
        return {"text": "VARCHAR", "int": "BIGINT", "bool": "BOOLEAN"}[t]
    if t[0] == "list":
        return [_json_structure(t[1])]
    return {name: _json_structure(sub) for name, sub in t[1]}


class DuckDBSql(SqlDialect):
    types: ClassVar[dict[str, str]] = {
        "text": "VARCHAR",
        "int": "BIGINT",
        "small": "TINYINT",
        "bool": "BOOLEAN",
        "text_list": "VARCHAR[]",
        "lines": "STRUCT(agents VARCHAR[], stopped_for VARCHAR)[]",
    }
    quote_char = '"'

    def fold(self, e: ir.Fold, items: str, body: str) -> str:
        lam = f"lambda {e.var}: "
        if e.how == "bit_or":
            return f"COALESCE(list_aggregate(list_transform({items}, {lam}{body}), 'bit_or'), 0::BIGINT)"
        if e.how == "all":
            return f"COALESCE(list_aggregate(list_transform({items}, {lam}COALESCE({body}, FALSE)), 'bool_and'), TRUE)"
        if e.how == "any":
            return f"COALESCE(list_aggregate(list_transform({items}, {lam}COALESCE({body}, FALSE)), 'bool_or'), FALSE)"
        return f"len(list_filter({items}, {lam}COALESCE({body}, FALSE)))::BIGINT"

    def function(self, e: ir.Expr) -> str:
        sql, literal = self.sql, self.literal
        if isinstance(e, ir.Field):
            return f"struct_extract({sql(e.base)}, {literal(e.name)})"
        if isinstance(e, ir.Last):
            return f"list_extract({sql(e.item)}, -1)"
        if isinstance(e, ir.Len):
            return f"len({sql(e.item)})::BIGINT"
        if isinstance(e, ir.TextLen):
            return f"strlen({sql(e.item)})::BIGINT"
        if isinstance(e, ir.Matches):
            return f"regexp_full_match({sql(e.item)}, {literal(e.pattern)})"
        if isinstance(e, ir.ToInt):
            return f"TRY_CAST({sql(e.item)} AS BIGINT)"
        if isinstance(e, ir.JsonDecode):
            return f"from_json({sql(e.item)}, {literal(json.dumps(_json_structure(e.type)))})"
        raise TypeError(f"no DuckDB SQL for {type(e).__name__}")


DIALECT = DuckDBSql()
sql = DIALECT.sql
quote = DIALECT.quote
literal = DIALECT.literal
staged_query = DIALECT.staged_query
