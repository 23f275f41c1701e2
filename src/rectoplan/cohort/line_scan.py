"""One streaming pass over a CSV or JSON lines input: how many lines, whether it is UTF-8, its first line.

The column-wise readers (pyarrow) are trusted only when they saw exactly one record per line
(`rectoplan.cohort.csv_input`), and pyarrow's JSON reader does not check UTF-8 at all; this pass gives
both answers without holding the file in memory (16 MiB at a time, so a million-row JSON lines file
does not cost its size again next to the table), and without per-line Python work: a few byte scans per
chunk, about 0.04 s per 100 MB for LF files.
"""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

CHUNK = 1 << 24
BREAK = re.compile(rb"\r\n|\r|\n")
_BLANK = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class Scan:
    lines: int  # lines up to the last non-blank character (trailing blank lines are ignored by every reader)
    utf8: bool
    first: bytes  # the first line, without its line break


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed for `.gz`."""
    if path.suffix.lower() == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def read_all(path: Path) -> bytes:
    with open_binary(path) as fh:
        return fh.read()


def _breaks(data: bytes) -> int:
    """Line breaks in `data`, as the readers split lines: CR LF, LF or CR."""
    n = data.count(b"\n")
    if data.find(b"\r") != -1:
        n += data.count(b"\r") - data.count(b"\r\n")
    return n


def scan(path: Path) -> Scan:
    """Raises OSError (and EOFError, gzip.BadGzipFile) for a file that cannot be read."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    breaks = 0  # line breaks so far
    breaks_before_last = -1  # line breaks before the last non-blank byte so far (-1: none yet)
    ended_with_cr = False
    head = bytearray()
    first: bytes | None = None
    with open_binary(path) as fh:
        while chunk := fh.read(CHUNK):
            if first is None:
                head += chunk
                m = BREAK.search(head)
                if m is not None:
                    first = bytes(head[: m.start()])
            if utf8 and (not chunk.isascii() or decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            here = _breaks(chunk)
            if ended_with_cr and chunk[:1] == b"\n":
                here -= 1  # a CR LF split between two chunks is one break
            end = len(chunk)
            while end and chunk[end - 1] in _BLANK:
                end -= 1
            if end:
                breaks_before_last = breaks + here - _breaks(chunk[end:])
            breaks += here
            ended_with_cr = chunk[-1:] == b"\r"
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return Scan(breaks_before_last + 1, utf8, bytes(head) if first is None else first)
