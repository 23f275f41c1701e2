"""CSV cohorts: one record per line, every line accounted for.

A cohort CSV holds one case per line; no column ever needs a line break inside a value. That rule is what
keeps a single broken line from costing other cases: CSV lets a quoted value run over line breaks, so one
unterminated quote silently swallows the lines after it into one record (a registry extract of 20,000
cases read as 19,999 records, one id gone, no word). Here a record that would span lines is refused and
each of its lines counted on its own.

- **Fast path** (every clean file): pyarrow's multi-threaded reader, all cells as text. It is trusted only
  when the records it saw (rows plus the rows it rejected for their number of fields) equal the lines
  after the header: then no record spanned lines and no line was blank. Counting the line breaks is a few
  byte scans, no per-row Python.
- **Line by line** (a file that fails that count, or that pyarrow refuses, e.g. invalid UTF-8): each
  non-blank line is decoded and parsed on its own (Python's `csv`, strict), so an unterminated quote, a
  stray byte or a wrong number of fields makes an error row for that line alone, with the case id when
  one can be read from it. Only a problem with the header (empty, undecodable, repeated columns) stops
  the run.

Records are numbered from 1 after the header, counting non-blank lines; messages name the line number.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from rectoplan.cohort.line_scan import BREAK, read_all, scan
from rectoplan.cohort.readers import ErrorRow, InputError
from rectoplan.core.errors import Problem


def read_csv(path: Path, delimiter: str) -> tuple[pa.Table, list[ErrorRow]]:
    """The table of the well-formed records (every cell text, empty = null) and an error row for every
    other non-blank line."""
    try:
        found = scan(path)
        header = _header(path, found.first, delimiter)
        if found.utf8:
            fast = _arrow_read(path, header, delimiter, found.lines)
            if fast is not None:
                return fast
        return _line_by_line(read_all(path), header, delimiter)
    except (OSError, EOFError) as exc:
        raise InputError([Problem(str(path), f"an unreadable file ({exc})", "a CSV file")]) from None


def _header(path: Path, first: bytes, delimiter: str) -> list[str]:
    if not first.strip():
        raise InputError([Problem(str(path), "an empty first line", "a header row with column names")])
    try:
        header = next(csv.reader([first.decode("utf-8-sig")], delimiter=delimiter, strict=True))
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), f"a header that is not UTF-8 (byte {first[exc.start]:#04x})", "UTF-8 text")]
        ) from None
    except csv.Error as exc:
        raise InputError([Problem(str(path), f"a malformed header row ({exc})", "column names")]) from None
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError([Problem(str(path), f"the column(s) {dupes} more than once", "each column once")])
    return header


def _arrow_read(path: Path, header: list[str], delimiter: str, lines: int) -> tuple[pa.Table, list[ErrorRow]] | None:
    """pyarrow's reader, or None when its records are not exactly the `lines` of the file."""
    convert = pa_csv.ConvertOptions(
        column_types={h: pa.string() for h in header}, strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    rejected: list[tuple[int | None, int, int, str]] = []  # (line number (header: 1), expected, found, text)

    def reject(row: pa_csv.InvalidRow) -> str:
        rejected.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        parse = pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=reject)
        options = pa_csv.ReadOptions(use_threads=use_threads)
        return pa_csv.read_csv(path, parse_options=parse, convert_options=convert, read_options=options)

    try:
        table = read(use_threads=True)
        if table.column_names != header or table.num_rows + len(rejected) != lines - 1:
            return None
        if any(number is None for number, *_ in rejected):  # only a single-threaded read numbers the rows
            rejected.clear()
            table = read(use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. a line of invalid UTF-8: found exactly line by line
        return None
    key = header.index("id") if "id" in header else None
    bad = [
        ErrorRow(number - 1, _id_in(text, key, delimiter), (f"line {number}: {_fields(found, expected)}",))
        for number, expected, found, text in rejected
        if number is not None
    ]
    return table, bad


def _id_in(line: str, key: int | None, delimiter: str) -> str | None:
    """The id cell of a line that is no valid record, read leniently (for its error row), or None."""
    if key is None:
        return None
    cells = next(csv.reader([line], delimiter=delimiter), [])
    ident = cells[key].strip() if key < len(cells) else ""
    # a cell that swallowed other cells or lines (an unclosed quote) is not an id
    return ident if ident and len(ident) <= 200 and delimiter not in ident and "\n" not in ident else None


def _fields(found: int, expected: int) -> str:
    return f"found {found} field(s); expected {expected}, one per header column"


def _line_by_line(data: bytes, header: list[str], delimiter: str) -> tuple[pa.Table, list[ErrorRow]]:
    """Each non-blank line parsed on its own: a record never spans lines (see the module docstring)."""
    width = len(header)
    key = header.index("id") if "id" in header else None
    columns: list[list[str | None]] = [[] for _ in header]
    numbers: list[int] = []
    bad: list[ErrorRow] = []
    record = 0
    for lineno, raw in enumerate(BREAK.split(data)[1:], start=2):
        if not raw.strip():
            continue
        record += 1
        problem = None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", "backslashreplace")
            problem = (
                f"line {lineno}: found a byte that is not UTF-8 ({raw[exc.start]:#04x} at byte {exc.start + 1});"
                " expected UTF-8 text"
            )
        try:
            cells = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            cells = []
            why = "a quote not closed on its line" if "end of data" in str(exc) else f"malformed quoting ({exc})"
            expected = "one record per line (no line breaks inside values)"
            problem = problem or f"line {lineno}: found {why}; expected {expected}"
        if problem is None and len(cells) != width:
            problem = f"line {lineno}: {_fields(len(cells), width)}"
        if problem is not None:
            bad.append(ErrorRow(record, _id_in(text, key, delimiter), (problem,)))
            continue
        for column, cell in zip(columns, cells, strict=True):
            column.append(cell or None)
        numbers.append(record)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)})
    return table, bad
