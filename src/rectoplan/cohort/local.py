"""The embedded engines: run compiled stages over an Arrow table with Polars (default) or DuckDB.

Both receive the same plan; only the printer differs (`compile.polars_expr`, `compile.duckdb_sql`).
`by_distinct` evaluates the result stage once per distinct combination of the columns it reads, which
is where text is built (joined ids), and broadcasts it back as dictionary-encoded columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.compile import ir

Stage = Sequence[tuple[str, ir.Expr]]


class LocalEngine(Protocol):
    name: str

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        """Add each stage's columns in turn; return the `keep` columns."""
        ...


class PolarsEngine:
    name = "polars"

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        import polars as pl

        from rectoplan.compile.polars_expr import stage_exprs

        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        lf = frame.lazy()
        for stage in stages:
            if stage:
                lf = lf.with_columns(stage_exprs(stage))
        return lf.select(list(keep)).collect().to_arrow()


class DuckDBEngine:
    name = "duckdb"

    def __init__(self) -> None:
        import duckdb

        self.con = duckdb.connect()

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        from rectoplan.compile.duckdb_sql import staged_query

        self.con.register("cohort_input", table)
        try:
            result: pa.Table = self.con.sql(staged_query("cohort_input", stages, keep)).to_arrow_table()
        finally:
            self.con.unregister("cohort_input")
        return result


def engine_named(name: str) -> LocalEngine:
    if name == "duckdb":
        return DuckDBEngine()
    if name == "polars":
        return PolarsEngine()
    raise ValueError(f"unknown local engine {name!r}")


def by_distinct(engine: LocalEngine, table: pa.Table, stage: Stage) -> dict[str, pa.Array]:
    """Evaluate `stage` once per distinct combination of its inputs; results as dictionary arrays.

    Columns of the stage that read the same inputs share one key. Keys are two independent 64-bit hashes;
    if the second ever disagrees within a group of the first (a collision), the stage is evaluated row by
    row instead, so results never depend on luck.
    """
    import polars as pl

    groups: dict[tuple[str, ...], list[tuple[str, ir.Expr]]] = {}
    for name, expr in stage:
        groups.setdefault(tuple(sorted(ir.columns_read(expr))), []).append((name, expr))
    hashes: list[tuple[str, ir.Expr]] = []
    for k, reads in enumerate(groups):
        if reads:
            cols = tuple(ir.Col(r) for r in reads)
            hashes += [(f"_k{k}", ir.Hash(cols, 0)), (f"_k{k}b", ir.Hash(cols, 1))]
    keys = engine.evaluate(table, [hashes], [h for h, _ in hashes]) if hashes else pa.table({})
    out: dict[str, pa.Array] = {}
    for k, (reads, items) in enumerate(groups.items()):
        if not reads:  # constant columns
            values = engine.evaluate(pa.table({"_": [0]}), [items], [n for n, _ in items])
            zeros = pa.array([0] * table.num_rows, pa.int32())
            out.update({n: pa.DictionaryArray.from_arrays(zeros, values.column(n).combine_chunks()) for n, _ in items})
            continue
        key = keys.column(f"_k{k}").combine_chunks()
        encoded = pc.dictionary_encode(key)
        series = pl.Series(key)
        firsts = series.arg_unique().to_arrow()
        pairs = pl.DataFrame({"a": pl.Series(encoded.indices), "b": pl.Series(keys.column(f"_k{k}b"))})
        if pairs.n_unique() != len(encoded.dictionary):
            rows = engine.evaluate(table.select(list(reads)), [items], [n for n, _ in items])
            out.update({n: rows.column(n).combine_chunks() for n, _ in items})
            continue
        reps = table.select(list(reads)).take(firsts)
        values = engine.evaluate(reps, [items], [n for n, _ in items])
        for name, _ in items:
            out[name] = pa.DictionaryArray.from_arrays(encoded.indices, values.column(name).combine_chunks())
    return out
