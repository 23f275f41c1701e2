"""The embedded engines: run compiled stages over an Arrow table with Polars (default) or DuckDB.

Both receive the same plan; only the printer differs (`compile.polars_expr`, `compile.duckdb_sql`). The
plan leaves each result list as integer words per row; `group_rows` and `merge_groupings` group the rows by
those words exactly, and `assemble` works out each list's items and builds its text once per distinct group
(joined ids), broadcast back as dictionary-encoded columns.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.compile import ir
from rectoplan.compile.collect import Packed, Test
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

    def prepare(self, stages: Sequence[Stage]) -> None:
        """Build the stages' Polars expressions now (they are kept), off the path of the first evaluation."""
        for stage in stages:
            self._exprs(stage)

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
def _byte_tables(names: tuple[str, ...]) -> list[pa.Array]:
    """For each byte of a word, the joined ids of each of its 256 values (bit 0 of byte k is `names[8k]`)."""
    tables = []
    for k in range(0, len(names), 8):
        chunk = names[k : k + 8]
        tables.append(pa.array([" ".join(n for j, n in enumerate(chunk) if value >> j & 1) for value in range(256)]))
    return tables


Piece = tuple[pa.Array, pa.Array, pa.Array]  # (fragments, each row's index into them, whether it is non-empty)


def _joined(pieces: Sequence[Piece]) -> pa.Array:
    """Per row, its non-empty fragments joined by single spaces.

    A fragment needs a leading space exactly when an earlier piece of the row is not empty, so each piece
    has two fragment tables (without, with) and the rows pick theirs; the parts are then simply
    concatenated. (Trimming a leading space afterwards copied every text once more: about 0.4 s a
    million rows. binary_join_element_wise with null_handling="skip" would be the obvious tool, but in
    pyarrow 26 it drops rows whose parts are all null.)"""
    parts = []
    earlier: pa.Array | None = None  # some earlier piece of the row is not empty
    for fragments, index, nonempty in pieces:
        if earlier is None:
            parts.append(pc.take(fragments, index))
            earlier = nonempty
            continue
        spaced = pa.concat_arrays([fragments, pc.binary_join_element_wise(" ", fragments, "")])
        index = pc.if_else(pc.and_(earlier, nonempty), pc.add(index, len(fragments)), index)
        parts.append(pc.take(spaced, index))
        earlier = pc.or_(earlier, nonempty)
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")


def _fragments(words: pa.Array, names: tuple[str, ...]) -> pa.Array:
    """The joined ids of the set bits of each word, lowest bit first: a byte at a time, from the byte's
    256-entry table (Arrow kernels over all words at once, no Python loop per word)."""
    pieces = []
    for k, table in enumerate(_byte_tables(names)):
        byte = pc.bit_wise_and(pc.shift_right(words, 8 * k), 255)
        pieces.append((table, byte, pc.not_equal(byte, 0)))
    return _joined(pieces)


def _texts(reps: list[pa.Array], labels: tuple[tuple[str, ...], ...]) -> pa.Array:
    """The joined ids of each representative row: each word position's distinct words are named once,
    then the rows' fragments are joined."""
    pieces = []
    for words, names in zip(reps, labels, strict=True):
        words = pc.cast(words, pa.int64())
        encoded = pc.dictionary_encode(words)
        pieces.append((_fragments(encoded.dictionary, names), encoded.indices, pc.not_equal(words, 0)))
    return _joined(pieces)


@functools.lru_cache(maxsize=16)
def _decoding(coded: tuple[Packed, ...]) -> list[Any]:
    """The Polars expressions of `_decoded` (building them takes longer than running them).

    A test `column = value` reads the column's field in place: `word AND mask = value << shift`. (Unpacking
    each field first, by division and remainder, took most of the time.)"""
    from rectoplan.compile.collect import packed_word
    from rectoplan.compile.polars_expr import expr

    where = {column: (w, shift, width) for column, w, shift, width in coded[0].fields}

    def holds(column: str, value: int) -> ir.Expr:
        w, shift, width = where[column]
        field = ir.BitAnd(ir.Col(f"_w{w}"), ir.integer(((1 << width) - 1) << shift))
        return ir.Cmp("=", field, ir.integer(value << shift))

    exprs = []
    for i, tests in enumerate(dict.fromkeys(p.tests for p in coded)):  # ranked options and settings share theirs
        for k in range(0, len(tests), WORD_BITS):
            conds = [ir.all_of(*(holds(c, v) for c, v in test)) for test in tests[k : k + WORD_BITS]]
            exprs.append(expr(packed_word(conds)).alias(f"{i}/{k}"))
    return exprs


def _decoded(words: list[pa.Array], coded: Sequence[Packed]) -> dict[str, list[pa.Array]]:
    """The bit words of coded outputs (sharing `words`), from the packed fields of the representative rows.

    Each output's words are printed from the same `packed_word` expressions as any other output's (label i
    set where its fields hold its values), all in one Polars pass over the few representative rows.
    Outputs with the same tests share one list of words."""
    import polars as pl

    frame = pl.DataFrame({f"_w{k}": w for k, w in enumerate(words)})
    result = frame.lazy().select(_decoding(tuple(coded))).collect()
    shared = {
        tests: [result[f"{i}/{k}"].to_arrow() for k in range(0, len(tests), WORD_BITS)]
        for i, tests in enumerate(dict.fromkeys(p.tests for p in coded))
    }
    return {p.name: shared[p.tests] for p in coded}


Grouping = tuple[pa.Array, list[pa.Array]]  # (the group of each row, the words of each group)


def group_exactly(words: Sequence[pa.Array]) -> Grouping:
    """Rows grouped by their words, exactly: Arrow's hash table compares the values themselves, so no
    two different word combinations can ever share a group (and a text). Several words are laid side by
    side as one fixed-size binary value per row."""
    import numpy as np

    for w in words:
        if w.null_count:  # the plan's words are sums of definite flags and codes
            raise ValueError("a result word is null; the compiled plan never makes one")
    if len(words) == 1:
        encoded = pc.dictionary_encode(words[0])
        return encoded.indices, [encoded.dictionary]
    rows = len(words[0])
    side_by_side = np.empty((rows, len(words)), np.int64)
    for k, w in enumerate(words):
        side_by_side[:, k] = pc.cast(w, pa.int64()).to_numpy()
    binary = pa.FixedSizeBinaryArray.from_buffers(pa.binary(8 * len(words)), rows, [None, pa.py_buffer(side_by_side)])
    encoded = pc.dictionary_encode(binary)
    groups = encoded.dictionary
    firsts = np.frombuffer(groups.buffers()[1], np.int64, len(groups) * len(words), groups.offset * 8 * len(words))
    firsts = firsts.reshape(len(groups), len(words))
    return encoded.indices, [pa.array(firsts[:, k]) for k in range(len(words))]


def merge_groupings(parts: Sequence[Grouping]) -> Grouping:
    """The grouping of row blocks put end to end, from each block's own grouping (their groups grouped).

    When most rows are groups of their own, the blocks' groups are simply put end to end: grouping them
    again would cost as much as grouping the rows, to save work on the few groups found in two blocks (a
    coded output's texts are grouped by their own values later; others may hold such a text twice)."""
    if len(parts) == 1:
        return parts[0]
    reps = [pa.concat_arrays([p[1][k] for p in parts]) for k in range(len(parts[0][1]))]
    if 2 * len(reps[0]) > sum(len(p[0]) for p in parts):
        import numpy as np

        group = pa.array(np.arange(len(reps[0]), dtype=np.int32))
        merged = reps
    else:
        group, merged = group_exactly(reps)
    indices, start = [], 0
    for block, block_reps in parts:
        indices.append(pc.take(group.slice(start, len(block_reps[0])), block))
        start += len(block_reps[0])
    return pa.concat_arrays(indices), merged


def _roots(packed: Sequence[Packed]) -> list[tuple[str, ...]]:
    """The word combinations rows are grouped by: each one not part of a larger one (those are grouped
    from its groups, which are few)."""
    distinct = list(dict.fromkeys(p.words for p in packed if p.words))
    return [w for w in distinct if not any(set(w) < set(o) for o in distinct)]


def group_rows(table: pa.Table, packed: Sequence[Packed]) -> dict[tuple[str, ...], Grouping]:
    """The rows of `table` grouped by each root word combination of `packed` (run per row block)."""
    return {words: group_exactly([table.column(w).combine_chunks() for w in words]) for words in _roots(packed)}


def _grouping(words: tuple[str, ...], groups: dict[tuple[str, ...], Grouping]) -> Grouping:
    if words not in groups:  # part of a root: its groups grouped again by these words
        root = next(r for r in groups if set(words) < set(r))
        indices, reps = groups[root]
        group, own = group_exactly([reps[root.index(w)] for w in words])
        groups[words] = pc.take(group, indices), own
    return groups[words]


def _coded(packed: Sequence[Packed], words: tuple[str, ...]) -> list[Packed]:
    """The coded outputs that share `words` (decoded together)."""
    return [p for p in packed if p.words == words and p.tests]


def prepare(packed: Sequence[Packed]) -> None:
    """Build the decoding expressions of every coded output now (they are kept), for instance while the
    input is read, rather than on the path of the first run's assembly."""
    for words in dict.fromkeys(p.words for p in packed if p.tests):
        _decoding(tuple(_coded(packed, words)))


def _family(words: tuple[str, ...], grouping: Grouping, packed: Sequence[Packed], rows: int) -> dict[str, pa.Array]:
    """The texts of the outputs that share `words`."""
    out: dict[str, pa.Array] = {}
    family = [p for p in packed if p.words == words]
    if not words:
        empty = pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()).fill_null(0), pa.array([""]))
        return {p.name: empty for p in family}
    indices, reps = grouping
    coded = _coded(packed, words)
    decoded = _decoded(reps, coded) if coded else {}
    regrouped: dict[tuple[Test, ...], Grouping] = {}  # outputs with the same tests share one grouping
    for p in family:
        at, texts_of = indices, reps
        if p.tests:
            if p.tests not in regrouped:
                own, own_reps = group_exactly(decoded[p.name])
                regrouped[p.tests] = pc.take(own, indices), own_reps
            at, texts_of = regrouped[p.tests]
        out[p.name] = pa.DictionaryArray.from_arrays(pc.cast(at, pa.int32()), _texts(texts_of, p.labels))
    return out


def assemble(groups: dict[tuple[str, ...], Grouping], packed: Sequence[Packed], rows: int) -> dict[str, pa.Array]:
    """Result texts from the grouped words: made once per distinct word combination, as dictionary arrays.

    A coded output's words are worked out for each distinct combination of fields, then grouped again by
    their own values (many field combinations share one list of options), so its texts too are made once
    per distinct text. Outputs with different words are assembled on two threads at once (Arrow and Polars
    release the interpreter while they work)."""
    from concurrent.futures import ThreadPoolExecutor

    groups = dict(groups)
    families = list(dict.fromkeys(p.words for p in packed))
    for words in families:
        if words:
            _grouping(words, groups)
    empty: Grouping = (pa.array([], pa.int32()), [])
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda w: _family(w, groups.get(w, empty), packed, rows), families)
        out = {name: texts for part in done for name, texts in part.items()}
    return {p.name: out[p.name] for p in packed}
