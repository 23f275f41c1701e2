"""The embedded engines: run compiled stages over an Arrow table with Polars (default) or DuckDB.

Both receive the same plan; only the printer differs (`compile.polars_expr`, `compile.duckdb_sql`).
`by_distinct` evaluates the result stage once per distinct combination of the columns it reads, which
is where text is built (joined ids), and broadcasts it back as dictionary-encoded columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.compile import ir
from rectoplan.compile.collect import Packed
from rectoplan.compile.rules import WORD_BITS

Stage = Sequence[tuple[str, ir.Expr]]


class LocalEngine(Protocol):
    name: str

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        """Add each stage's columns in turn; return the `keep` columns."""
        ...


class PolarsEngine:
    name = "polars"

    def __init__(self, memo: dict[Any, Any] | None = None) -> None:
        self.memo = memo if memo is not None else {}

    def _exprs(self, stage: Stage) -> list[Any]:
        """The stage as Polars expressions (building them costs ~0.1 s a plan): kept per stage object."""
        from rectoplan.compile.polars_expr import stage_exprs

        key = ("polars-exprs", id(stage))
        hit = self.memo.get(key)
        if hit is None or hit[0] is not stage:  # the stage is kept with its expressions, so ids are not reused
            hit = self.memo[key] = (stage, stage_exprs(stage))
        exprs: list[Any] = hit[1]
        return exprs

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        import polars as pl

        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        lf = frame.lazy()
        for stage in stages:
            if stage:
                lf = lf.with_columns(self._exprs(stage))
        # The streaming engine works through the rows in morsels, keeping each one's ~400 columns in cache
        # while every stage runs over it; on the whole plan it is about a fifth faster than the in-memory
        # engine, which writes every stage's columns out for all rows. Both keep the row order.
        return lf.select(list(keep)).collect(engine="streaming").to_arrow()


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


def engine_named(name: str, memo: dict[Any, Any] | None = None) -> LocalEngine:
    """The embedded engine `name`; `memo` (the knowledge base's) keeps what it builds from a plan."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "polars":
        return PolarsEngine(memo)
    raise ValueError(f"unknown local engine {name!r}")


@functools.lru_cache(maxsize=256)
def _byte_tables(names: tuple[str, ...]) -> list[list[str]]:
    """For each byte of a word, the joined ids of each of its 256 values (bit 0 of byte k is `names[8k]`)."""
    tables = []
    for k in range(0, len(names), 8):
        chunk = names[k : k + 8]
        tables.append([" ".join(n for j, n in enumerate(chunk) if value >> j & 1) for value in range(256)])
    return tables


def _named(word: int, tables: list[list[str]]) -> str:
    """The ids of the set bits of one word, lowest bit first, a byte at a time."""
    out = []
    k = 0
    while word:
        part = tables[k][word & 255]
        if part:
            out.append(part)
        word >>= 8
        k += 1
    return " ".join(out)


def _texts(reps: list[pa.Array], labels: tuple[tuple[str, ...], ...]) -> pa.Array:
    """The joined ids of each representative row, one word position at a time (few distinct words each).

    A word's fragment needs a leading space exactly when an earlier word of the row is not empty, so each
    word position has two fragment tables (without, with) and the rows pick theirs; the parts are then
    simply concatenated. (Trimming a leading space afterwards copied every text once more: about 0.4 s a
    million rows. binary_join_element_wise with null_handling="skip" would be the obvious tool, but in
    pyarrow 26 it drops rows whose parts are all null.)"""
    parts = []
    earlier: pa.Array | None = None  # some earlier word of the row is not empty
    for words, names in zip(reps, labels, strict=True):
        words = pc.cast(words, pa.int64())
        encoded = pc.dictionary_encode(words)
        tables = _byte_tables(names)
        fragments = [_named(w, tables) for w in encoded.dictionary.to_pylist()]
        if earlier is None:
            parts.append(pc.take(pa.array(fragments, pa.string()), encoded.indices))
            earlier = pc.not_equal(words, 0)
            continue
        spaced = pa.array(fragments + [" " + f if f else "" for f in fragments], pa.string())
        indices = pc.if_else(earlier, pc.add(encoded.indices, len(fragments)), encoded.indices)
        parts.append(pc.take(spaced, indices))
        earlier = pc.or_(earlier, pc.not_equal(words, 0))
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")


@functools.lru_cache(maxsize=16)
def _decoding(coded: tuple[Packed, ...]) -> tuple[list[Any], list[Any]]:
    """The Polars expressions of `_decoded` (building them takes longer than running them)."""
    import polars as pl

    from rectoplan.compile.collect import packed_word
    from rectoplan.compile.polars_expr import expr

    codes = [
        ((pl.col(f"_w{w}") // (1 << shift)) % (1 << width)).cast(pl.Int8).alias(column)
        for column, w, shift, width in coded[0].fields
    ]
    exprs = []
    for p in coded:
        for k in range(0, len(p.tests), WORD_BITS):
            tests = [ir.Cmp("=", ir.Col(column), ir.small(value)) for column, value in p.tests[k : k + WORD_BITS]]
            exprs.append(expr(packed_word(tests)).alias(f"{p.name}/{k}"))
    return codes, exprs


def _decoded(words: list[pa.Array], coded: Sequence[Packed]) -> dict[str, list[pa.Array]]:
    """The bit words of coded outputs (sharing `words`), from the packed codes of the representative rows.

    The codes are unpacked once, and each output's words are printed from the same `packed_word`
    expressions as any other output's (label i set where its code column holds its value), all in one
    Polars pass over the few representative rows."""
    import polars as pl

    codes, exprs = _decoding(tuple(coded))
    frame = pl.DataFrame({f"_w{k}": w for k, w in enumerate(words)})
    result = frame.lazy().with_columns(codes).select(exprs).collect()
    return {p.name: [result[f"{p.name}/{k}"].to_arrow() for k in range(0, len(p.tests), WORD_BITS)] for p in coded}


def _same(reps: pa.Array, indices: pa.Array, words: pa.Array) -> bool:
    """Whether every row's word equals the word of its key's representative."""
    return bool(pc.all(pc.fill_null(pc.equal(pc.take(reps, indices), words), False)).as_py())


def _grouped(words: list[pa.Array], key: pa.Array | None) -> tuple[pa.Array, list[pa.Array]]:
    """(for each row the number of its group, the words of each group's first row), exactly.

    With several words the key is a 64-bit hash of them. Every row's words are then compared with those
    of its key's first row (exactly, column by column); on a hash collision every row is its own group, so
    results never depend on luck."""
    import polars as pl

    by = key if key is not None else words[0]
    encoded = pc.dictionary_encode(by)
    firsts = pl.Series(by).arg_unique().to_arrow()  # in order of first appearance, as the dictionary
    reps = [w.take(firsts) for w in words]
    if key is None or all(_same(rep, encoded.indices, w) for rep, w in zip(reps, words, strict=True)):
        return encoded.indices, reps
    return pa.array(range(len(words[0])), pa.int32()), words


def assemble(table: pa.Table, packed: Sequence[Packed]) -> dict[str, pa.Array]:
    """Result texts from the packed words: made once per distinct word combination, as dictionary arrays.

    A coded output's words are worked out for each distinct combination of codes, then grouped again by
    their own values (many code combinations share one list of options), so its texts too are made once per
    distinct text."""
    import polars as pl

    out: dict[str, pa.Array] = {}
    cache: dict[tuple[str, ...], tuple[pa.Array, list[pa.Array]]] = {}
    decoded: dict[str, list[pa.Array]] = {}
    for p in packed:
        if not p.words:
            out[p.name] = pa.DictionaryArray.from_arrays(
                pa.nulls(table.num_rows, pa.int32()).fill_null(0), pa.array([""])
            )
            continue
        if p.words not in cache:
            key = table.column(p.key).combine_chunks() if p.key else None
            cache[p.words] = _grouped([table.column(w).combine_chunks() for w in p.words], key)
        indices, reps = cache[p.words]
        if p.tests:
            if p.name not in decoded:
                decoded.update(_decoded(reps, [q for q in packed if q.tests and q.words == p.words]))
            words = decoded[p.name]
            own = (
                pl.DataFrame({str(k): w for k, w in enumerate(words)}).hash_rows().to_arrow()
                if len(words) > 1
                else None
            )
            groups, reps = _grouped(words, own)
            indices = pc.take(groups, indices)
        out[p.name] = pa.DictionaryArray.from_arrays(pc.cast(indices, pa.int32()), _texts(reps, p.labels))
    return out
