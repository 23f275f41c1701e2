"""The column-expression IR printed as SQL text: what DuckDB SQL and Spark SQL share.

SQL's three-valued logic is Kleene logic, so AND/OR/NOT/comparisons/IN/CASE print the same in both
dialects. A dialect (`duckdb_sql.DIALECT`, `spark.DIALECT`) overrides only what differs: quoting,
literals, casts, list folds and a handful of functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, assert_never

from rectoplan.compile import ir


class SqlDialect:
    """One SQL dialect; subclasses fill in the type names and the functions that differ."""

    types: ClassVar[dict[str, str]]  # IR kind -> SQL type name (for NULL literals and casts)
    quote_char: str

    def quote(self, name: str) -> str:
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def cast(self, text: str, sql_type: str) -> str:
        return f"CAST({text} AS {sql_type})"

    def sql(self, e: ir.Expr) -> str:
        """One IR expression as SQL text.

        Complex by design: one case per IR node type in a flat `match` that mypy checks is total."""
        sql, literal = self.sql, self.literal
        match e:
            case ir.Col():
                return self.quote(e.name)
            case ir.Lit():
                if e.value is None:
                    return self.cast("NULL", self.types[e.kind])
                if isinstance(e.value, bool):
                    return "TRUE" if e.value else "FALSE"
                if isinstance(e.value, int):
                    return self.cast(str(e.value), "TINYINT" if e.kind == "small" else "BIGINT")
                return literal(e.value)
            case ir.Var():
                return e.name
            case ir.And():
                return "(" + " AND ".join(sql(i) for i in e.items) + ")"
            case ir.Or():
                return "(" + " OR ".join(sql(i) for i in e.items) + ")"
            case ir.Not():
                return f"(NOT {sql(e.item)})"
            case ir.IsNull():
                return f"({sql(e.item)} IS NULL)"
            case ir.Cmp():
                return f"({sql(e.left)} {e.op} {sql(e.right)})"
            case ir.In():
                return f"({sql(e.item)} IN (" + ", ".join(sql(v) for v in e.values) + "))"
            case ir.Case():
                whens = " ".join(f"WHEN {sql(c)} THEN {sql(v)}" for c, v in e.whens)
                return f"CASE {whens} ELSE {sql(e.default)} END"
            case ir.Coalesce():
                return "COALESCE(" + ", ".join(sql(i) for i in e.items) + ")"
            case ir.BitAnd():
                return f"({sql(e.left)} & {sql(e.right)})"
            case ir.BitOr():
                return "(" + " | ".join(sql(i) for i in e.items) + ")"
            case ir.Add():
                return "(" + " + ".join(sql(i) for i in e.items) + ")"
            case ir.Mul():
                return f"({sql(e.left)} * {sql(e.right)})"
            case ir.Lookup():
                whens = " ".join(f"WHEN {literal(k)} THEN {self.cast(str(v), 'BIGINT')}" for k, v in e.table)
                return f"CASE {sql(e.item)} {whens} ELSE {self.cast(str(e.default), 'BIGINT')} END"
            case ir.Collect():
                if not e.items:
                    return "''"
                items = ", ".join(f"CASE WHEN {sql(c)} THEN {literal(label)} END" for c, label in e.items)
                return f"concat_ws(' ', {items})"
            case ir.Fold():
                items = sql(e.items)
                return f"CASE WHEN {items} IS NULL THEN NULL ELSE {self.fold(e, items, sql(e.body))} END"
            case ir.ToText():
                return self.cast(sql(e.item), self.types["text"])
            case ir.Cast():
                return self.cast(sql(e.item), self.types[e.kind])
            case ir.Field() | ir.Last() | ir.Len() | ir.TextLen() | ir.Matches() | ir.ToInt() | ir.JsonDecode():
                return self.function(e)
            case _:
                assert_never(e)

    def fold(self, e: ir.Fold, items: str, body: str) -> str:
        """A list fold over a non-NULL list (`e.how`: bit_or, all, any or count)."""
        raise NotImplementedError

    def function(self, e: ir.Expr) -> str:
        """The nodes whose functions differ between dialects: Field, Last, Len, TextLen, Matches,
        ToInt, JsonDecode."""
        raise NotImplementedError

    def select_items(self, stage: Sequence[tuple[str, ir.Expr]]) -> list[str]:
        """`expr AS name` items of one stage."""
        return [f"{self.sql(expr)} AS {self.quote(name)}" for name, expr in stage]

    def staged_query(self, source: str, stages: Sequence[Sequence[tuple[str, ir.Expr]]], keep: Sequence[str]) -> str:
        """Nested SELECTs, one per stage, each carrying only the columns later stages still read (the
        narrow form plans several times faster than carrying every column)."""
        quote = self.quote
        query = f"SELECT * FROM {quote(source)}"
        for carried, stage in ir.prune([list(s) for s in stages], list(keep)):
            items = [quote(c) for c in carried] + self.select_items(stage)
            query = f"SELECT {', '.join(items) or '1 AS _'} FROM ({query})"
        return f"SELECT {', '.join(quote(k) for k in keep)} FROM ({query})"
