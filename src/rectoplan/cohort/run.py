"""Run the knowledge base over a cohort: read, validate, evaluate column-wise, collect error rows.

One path for the embedded engines (Polars by default, DuckDB), one for Spark (`cohort.spark_run`) and the
per-case reference (`python`), all producing the same result table. Rows the column-wise validator cannot
vouch for go through the edge validator in Python: rejected ones become error rows with its messages,
accepted ones are re-read in canonical form. Rows in = rows out + error rows is checked, not hoped for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.cohort.cache import local_plan
from rectoplan.cohort.columns import validate_row
from rectoplan.cohort.readers import (
    ROW,
    Cohort,
    ErrorRow,
    canonical_table,
    plain_texts,
    raw_types,
    read_cohort,
    restore_values,
)
from rectoplan.compile.plan import RESULT_COLUMNS
from rectoplan.core.case import Case
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase

ENGINES = ("polars", "duckdb", "spark", "python")
DEFAULT_ENGINE = "polars"
Progress = Callable[[str, float], None]  # (phase description, fraction done 0..1)


@dataclass
class CohortResult:
    """The result table (one row per valid case, input order), the error rows and how long each step took."""

    kb: KnowledgeBase
    engine: str
    format: str
    records: int
    results: pa.Table | None  # None when a cluster engine wrote them itself
    errors: list[ErrorRow]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[ErrorRow] = field(default_factory=list)
    source: str = ""
    evaluated: int = -1
    counts: dict[str, list[tuple[str | None, int]]] | None = None  # for the report, when results is None

    def __post_init__(self) -> None:
        if self.evaluated < 0 and self.results is not None:
            self.evaluated = self.results.num_rows

    def check_counts(self) -> None:
        if self.evaluated + len(self.errors) != self.records:
            raise AssertionError(
                f"rows in ({self.records}) != rows out ({self.evaluated}) + error rows ({len(self.errors)})"
            )


class Clock:
    """Times the phases of a cohort run (and reports progress); shared by the embedded and Spark runs."""

    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress

    @contextmanager
    def phase(self, name: str, done: float) -> Iterator[None]:
        if self.progress:
            self.progress(name, done)
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


RESULT_SCHEMA = pa.schema(
    [("row", pa.int64()), ("id", pa.string()), *((c, pa.dictionary(pa.int32(), pa.string())) for c in RESULT_COLUMNS)]
)


def conform(table: pa.Table) -> pa.Table:
    """The one schema of a result table, whichever engine made it (result texts dictionary-encoded)."""
    return _conformed({f.name: table.column(f.name) for f in RESULT_SCHEMA})


def _conform_columns(columns: dict[str, Any]) -> dict[str, pa.Array]:
    """Each of `columns` (result columns by name) in its type of `RESULT_SCHEMA`."""
    out = {}
    for name, column in columns.items():
        f = RESULT_SCHEMA.field(name)
        col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_dictionary(f.type):
            if not pa.types.is_dictionary(col.type):
                col = pc.dictionary_encode(pc.cast(col, pa.string()))
            col = pa.DictionaryArray.from_arrays(pc.cast(col.indices, pa.int32()), pc.cast(col.dictionary, pa.string()))
        else:
            if pa.types.is_dictionary(col.type):
                col = col.dictionary_decode()
            col = pc.cast(col, f.type)
        out[name] = col
    return out


def _conformed(columns: dict[str, Any]) -> pa.Table:
    """The result table of `columns`, each in its type of `RESULT_SCHEMA`, in the schema's order."""
    done = _conform_columns(columns)
    return pa.Table.from_arrays([done[f.name] for f in RESULT_SCHEMA], schema=RESULT_SCHEMA)


def _error_id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, (str, int)) else None


def _valid_cases(table: pa.Table, kb: KnowledgeBase, errors: list[ErrorRow]) -> Iterator[tuple[int, Case]]:
    """(row number, case) for each row of `table` the edge validator accepts; an error row for each other."""
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    for raw in table.to_pylist():
        number = raw.pop(ROW)
        data = restore_values(raw)
        try:
            case = validate_row(data, drugs, procedures)
        except CaseError as exc:
            errors.append(ErrorRow(number, _error_id(data.get("id")), tuple(exc.messages())))
            continue
        yield number, case


def validate_rows(table: pa.Table, kb: KnowledgeBase) -> tuple[pa.Table, list[ErrorRow]]:
    """The edge validator on each row of `table`: canonical rows of the valid ones, error rows of the rest."""
    from rectoplan.cohort.columns import flatten

    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    for number, case in _valid_cases(table, kb, errors):
        rows.append(flatten(case))
        numbers.append(number)
    return canonical_table(rows, numbers), errors


BLOCK_ROWS = 100_000  # below this many rows a table is worked on in one piece


def blocks_for(rows: int) -> int:
    """How many row blocks to work on at once: one per core, for tables large enough to be worth it."""
    return max(1, min(os.cpu_count() or 1, rows // BLOCK_ROWS))


def _pieces(table: pa.Table, count: int) -> list[pa.Table]:
    size = max(1, -(-table.num_rows // count))
    return [table.slice(start, size) for start in range(0, table.num_rows, size)] or [table]


def evaluate_local(
    table: pa.Table,
    kb: KnowledgeBase,
    engine_name: str,
    clock: Clock | None = None,
    fast_lists: bool = True,
    blocks: int | None = None,
) -> tuple[pa.Table, list[ErrorRow]]:
    """Result rows and error rows of a flattened table, with an embedded engine (`fast_lists`: list
    columns by Arrow kernels when they are native; False keeps the compiled list folds, for tests).

    The rules run as one engine query over the whole table: Polars (and DuckDB) spread it over every core
    themselves, and one query of a million rows took 0.27 s where two concurrent half-size queries took
    0.44 s. What runs on one core per call works on threads at once: the Arrow kernels of the list stage
    on `blocks` row blocks, the grouping of rows by their result words one result list per thread (each
    over the whole table, so each distinct outcome is one group and its text one dictionary entry)."""
    from rectoplan.cohort.local import assemble, engine_named, group_all

    clock = clock or Clock(None)
    count = blocks if blocks is not None else blocks_for(table.num_rows)
    plan = local_plan(kb)  # built once, before any thread needs it
    packed = plan.packed
    with ThreadPoolExecutor(max(1, count)) as pool:
        evaluated, errors, by_reference = _evaluate(table, kb, engine_name, clock, fast_lists, pool, count)
        with clock.phase("group rows by their result words", 0.6):
            keyed = plan.keys_for(engine_name)
            groups = group_all(evaluated, plan, engine_named(engine_name, plan.exprs), pool, keyed)
    with clock.phase("collect results per distinct outcome", 0.7), ThreadPoolExecutor(1) as side:
        # The columns that need no texts are put in their final types meanwhile, on a thread of their own.
        given = {"row": evaluated.column(ROW), "id": evaluated.column("n_id")}
        given.update({name: evaluated.column(name) for name in local_plan(kb).plain})
        conformed = side.submit(_conform_columns, given)
        columns = assemble(groups, packed, evaluated.num_rows)
        results = _conformed({**columns, **conformed.result()})
        if by_reference is not None:
            results = pa.concat_tables([results, by_reference]).combine_chunks()
            results = results.take(pc.sort_indices(results, [("row", "ascending")]))
    return results, errors


def _prepare(kb: KnowledgeBase, engine_name: str) -> None:
    """Build the compiled plan and its Polars expressions (DuckDB plans from SQL text: nothing to build)
    ahead of the data, both kept (`cohort.cache`): about 0.2 s of the first run in a process."""
    from rectoplan.cohort.local import PolarsEngine

    plan = local_plan(kb)
    if engine_name == "polars":
        PolarsEngine(plan.exprs).prepare(plan.stages)


def _evaluate(
    table: pa.Table,
    kb: KnowledgeBase,
    engine_name: str,
    clock: Clock,
    fast_lists: bool,
    pool: ThreadPoolExecutor,
    count: int,
) -> tuple[pa.Table, list[ErrorRow], pa.Table | None]:
    """(the result words of the rows the plan decides, in row order; error rows; results of the rows only
    the per-case reference can decide, or None)."""
    from rectoplan.cohort.local import engine_named
    from rectoplan.compile import arrow_lists
    from rectoplan.compile.case_columns import LIST_COLUMNS

    plan = local_plan(kb)
    engine = engine_named(engine_name, plan.exprs)
    row_stages, row_columns = plan.row_stages(plan.keys_for(engine_name))

    def evaluate(source: pa.Table) -> pa.Table:
        raw = raw_types(source.schema)
        lists, scalars = plan.input_stages(raw)
        # A text id is its own normalized value (`n_id`): it is taken from the input, not carried through
        # the engine (a million texts in and out of it, then cast back: about 0.04 s).
        plain = "id" in source.column_names and source.schema.field("id").type in (pa.string(), pa.large_string())
        ids = source.column("id") if plain else None
        keep = [ROW, *(["n_id"] if ids is None else []), "_clean", *plan.plain, *row_columns]
        if fast_lists and arrow_lists.applicable(raw):  # native lists: Arrow kernels instead of list folds
            stage = arrow_lists.ArrowLists(kb)
            parts = list(pool.map(stage.columns, _pieces(source, count)))
            for name in parts[0]:
                source = source.append_column(name, pa.chunked_array([p[name] for p in parts]))
            # The raw lists are read no further: converting them for the engine cost half its input time.
            source = source.drop_columns([c for c in LIST_COLUMNS if c in source.column_names])
            lists = ()
        else:
            source = plain_texts(source)
        out = _in_row_order(engine.evaluate(source, [lists, scalars, *plan.before, *row_stages], keep))
        return out if ids is None else out.append_column("n_id", _aligned(ids, source.column(ROW), out.column(ROW)))

    with clock.phase("evaluate rules", 0.2):
        evaluated = evaluate(table)
        clean = evaluated.column("_clean").combine_chunks()
        suspect = pc.invert(pc.fill_null(clean, False))
    errors: list[ErrorRow] = []
    by_reference: pa.Table | None = None
    if pc.any(suspect).as_py():
        with clock.phase("validate rows the column-wise checks left to Python", 0.5):
            canonical, errors = validate_rows(table.filter(suspect), kb)
            evaluated = evaluated.filter(clean)
            if canonical.num_rows:
                again = evaluate(canonical)
                fine = pc.fill_null(again.column("_clean"), False)
                evaluated = pa.concat_tables([evaluated, again.filter(fine)], promote_options="permissive")
                evaluated = evaluated.take(pc.sort_indices(evaluated, [(ROW, "ascending")]))
                rest = canonical.filter(pc.invert(fine))
                if rest.num_rows:  # valid, but beyond what the plan reads exactly (e.g. a non-ASCII variant)
                    by_reference, _ = evaluate_python(rest, kb)
    return evaluated, errors, by_reference


def _aligned(values: pa.ChunkedArray, rows: pa.ChunkedArray, order: pa.ChunkedArray) -> pa.ChunkedArray:
    """`values` (one per input row numbered `rows`) in the order of the row numbers `order` (the same
    numbers, each once): as they are when the orders agree, which they do unless an engine reordered."""
    if len(rows) == len(order) and pc.all(pc.equal(rows, order)).as_py() in (True, None):
        return values
    position = pc.index_in(order, value_set=rows.combine_chunks())
    return pc.take(values, position)


def _in_row_order(table: pa.Table) -> pa.Table:
    """`table` in input row order. The engines keep it, but results must never depend on that promise."""
    rows = table.column(ROW).combine_chunks()
    if len(rows) < 2 or pc.all(pc.less(rows[:-1], rows[1:])).as_py():
        return table
    return table.take(pc.sort_indices(rows))


def evaluate_python(table: pa.Table, kb: KnowledgeBase) -> tuple[pa.Table, list[ErrorRow]]:
    """The per-case reference: every row through the edge validator and the engine, one at a time."""
    from rectoplan.cohort.reference import evaluate

    out: dict[str, list[Any]] = {"row": [], "id": [], **{c: [] for c in RESULT_COLUMNS}}
    errors: list[ErrorRow] = []
    for number, case in _valid_cases(table, kb, errors):
        out["row"].append(number)
        out["id"].append(case.id)
        for name, value in evaluate(case, kb).items():
            out[name].append(value)
    schema = pa.schema([("row", pa.int64()), ("id", pa.string()), *((c, pa.string()) for c in RESULT_COLUMNS)])
    return conform(pa.table(out, schema=schema)), errors


def run_cohort(
    path: Path,
    kb: KnowledgeBase,
    engine: str = DEFAULT_ENGINE,
    progress: Progress | None = None,
    ignore_unknown_columns: bool = False,
    spark: Any = None,
    outdir: Path | None = None,
) -> CohortResult:
    """Read `path` and evaluate every case with `engine`; see docs/cohort.md."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    clock = Clock(progress)
    if engine == "spark":
        from rectoplan.cohort.spark_run import run_spark

        return run_spark(path, kb, clock, ignore_unknown_columns, spark, outdir)
    with clock.phase("read input", 0.0), ThreadPoolExecutor(1) as side:
        # The plan's engine expressions are built meanwhile (reading leaves the interpreter free).
        prepared = side.submit(_prepare, kb, engine) if engine != "python" else None
        cohort: Cohort = read_cohort(path, kb, ignore_unknown_columns)
        if prepared is not None:
            prepared.result()
    if engine == "python":
        with clock.phase("evaluate case by case", 0.2):
            results, errors = evaluate_python(cohort.table, kb)
    else:
        results, errors = evaluate_local(cohort.table, kb, engine, clock)
    errors = sorted([*cohort.errors, *errors], key=lambda e: e.row)
    result = CohortResult(
        kb, engine, cohort.format, cohort.records, results, errors, clock.timings, cohort.warnings, str(path)
    )
    result.check_counts()
    if progress:
        progress("done", 1.0)
    return result
