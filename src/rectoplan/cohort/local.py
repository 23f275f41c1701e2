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
from rectoplan.compile.collect import Packed

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


def _named(word: int, names: tuple[str, ...]) -> str:
    """The ids of the set bits of one word, lowest bit first (visits set bits only)."""
    out = []
    while word:
        low = word & -word
        out.append(names[low.bit_length() - 1])
        word ^= low
    return " ".join(out)


def _texts(reps: list[pa.Array], labels: tuple[tuple[str, ...], ...]) -> pa.Array:
    """The joined ids of each representative row, one word position at a time (few distinct words each)."""
    parts = []
    for words, names in zip(reps, labels, strict=True):
        encoded = pc.dictionary_encode(pc.cast(words, pa.int64()))
        fragments = pa.array([_named(w, names) for w in encoded.dictionary.to_pylist()], pa.string())
        parts.append(pc.take(fragments, encoded.indices))
    if len(parts) == 1:
        return parts[0]
    # (binary_join_element_wise with null_handling="skip" drops all-null rows in pyarrow 26: join the
    # empty fragments too, then squeeze the spaces they leave)
    joined = pc.binary_join_element_wise(*parts, " ")
    return pc.utf8_trim(pc.replace_substring_regex(joined, "  +", " "), " ")


def assemble(table: pa.Table, packed: Sequence[Packed]) -> dict[str, pa.Array]:
    """Result texts from the packed words: made once per distinct word combination, as dictionary arrays.

    With several words the key is a 64-bit hash; a second, independent hash must be constant within each
    key, or the texts are made row by row instead, so results never depend on luck.
    """
    import polars as pl

    out: dict[str, pa.Array] = {}
    cache: dict[tuple[str, ...], tuple[pa.Array, list[pa.Array]]] = {}
    for p in packed:
        if not p.words:
            out[p.name] = pa.DictionaryArray.from_arrays(
                pa.nulls(table.num_rows, pa.int32()).fill_null(0), pa.array([""])
            )
            continue
        if p.words not in cache:
            key = table.column(p.key or p.words[0]).combine_chunks()
            encoded = pc.dictionary_encode(key)
            firsts = pl.Series(key).arg_unique().to_arrow()
            if p.check is not None:
                pairs = pl.DataFrame({"a": pl.Series(encoded.indices), "b": pl.Series(table.column(p.check))})
                if pairs.n_unique() != len(encoded.dictionary):  # a hash collision: no shortcut
                    everything = [table.column(w).combine_chunks() for w in p.words]
                    cache[p.words] = (pa.array(range(table.num_rows), pa.int32()), everything)
                    continue
            cache[p.words] = (encoded.indices, [table.column(w).combine_chunks().take(firsts) for w in p.words])
        indices, reps = cache[p.words]
        out[p.name] = pa.DictionaryArray.from_arrays(pc.cast(indices, pa.int32()), _texts(reps, p.labels))
    return out
