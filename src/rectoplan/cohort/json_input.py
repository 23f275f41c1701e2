"""JSON lines cohorts: flattened rows (column-wise, pyarrow) or contract 1 case objects (case by case).

One record per non-blank line, and every one of them ends up a row or an error row: a line that is not
UTF-8 or not JSON, a number too long for any reader, a key given twice or a key that is no column are
problems of that line (an error row with the case id when it can be read), never of the whole file. Only
an unreadable file stops the run.

Flattened rows take pyarrow's reader first, trusted only when it gives exactly one row per line (it would
also take two objects on one line, or one object over two lines) and no unknown key; every other file is
read line by line, values kept as found so that the edge validator names what is wrong.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json

from rectoplan.adapters.case_json import decode_with_unique_keys
from rectoplan.cohort.columns import BY_NAME, COLUMNS, flatten
from rectoplan.cohort.line_scan import BREAK, open_binary, read_all, scan
from rectoplan.cohort.readers import (
    CONTRACT_KEYS,
    ROW,
    Cohort,
    ErrorRow,
    InputError,
    arrow_type,
    canonical_table,
    flat_cohort,
    mixed_table,
)
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.knowledge import KnowledgeBase

# The id of a line that cannot be decoded, for its error row: the first "id" key with a text or number.
_ID = re.compile(rb'"id"\s*:\s*("(?:[^"\\\r\n]|\\.){0,400}"|-?[0-9]{1,30})')


def _guess_id(raw: bytes) -> str | None:
    m = _ID.search(raw)
    if m is None:
        return None
    try:
        value = json.loads(m.group(1).decode("utf-8", "backslashreplace"))
    except ValueError:
        return None
    return str(value) if isinstance(value, (str, int)) else None


def _id_of(data: Any) -> str | None:
    ident = data.get("id") if isinstance(data, dict) else None
    if isinstance(ident, bool):
        return None
    return str(ident) if isinstance(ident, (str, int)) else None


def _why_not_json(exc: Exception) -> str:
    if "integer string conversion" in str(exc):  # Python refuses to read numbers of over 4,300 digits
        return "a number of more than 4,300 digits"
    return str(exc)


class JsonLines:
    """The non-blank lines of a JSON lines file as (record number, line number, decoded value); a line that
    is not UTF-8 or not JSON becomes an error row and still counts as a record (rows in = rows out + error
    rows)."""

    def __init__(self, data: bytes, errors: list[ErrorRow]) -> None:
        self.data, self.errors, self.count = data, errors, 0

    def _error(self, raw: bytes, message: str) -> None:
        self.errors.append(ErrorRow(self.count, _guess_id(raw), (message,)))

    def __iter__(self) -> Iterator[tuple[int, int, Any]]:
        for lineno, raw in enumerate(BREAK.split(self.data), start=1):
            if not raw.strip():
                continue
            self.count += 1
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                byte = f"{raw[exc.start]:#04x} at byte {exc.start + 1}"
                self._error(raw, f"line {lineno}: found a byte that is not UTF-8 ({byte}); expected UTF-8 text")
                continue
            try:
                data, repeated = decode_with_unique_keys(line)
            except (ValueError, RecursionError) as exc:
                why = _why_not_json(exc)
                self._error(raw, f"line {lineno}: found invalid JSON ({why}); expected one JSON object per line")
                continue
            if repeated is not None:  # a parser keeps one of the two values; which one was meant is unknown
                path, key = repeated
                where = f" in {path}" if path else ""
                message = f"line {lineno}: found the key {key!r} twice in one object{where}; expected each key once"
                self.errors.append(ErrorRow(self.count, _id_of(data), (message,)))
                continue
            yield self.count, lineno, data


def _first_object(path: Path) -> Any:
    """The first non-blank line decoded (it tells case objects from flattened rows), or None."""
    with open_binary(path) as fh:
        for raw in fh:
            if raw.strip():
                try:
                    return json.loads(raw.decode("utf-8-sig"))
                except (ValueError, RecursionError):
                    return None
    return None


def read_json_lines(path: Path, kb: KnowledgeBase, ignore_unknown: bool) -> Cohort:
    try:
        return _read_json_lines(path, kb, ignore_unknown)
    except (OSError, EOFError) as exc:
        raise InputError([Problem(str(path), f"an unreadable file ({exc})", "a JSON lines file")]) from None


def _read_json_lines(path: Path, kb: KnowledgeBase, ignore_unknown: bool) -> Cohort:
    found = scan(path)
    if not found.lines:
        return Cohort(canonical_table([], []), "jsonl")
    head = _first_object(path)
    if isinstance(head, dict) and CONTRACT_KEYS & set(head):
        return _read_contract_lines(read_all(path), kb)
    if not found.utf8:  # pyarrow's JSON reader passes invalid UTF-8 on into its texts
        return _read_slowly(read_all(path), kb, ignore_unknown)
    table = _column_wise(path)
    if table is None:
        return _read_slowly(read_all(path), kb, ignore_unknown)
    unknown = [name for name in table.column_names if name not in BY_NAME]
    if table.num_rows != found.lines or (unknown and not ignore_unknown):
        return _read_slowly(read_all(path), kb, ignore_unknown)
    return flat_cohort(table, "jsonl", ignore_unknown)


_SCHEMA = pa.schema([(c.name, arrow_type(c.kind)) for c in COLUMNS])
# The text columns: given to the reader even when its own guess is tried first, since it would read a text
# that looks like a date and time as a timestamp.
_TEXTS = pa.schema([f for f, c in zip(_SCHEMA, COLUMNS, strict=True) if c.kind in ("id", "text", "raw")])


def _column_wise(path: Path) -> pa.Table | None:
    """The file read by pyarrow, or None when pyarrow does not take it as it is.

    pyarrow's reader works a third faster on the column types it works out itself than on a schema of
    every column (measured on a million registry rows: about 0.75 s against 1.25 s of CPU per 200,000).
    Its guess is kept only when every column it found has the documented type (or holds nothing but nulls);
    any other file is read with the documented schema, exactly as before, so a value of another type
    still sends the file to the line-by-line reader. Columns the file does not have stay absent, which
    the plan reads as unknown, like an empty column."""
    for schema in (_TEXTS, _SCHEMA):
        try:
            table = pa_json.read_json(
                path,
                read_options=pa_json.ReadOptions(block_size=16 << 20),  # fewer, larger chunks: faster here
                parse_options=pa_json.ParseOptions(
                    explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            continue
        fitted = _documented_types(table) if schema is _TEXTS else table
        if fitted is not None:
            return fitted
    return None


def _documented_types(table: pa.Table) -> pa.Table | None:
    """`table` with its all-null columns in their documented types, or None when a column has another
    type (unknown columns are left as they are, for the caller to report)."""
    for i, f in enumerate(table.schema):
        if f.name not in BY_NAME or _fits(f.type, _SCHEMA.field(f.name).type):
            continue
        if not pa.types.is_null(f.type):
            return None
        table = table.set_column(i, f.name, pa.nulls(table.num_rows, _SCHEMA.field(f.name).type))
    return table


def _fits(found: pa.DataType, documented: pa.DataType) -> bool:
    """The documented type, or a list of structs with some of its fields, each of the documented type (a
    file whose lines never give the optional `progressed_on` has no such field, and that reads the same)."""
    if found == documented:
        return True
    if not (pa.types.is_list(found) and pa.types.is_list(documented)):
        return False
    inner, whole = found.value_type, documented.value_type
    if not (pa.types.is_struct(inner) and pa.types.is_struct(whole)):
        return False
    fields = {whole.field(i).name: whole.field(i).type for i in range(whole.num_fields)}
    return all(fields.get(inner.field(i).name) == inner.field(i).type for i in range(inner.num_fields))


def _unknown_keys(keys: list[str]) -> list[str]:
    known = [c.name for c in COLUMNS]
    out = []
    for key in keys:
        near = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        out.append(f"{key}: found an unknown field; expected one of the documented columns (docs/cohort.md){hint}")
    return out


def _read_slowly(data: bytes, kb: KnowledgeBase, ignore_unknown: bool) -> Cohort:
    """Line by line, for files the column-wise reader does not take as they are (a malformed line, a value
    of another type, an unknown key): every line that decodes to an object of known keys becomes a row
    (values kept as found), every other line an error row. A row with an unknown key is also checked
    column by column, so that its error row lists every problem at once."""
    from rectoplan.cohort.columns import validate_row
    from rectoplan.cohort.readers import restore_values

    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    lines = JsonLines(data, errors)
    for record, lineno, value in lines:
        if not isinstance(value, dict):
            errors.append(
                ErrorRow(record, None, (f"line {lineno}: found {type(value).__name__}; expected a JSON object",))
            )
            continue
        unknown = [] if ignore_unknown else [key for key in value if key not in BY_NAME]
        if unknown:
            problems = _unknown_keys(unknown)
            known = {k: v for k, v in value.items() if k in BY_NAME}
            try:
                validate_row(restore_values(known), kb.vocabulary.drugs, kb.vocabulary.procedures)
            except CaseError as exc:
                problems += exc.messages()
            errors.append(ErrorRow(record, _id_of(value), tuple(problems)))
            continue
        rows.append({k: v for k, v in value.items() if k in BY_NAME})
        numbers.append(record)
    table = mixed_table(rows)
    table = table.append_column(ROW, pa.array(numbers, type=pa.int64()))
    return Cohort(table, "jsonl", errors, lines.count)


def _read_contract_lines(data: bytes, kb: KnowledgeBase) -> Cohort:
    """JSON lines of contract 1 objects: each line through the edge validator, exactly as one case."""
    from rectoplan.adapters.case_json import parse_case

    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: list[ErrorRow] = []
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    lines = JsonLines(data, errors)
    for record, _, value in lines:
        try:
            case = parse_case(value, drugs, procedures)
        except CaseError as exc:
            errors.append(ErrorRow(record, _id_of(value), tuple(exc.messages())))
            continue
        rows.append(flatten(case))
        numbers.append(record)
    return Cohort(canonical_table(rows, numbers), "jsonl-cases", errors, lines.count)
