"""Cohort inputs to one Arrow table of flattened columns, whatever the file format.

CSV, Parquet and JSON lines of flattened rows are read column-wise (pyarrow); a JSON lines file of
contract 1 objects and a FHIR bulk-export folder are read case by case (each object through the edge
validator, each patient's resources through the FHIR importer) into canonical rows. Every record gets its
1-based `_row`; a record that cannot even be read (a malformed JSON line, a patient the FHIR importer
rejects) becomes an error row at once, so rows in = rows out + error rows holds from the first step.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rectoplan.cohort.columns import BY_NAME, COLUMNS
from rectoplan.compile.case_columns import RawType
from rectoplan.core.errors import Problem, RectoplanError
from rectoplan.core.knowledge import KnowledgeBase

ROW = "_row"
CONTRACT_KEYS = frozenset({"format", "primary", "local_recurrence", "metastases", "biomarkers", "prior", "health"})
# `progressed_on` (the drugs a line progressed on, when not all of its agents) is filled only for progression
# during maintenance; the column-wise checks leave such rows to the per-case engine (cohort.run).
LINES_TYPE = pa.list_(
    pa.struct(
        [("agents", pa.list_(pa.string())), ("stopped_for", pa.string()), ("progressed_on", pa.list_(pa.string()))]
    )
)
_ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "staged": pa.bool_(),
    "enum": pa.string(),
    "text": pa.string(),
    "enum_list": pa.list_(pa.string()),
    "id_list": pa.list_(pa.string()),
    "lines": LINES_TYPE,
    "raw": pa.string(),
}


class InputError(RectoplanError):
    """The input as a whole cannot be read (no such file, unknown format, unknown columns)."""


NO_ID: Final = Problem("column 'id'", "no such column", "an id column", "every case needs an id")


@dataclass(frozen=True, slots=True)
class ErrorRow:
    row: int
    id: str | None
    problems: tuple[str, ...]


@dataclass
class Cohort:
    """What was read: flattened rows (`table`, with `_row`), and rows already rejected while reading."""

    table: pa.Table
    format: str
    errors: list[ErrorRow] = field(default_factory=list)
    records: int = 0  # every record read, valid or not
    warnings: list[ErrorRow] = field(default_factory=list)  # read but worth a look (FHIR import issues)


def arrow_type(kind: str) -> pa.DataType:
    return _ARROW_TYPES[kind]


def canonical_table(rows: list[dict[str, Any]], numbers: list[int]) -> pa.Table:
    """Rows of `flatten` output as a table with the canonical (native) column types."""
    cols = {c.name: pa.array([r.get(c.name) for r in rows], type=arrow_type(c.kind)) for c in COLUMNS}
    cols[ROW] = pa.array(numbers, type=pa.int64())
    return pa.table(cols)


def row_numbers(count: int, start: int = 1) -> pa.Array:
    import polars as pl

    return pl.int_range(start, start + count, dtype=pl.Int64, eager=True).to_arrow()


def raw_types(schema: pa.Schema) -> dict[str, RawType]:
    """How each flattened column is stored (decides how the normalization stage reads it)."""
    out = {}
    for f in schema:
        if f.name in BY_NAME:
            out[f.name] = classify(f.type)
    return out


def classify(t: pa.DataType) -> RawType:
    if pa.types.is_dictionary(t):
        return classify(t.value_type)
    if pa.types.is_null(t):
        return RawType("null")
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return RawType("text")
    if pa.types.is_integer(t):
        return RawType("int")
    if pa.types.is_boolean(t):
        return RawType("bool")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        inner = t.value_type
        if classify(inner).kind in ("text", "null"):
            return RawType("text_list")
        if pa.types.is_struct(inner):
            fields = {inner.field(i).name: inner.field(i).type for i in range(inner.num_fields)}
            agents, stop = fields.get("agents"), fields.get("stopped_for")
            if agents is not None and classify(agents).kind != "text_list":
                return RawType("other")
            if stop is not None and classify(stop).kind not in ("text", "null"):
                return RawType("other")
            return RawType("lines", tuple(fields))
    return RawType("other")


def check_columns(names: Iterable[str], ignore_unknown: bool) -> list[Problem]:
    """Unknown column names are an input error (a misspelt column would silently become unknown facts)."""
    if ignore_unknown:
        return []
    problems: list[Problem] = []
    known = [c.name for c in COLUMNS]
    for name in names:
        if name != ROW and name not in BY_NAME:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {near[0]!r}?" if near else ""
            problems.append(
                Problem(f"column {name!r}", "an unknown column", "one of the documented columns (docs/cohort.md)", hint)
            )
    return problems


def read_cohort(path: Path, kb: KnowledgeBase, ignore_unknown: bool = False) -> Cohort:
    """Read any supported input into a `Cohort`."""
    if not path.exists():
        raise InputError(
            [
                Problem(
                    str(path),
                    "no such file or folder",
                    "a CSV, Parquet or JSON lines file or a FHIR bulk-export folder",
                )
            ]
        )
    if path.is_dir():
        from rectoplan.cohort.fhir_bulk import read_fhir_folder

        return read_fhir_folder(path, kb)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        # Enumerations as dictionaries: the engines then compare small codes instead of texts.
        try:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema
            order = schema.to_arrow_schema().names
            empty = _empty_columns(parquet.metadata) if len(set(order)) == len(order) else set()
            enums = [c.name for c in COLUMNS if c.kind == "enum" and c.name in order and c.name not in empty]
            read = [name for name in order if name not in empty]
            table = pq.read_table(path, columns=read, read_dictionary=enums + _list_texts(schema))
            table = _with_empty(table, order, empty)
        except (pa.ArrowException, OSError) as exc:
            message = str(exc).replace("\n", " ")
            raise InputError(
                [Problem(str(path), f"an unreadable Parquet file ({message})", "a Parquet file")]
            ) from None
        return flat_cohort(table, "parquet", ignore_unknown)
    elif suffix in (".csv", ".csv.gz", ".tsv"):
        from rectoplan.cohort.csv_input import read_csv

        table, bad = read_csv(path, "\t" if suffix == ".tsv" else ",")
        return flat_cohort(table, "csv", ignore_unknown, bad)
    elif suffix in (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz"):
        from rectoplan.cohort.json_input import read_json_lines

        return read_json_lines(path, kb, ignore_unknown)
    else:
        raise InputError(
            [
                Problem(
                    str(path),
                    f"a {path.suffix or 'suffix-less'} file",
                    ".csv, .tsv, .parquet, .jsonl / .ndjson or a FHIR bulk-export folder",
                )
            ]
        )


def _empty_columns(metadata: pq.FileMetaData) -> set[str]:
    """The flat columns that hold no value at all, by the file's own statistics: every row group counts
    as many nulls as rows. They are not read but given as columns of nulls (Arrow's null type), which the
    plan reads as absent facts without a per-row check; a registry extract often leaves most of its fields
    unrecorded (the benchmark's registry cohort: 58 of 86 columns, a third of the reading time). A column
    of a row group without a null count is read."""
    if metadata.num_row_groups == 0:
        return set()
    out = set()
    for i in range(metadata.num_columns):
        path = metadata.schema.column(i).path
        if "." in path:  # nested (lists): statistics count leaf values, not rows
            continue
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            stats = group.column(i).statistics
            if stats is None or not stats.has_null_count or stats.null_count != group.num_rows:
                break
        else:
            out.add(path)
    return out


def _with_empty(table: pa.Table, order: Sequence[str], empty: set[str]) -> pa.Table:
    """`table` with each of the `empty` columns as nulls, every column in the file's `order`."""
    if not empty:
        return table
    nulls = pa.nulls(table.num_rows, pa.null())
    columns = [nulls if name in empty else table.column(name) for name in order]
    return pa.Table.from_arrays(columns, names=list(order))


def _list_texts(schema: pq.ParquetSchema) -> list[str]:
    """The texts inside list columns (symptoms, procedures, agents, stop reasons), as Parquet column paths.

    They are read as dictionaries too: a million rows hold some three million agent names but a few dozen
    distinct ones, so reading, coding and grouping them works on small integers instead of texts."""
    out = []
    for i in range(len(schema)):
        column = schema.column(i)
        top = BY_NAME.get(column.path.split(".")[0])
        text = column.physical_type == "BYTE_ARRAY" and column.logical_type.type == "STRING"
        nested = "." in column.path  # a plain text column of a list kind holds JSON texts, as in CSV
        if text and nested and top is not None and top.kind in ("enum_list", "id_list", "lines"):
            out.append(column.path)
    return out


def plain_texts(table: pa.Table) -> pa.Table:
    """`table` with the texts inside its list columns as plain texts again (for the compiled list stage)."""

    def plain(t: pa.DataType) -> pa.DataType:
        if pa.types.is_dictionary(t):
            return plain(t.value_type)
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(plain(t.value_type))
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, plain(f.type)) for f in t])
        return t

    for i, f in enumerate(table.schema):
        if (pa.types.is_list(f.type) or pa.types.is_large_list(f.type)) and plain(f.type) != f.type:
            table = table.set_column(i, f.name, table.column(i).cast(plain(f.type)))
    return table


def flat_cohort(table: pa.Table, fmt: str, ignore_unknown: bool, bad: Sequence[ErrorRow] = ()) -> Cohort:
    """The flattened table as a cohort; `bad` are records rejected while reading (numbered among all)."""
    problems = check_columns(table.column_names, ignore_unknown)
    if problems:
        raise InputError(problems)
    if "id" not in table.column_names:
        raise InputError([NO_ID])
    keep = [c for c in table.column_names if c in BY_NAME]
    table = _beyond_int64_as_text(table.select(keep))
    # Enumerations as dictionaries: the engines then compare small codes, not texts. Encoded on two threads
    # (Arrow leaves the interpreter free): seventeen columns of a million texts took 0.2 s on one.
    text = (pa.string(), pa.large_string())
    texts = [name for name in keep if BY_NAME[name].kind == "enum" and table.schema.field(name).type in text]
    if texts:  # (Parquet enumerations are read as dictionaries already)
        with ThreadPoolExecutor(2) as pool:
            encoded = pool.map(lambda name: pc.dictionary_encode(table.column(name).combine_chunks()), texts)
            for name, column in zip(texts, encoded, strict=True):
                table = table.set_column(table.column_names.index(name), name, column)
    if not bad:
        table = table.append_column(ROW, row_numbers(table.num_rows))
        return Cohort(table, fmt, [], table.num_rows)
    records = table.num_rows + len(bad)
    skipped = {e.row for e in bad}
    numbers = pa.array([n for n in range(1, records + 1) if n not in skipped], pa.int64())
    return Cohort(table.append_column(ROW, numbers), fmt, list(bad), records)


def _beyond_int64_as_text(table: pa.Table) -> pa.Table:
    """Unsigned 64-bit columns holding a value beyond the engines' 64-bit integers, as text: each such
    row then goes to the edge validator, which names the value (cast as they are, they would stop the
    whole run). Columns that fit are left alone; the check is one vectorized maximum per such column."""
    for i, f in enumerate(table.schema):
        if pa.types.is_uint64(f.type):
            top = pc.max(table.column(i)).as_py()
            if top is not None and top > 2**63 - 1:
                table = table.set_column(i, f.name, pc.cast(table.column(i), pa.string()))
    return table


_EXACT: dict[str, type] = {"int": int, "bool": bool, "staged": bool}


def mixed_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Columns of native type where every value fits, otherwise the column as JSON text of each value (the
    column-wise validator sends rows whose text it cannot read exactly to Python)."""
    cols = {}
    for c in COLUMNS:
        values = [r.get(c.name) for r in rows]
        if all(v is None for v in values):
            continue
        try:
            exact = _EXACT.get(c.kind)  # pyarrow would take 64.5 or true for a whole number (as 64, 1)
            if exact is not None and any(type(v) is not exact for v in values if v is not None):
                raise TypeError(f"a value that is no {exact.__name__}")
            cols[c.name] = pa.array(values, type=arrow_type(c.kind))
            if c.kind == "lines" and cols[c.name].to_pylist() != values:  # pyarrow drops keys it has no field for
                raise TypeError("a treatment line pyarrow would change")
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            cols[c.name] = pa.array([_as_text(c.kind, v) for v in values], type=pa.string())
    return pa.table(cols) if cols else pa.table({"id": pa.array([None] * len(rows), type=pa.string())})


def _as_text(kind: str, value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold, when that text reads back as the same value."""
    if value is None or isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if kind in ("bool", "staged") and isinstance(value, bool):
        return "true" if value else "false"
    if kind in ("enum_list", "id_list", "lines", "raw") and isinstance(value, list):
        return json.dumps(value)
    return _OddValue.text(value)


class _OddValue:
    """A JSON value of an unexpected type kept as text that never passes the column-wise checks (it starts
    with a control character), so the row goes to Python, which reads the original text back."""

    MARK = "\x00json:"

    @classmethod
    def text(cls, value: Any) -> str:
        return cls.MARK + json.dumps(value)

    @classmethod
    def restore(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(cls.MARK):
            return json.loads(value[len(cls.MARK) :])
        return value


def restore_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A raw row as read, with values that did not fit their column's type given back as found, and whole
    decimals as whole numbers: a database export's NUMERIC(3, 0) age, or an unsigned 64-bit Parquet
    column, which Spark reads as DECIMAL(20, 0), holds whole numbers (the others stay decimals, which the
    edge validator names)."""
    return {k: _whole(_OddValue.restore(v)) for k, v in row.items()}


def _whole(value: Any) -> Any:
    whole = isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
    return int(value) if whole and abs(value) < 10**30 else value
