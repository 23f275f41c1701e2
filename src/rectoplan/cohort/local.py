"""The embedded engines: run compiled stages over an Arrow table with Polars (default) or DuckDB.

Both receive the same plan; only the printer differs (`compile.polars_expr`, `compile.duckdb_sql`). The
plan leaves each result list as integer words per row; `group_rows` groups the rows by those words exactly,
and `assemble` works out each list's items and builds its text once per distinct group (joined ids),
broadcast back as dictionary-encoded columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.cohort.cache import BoundedCache, IdentityCache, LocalPlan, Lookups
from rectoplan.compile import ir
from rectoplan.compile.collect import Keyed, Packed

Stage = Sequence[tuple[str, ir.Expr]]


class LocalEngine(Protocol):
    name: str

    def evaluate(self, table: pa.Table, stages: Sequence[Stage], keep: Sequence[str]) -> pa.Table:
        """Add each stage's columns in turn; return the `keep` columns."""
        ...


class PolarsEngine:
    name = "polars"

    def __init__(self, exprs: IdentityCache[Stage, list[Any]] | None = None) -> None:
        self.exprs: IdentityCache[Stage, list[Any]] = exprs if exprs is not None else IdentityCache(64)

    def _exprs(self, stage: Stage) -> list[Any]:
        """The stage as Polars expressions (building them costs ~0.1 s a plan): kept per stage object, in
        the plan's cache when the caller gives it (`cohort.cache.LocalPlan.exprs`)."""
        from rectoplan.compile.polars_expr import stage_exprs

        return self.exprs.get(stage, lambda: stage_exprs(stage))

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


def engine_named(name: str, exprs: IdentityCache[Stage, list[Any]] | None = None) -> LocalEngine:
    """The embedded engine `name`; `exprs` (the plan's) keeps the Polars expressions it builds from stages."""
    if name == "duckdb":
        return DuckDBEngine()
    if name == "polars":
        return PolarsEngine(exprs)
    raise ValueError(f"unknown local engine {name!r}")


# The byte tables of each word's labels: the same few dozen label tuples in every run of a process.
_BYTE_TABLES: BoundedCache[tuple[str, ...], list[pa.Array]] = BoundedCache(256)


def _byte_tables(names: tuple[str, ...]) -> list[pa.Array]:
    """For each byte of a word, the joined ids of each of its 256 values (bit 0 of byte k is `names[8k]`)."""
    return _BYTE_TABLES.get(names, lambda: _build_byte_tables(names))


def _build_byte_tables(names: tuple[str, ...]) -> list[pa.Array]:
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


def group_rows(
    table: pa.Table, packed: Sequence[Packed], map_: Callable[..., Iterable[Grouping]] = map
) -> dict[tuple[str, ...], Grouping]:
    """The rows of `table` grouped by the words of each result list (lists that share words share a
    grouping), each grouping on its own thread with `map_` (a thread pool's `map`). Every grouping
    covers the whole table, so each distinct combination of words is one group, and its text one
    dictionary entry."""
    families = [w for w in dict.fromkeys(p.words for p in packed) if w]
    done = map_(lambda words: group_exactly([table.column(w).combine_chunks() for w in words]), families)
    return dict(zip(families, done, strict=True))


def group_all(
    table: pa.Table, plan: LocalPlan, engine: LocalEngine, pool: Any, keyed: bool = True
) -> dict[tuple[str, ...], Grouping]:
    """The rows of `table` grouped by the words of each result list: with `keyed`, the lists the option
    codes decide by their codes (`group_by_codes`, on a thread of `pool`, a `ThreadPoolExecutor`), the
    others by their words (`group_rows`, on the pool's threads meanwhile); without, every list by its words."""
    decided = set(plan.keyed.words) if plan.keyed and keyed else set()
    by_codes = [p for p in plan.packed if p.words and set(p.words) <= decided]
    coded = (
        pool.submit(group_by_codes, table, plan.keyed, by_codes, engine, plan.tables)
        if plan.keyed and by_codes
        else None
    )
    groups = group_rows(table, [p for p in plan.packed if p not in by_codes], pool.map)
    if coded is not None:
        groups.update(coded.result())
    return groups


def group_by_codes(
    table: pa.Table, keyed: Keyed, packed: Sequence[Packed], engine: LocalEngine, tables: Lookups | None = None
) -> dict[tuple[str, ...], Grouping]:
    """The rows grouped by the words of `packed` (lists that the option codes alone decide), exactly, from
    the rows' key words: rows are grouped by their codes, the words are worked out once per distinct
    combination of codes (by look-ups with `tables`, `collect.code_tables`, else an engine query over
    those few rows), and the combinations are grouped by their words. A row's group is its combination's
    group."""
    indices, reps = group_exactly([table.column(k).combine_chunks() for k, _ in keyed.keys])
    codes = _codes_of(reps, keyed)
    if tables is not None:
        words = keyed_words(codes, keyed, tables)
    else:
        words = engine.evaluate(codes, [keyed.stage], [GROUP, *keyed.words])
        groups = words.column(GROUP).combine_chunks()
        if len(groups) > 1 and not pc.all(pc.less(groups[:-1], groups[1:])).as_py():
            words = words.take(pc.sort_indices(groups))  # engines keep the row order; never rely on it
    out: dict[tuple[str, ...], Grouping] = {}
    for family in dict.fromkeys(p.words for p in packed):
        at, family_reps = group_exactly([words.column(w).combine_chunks() for w in family])
        out[family] = (pc.take(at, indices), family_reps)
    return out


GROUP = "_group"  # the number of a combination of codes, in the query over the combinations


def keyed_words(codes: pa.Table, keyed: Keyed, tables: Lookups) -> pa.Table:
    """The words of `keyed` for each combination of codes (a row of `codes`), from `tables`: each word is
    the OR, over the code columns it reads, of the bits that column's value sets (numpy look-ups, a few
    hundred over some 41,000 combinations: about a third of the time of the same words as a Polars query,
    most of which was planning it)."""
    import numpy as np

    columns = {name: codes.column(name).to_numpy().astype(np.intp) for name in codes.column_names if name != GROUP}
    out: dict[str, pa.Array] = {GROUP: codes.column(GROUP)}
    for (name, _), word in zip(keyed.stage, tables, strict=True):
        acc = np.zeros(codes.num_rows, np.int64)
        for column, bits in word:
            acc |= bits[columns[column]]
        out[name] = pa.array(acc)
    return pa.table(out)


def _codes_of(reps: Sequence[pa.Array], keyed: Keyed) -> pa.Table:
    """The code columns of each distinct combination, read back from their bits in its key words."""
    import numpy as np

    columns: dict[str, pa.Array] = {}
    for word, layout in zip(reps, keyed.layout(), strict=True):
        values = word.to_numpy().astype(np.int64, copy=False)
        for name, offset, bits in layout:
            columns[name] = pa.array(((values >> offset) & ((1 << bits) - 1)).astype(np.int8))
    columns[GROUP] = pa.array(np.arange(len(reps[0]) if reps else 0, dtype=np.int64))
    return pa.table(columns)


def _family(words: tuple[str, ...], grouping: Grouping, packed: Sequence[Packed], rows: int) -> dict[str, pa.Array]:
    """The texts of the outputs that share `words` (ranked options and their settings)."""
    family = [p for p in packed if p.words == words]
    if not words:
        empty = pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int32()).fill_null(0), pa.array([""]))
        return {p.name: empty for p in family}
    indices, reps = grouping
    at = pc.cast(indices, pa.int32())
    return {p.name: _dictionary(at, _texts(reps, p.labels), p.labels) for p in family}


def _dictionary(at: pa.Array, texts: pa.Array, labels: tuple[tuple[str, ...], ...]) -> pa.DictionaryArray:
    """The texts of the groups as a dictionary column with each text once. Distinct words give distinct
    texts unless an id labels several items: the ranked options list an option once per setting (their
    order is the rank order of the pairs), so two groups that differ only in an option's setting give
    one list of options, whose texts are then encoded once more."""
    flat = [label for chunk in labels for label in chunk]
    if len(set(flat)) < len(flat):
        encoded = pc.dictionary_encode(texts)
        at, texts = pc.take(encoded.indices, at), encoded.dictionary
    return pa.DictionaryArray.from_arrays(at, texts)


def assemble(groups: dict[tuple[str, ...], Grouping], packed: Sequence[Packed], rows: int) -> dict[str, pa.Array]:
    """Result texts from the grouped words: made once per distinct word combination, as dictionary arrays.

    Outputs with different words are assembled on two threads at once (Arrow releases the interpreter
    while it works)."""
    from concurrent.futures import ThreadPoolExecutor

    families = list(dict.fromkeys(p.words for p in packed))
    empty: Grouping = (pa.array([], pa.int32()), [])
    with ThreadPoolExecutor(2) as pool:
        done = pool.map(lambda w: _family(w, groups.get(w, empty), packed, rows), families)
        out = {name: texts for part in done for name, texts in part.items()}
    return {p.name: out[p.name] for p in packed}
