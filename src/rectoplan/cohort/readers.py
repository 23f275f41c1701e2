"""Cohort inputs to one Arrow table of flattened columns, whatever the file format.

CSV, Parquet and JSON lines of flattened rows are read column-wise (pyarrow); a JSON lines file of
contract 1 objects and a FHIR bulk-export folder are read case by case (each object through the edge
validator, each patient's resources through the FHIR importer) into canonical rows. Every record gets its
1-based `_row`; a record that cannot even be read (a malformed JSON line, a patient the FHIR importer
rejects) becomes an error row at once, so rows in = rows out + error rows holds from the first step.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from rectoplan.adapters.case_json import decode_with_unique_keys
from rectoplan.cohort.columns import BY_NAME, COLUMNS, flatten
from rectoplan.compile.case_columns import RawType
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.knowledge import KnowledgeBase

ROW = "_row"
CONTRACT_KEYS = frozenset({"format", "primary", "local_recurrence", "metastases", "biomarkers", "prior", "health"})
LINES_TYPE = pa.list_(pa.struct([("agents", pa.list_(pa.string())), ("stopped_for", pa.string())]))
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
}


class InputError(Exception):
    """The input as a whole cannot be read (no such file, unknown format, unknown columns)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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


def check_columns(names: Iterable[str], ignore_unknown: bool) -> list[str]:
    """Unknown column names are an input error (a misspelt column would silently become unknown facts)."""
    if ignore_unknown:
        return []
    problems = []
    known = [c.name for c in COLUMNS]
    for name in names:
        if name != ROW and name not in BY_NAME:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.append(
                f"column {name!r}: found an unknown column; expected one of the documented columns"
                f" (docs/cohort.md){hint}"
            )
    return problems


def read_cohort(path: Path, kb: KnowledgeBase, ignore_unknown: bool = False) -> Cohort:
    """Read any supported input into a `Cohort`."""
    if not path.exists():
        raise InputError(
            [
                f"{path}: found no such file or folder; expected a CSV, Parquet or JSON lines file"
                " or a FHIR bulk-export folder"
            ]
        )
    if path.is_dir():
        from rectoplan.cohort.fhir_bulk import read_fhir_folder

        return read_fhir_folder(path, kb)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        # Enumerations as dictionaries: the engines then compare small codes instead of texts.
        try:
            schema = pq.ParquetFile(path).schema
            names = set(schema.to_arrow_schema().names)
            enums = [c.name for c in COLUMNS if c.kind == "enum" and c.name in names]
            table = pq.read_table(path, read_dictionary=enums + _list_texts(schema))
        except (pa.ArrowException, OSError) as exc:
            message = str(exc).replace("\n", " ")
            raise InputError(
                [f"{path}: found an unreadable Parquet file ({message}); expected a Parquet file"]
            ) from None
        return _flat(table, "parquet", ignore_unknown)
    elif suffix in (".csv", ".csv.gz", ".tsv"):
        table, bad = _read_csv(path, "\t" if suffix == ".tsv" else ",")
        return _flat(table, "csv", ignore_unknown, bad)
    elif suffix in (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz"):
        return _read_json_lines(path, kb, ignore_unknown)
    else:
        raise InputError(
            [
                f"{path}: found a {path.suffix or 'suffix-less'} file; expected .csv, .tsv, .parquet,"
                " .jsonl / .ndjson or a FHIR bulk-export folder"
            ]
        )


def _list_texts(schema: pq.ParquetSchema) -> list[str]:
    """The texts inside list columns (symptoms, procedures, agents, stop reasons), as Parquet column paths.

    They are read as dictionaries too: a million rows hold some three million agent names but a few dozen
    distinct ones, so reading, coding and grouping them works on small integers instead of texts."""
    out = []
    for i in range(len(schema)):
        column = schema.column(i)
        top = BY_NAME.get(column.path.split(".")[0])
        text = column.physical_type == "BYTE_ARRAY" and column.logical_type.type == "STRING"
        if text and top is not None and top.kind in ("enum_list", "id_list", "lines"):
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


def _flat(table: pa.Table, fmt: str, ignore_unknown: bool, bad: Sequence[ErrorRow] = ()) -> Cohort:
    """The flattened table as a cohort; `bad` are records rejected while reading (numbered among all)."""
    problems = check_columns(table.column_names, ignore_unknown)
    if problems:
        raise InputError(problems)
    if "id" not in table.column_names:
        raise InputError(["column 'id': found no such column; expected an id column (every case needs an id)"])
    keep = [c for c in table.column_names if c in BY_NAME]
    table = table.select(keep)
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


def _read_csv(path: Path, delimiter: str) -> tuple[pa.Table, list[ErrorRow]]:
    """The table of the well-formed rows, and an error row for each row with too many or too few fields
    (a bad row never stops the run). Rows are numbered from 1 after the header."""
    with (
        path.open("r", encoding="utf-8", newline="")
        if path.suffix != ".gz"
        else io.TextIOWrapper(__import__("gzip").open(path), encoding="utf-8") as fh
    ):
        header = next(csv.reader(fh, delimiter=delimiter), None)
    if not header:
        raise InputError([f"{path}: found an empty file; expected a header row with column names"])
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError([f"{path}: found the column(s) {dupes} more than once; expected each column once"])
    options = pa_csv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    rejected: list[tuple[int | None, int, int]] = []  # (row number counting the header as 1, expected, found)

    def reject(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        parse = pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=reject)
        read_options = pa_csv.ReadOptions(use_threads=use_threads)
        try:
            return pa_csv.read_csv(path, parse_options=parse, convert_options=options, read_options=read_options)
        except pa.ArrowInvalid as exc:
            raise InputError([f"{path}: {exc}".replace("\n", " ")]) from None

    table = read(use_threads=True)
    if any(number is None for number, _, _ in rejected):  # only a single-threaded read numbers the rows
        rejected.clear()
        table = read(use_threads=False)
    bad = [
        ErrorRow(number - 1, None, (f"found {found} field(s); expected {expected}, one per header column",))
        for number, expected, found in rejected
        if number is not None
    ]
    return table, bad


def _lines(path: Path) -> Iterator[str]:
    opener: Callable[..., Any] = __import__("gzip").open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from fh


class JsonLines:
    """The non-blank lines of a JSON lines file as (record number, line number, decoded value); a line that
    is not JSON becomes an error row and still counts as a record (rows in = rows out + error rows)."""

    def __init__(self, path: Path, errors: list[ErrorRow]) -> None:
        self.path, self.errors, self.count = path, errors, 0

    def __iter__(self) -> Iterator[tuple[int, int, Any]]:
        for lineno, line in enumerate(_lines(self.path), start=1):
            if not line.strip():
                continue
            self.count += 1
            try:
                data, repeated = decode_with_unique_keys(line)
            except (ValueError, RecursionError) as exc:
                message = f"line {lineno}: found invalid JSON ({exc}); expected one JSON object per line"
                self.errors.append(ErrorRow(self.count, None, (message,)))
                continue
            if repeated is not None:  # a parser keeps one of the two values; which one was meant is unknown
                path, key = repeated
                where = f" in {path}" if path else ""
                message = f"line {lineno}: found the key {key!r} twice in one object{where}; expected each key once"
                ident = data.get("id") if isinstance(data, dict) else None
                self.errors.append(ErrorRow(self.count, ident if isinstance(ident, str) else None, (message,)))
                continue
            yield self.count, lineno, data


def _read_json_lines(path: Path, kb: KnowledgeBase, ignore_unknown: bool) -> Cohort:
    first = next((line for line in _lines(path) if line.strip()), None)
    if first is None:
        return Cohort(canonical_table([], []), "jsonl")
    try:
        head = json.loads(first)
    except (ValueError, RecursionError):
        head = None
    if isinstance(head, dict) and CONTRACT_KEYS & set(head):
        return _read_contract_lines(path, kb)
    try:
        schema = pa.schema([(c.name, arrow_type(c.kind)) for c in COLUMNS])
        table = pa_json.read_json(
            path,
            read_options=pa_json.ReadOptions(block_size=16 << 20),  # fewer, larger chunks: faster here
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _read_json_lines_slowly(path, ignore_unknown)
    return _flat(table, "jsonl", ignore_unknown)


def _read_json_lines_slowly(path: Path, ignore_unknown: bool) -> Cohort:
    """Line by line, for files the column-wise reader refuses (a malformed line, a value of another type):
    every line that decodes to an object becomes a row (values kept as found, so that the edge validator
    names what is wrong), every other line an error row."""
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    unknown: set[str] = set()
    lines = JsonLines(path, errors)
    for record, lineno, data in lines:
        if not isinstance(data, dict):
            errors.append(
                ErrorRow(record, None, (f"line {lineno}: found {type(data).__name__}; expected a JSON object",))
            )
            continue
        unknown |= set(data) - set(BY_NAME)
        rows.append(data)
        numbers.append(record)
    problems = check_columns(sorted(unknown), ignore_unknown)
    if problems:
        raise InputError(problems)
    table = _mixed_table(rows)
    table = table.append_column(ROW, pa.array(numbers, type=pa.int64()))
    return Cohort(table, "jsonl", errors, lines.count)


def _mixed_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Columns of native type where every value fits, otherwise the column as JSON text of each value (the
    column-wise validator sends rows whose text it cannot read exactly to Python)."""
    cols = {}
    for c in COLUMNS:
        values = [r.get(c.name) for r in rows]
        if all(v is None for v in values):
            continue
        try:
            cols[c.name] = pa.array(values, type=arrow_type(c.kind))
            if c.kind in ("int", "bool", "staged") and any(
                isinstance(v, bool) != (c.kind != "int") for v in values if v is not None
            ):
                raise TypeError("bool/int mixed")
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
    if kind in ("enum_list", "id_list", "lines") and isinstance(value, list):
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
    """A raw row as read, with values that did not fit their column's type given back as found."""
    return {k: _OddValue.restore(v) for k, v in row.items()}


def _read_contract_lines(path: Path, kb: KnowledgeBase) -> Cohort:
    """JSON lines of contract 1 objects: each line through the edge validator, exactly as one case."""
    from rectoplan.adapters.case_json import parse_case

    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    lines = JsonLines(path, errors)
    for record, _, data in lines:
        try:
            case = parse_case(data, drugs, procedures)
        except CaseError as exc:
            ident = data.get("id") if isinstance(data, dict) else None
            errors.append(ErrorRow(record, ident if isinstance(ident, str) else None, tuple(exc.messages())))
            continue
        rows.append(flatten(case))
        numbers.append(record)
    return Cohort(canonical_table(rows, numbers), "jsonl-cases", errors, lines.count)


def problems_text(problems: Iterable[Problem]) -> tuple[str, ...]:
    return tuple(p.message() for p in problems)
