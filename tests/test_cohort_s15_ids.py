"""A text id is taken from the input instead of through the engine, and `[^X]*` is printed for Polars as
"no character of X": the same ids, the same error rows, the same matches as before.

- `run._aligned` gives each row its own input value whichever order the engine returned the rows in.
- Ids with control characters, empty ids and very long ids are error rows exactly as the per-case engine
  says; the other ids come out as they went in (Parquet with string and large string ids, CSV).
- `polars_expr._excluded_class` prints a full match of `[^X]*` as "contains no character of X": the same
  truth value (NULL for NULL) on texts with and without such characters, and any other pattern is printed
  as a full match.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.readers import arrow_type
from rectoplan.cohort.run import _aligned, run_cohort
from rectoplan.compile import ir
from rectoplan.compile.case_columns import NO_CONTROL
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import registry_cases

pl = pytest.importorskip("polars")

from rectoplan.compile.polars_expr import _excluded_class, expr  # noqa: E402

IDS = ["plain", "", "tab\there", "bell\x07", "del\x7f", "é-ünïcødé", "x" * 201, "x" * 200, "line\nbreak", "ok-2"]


def test_aligned_follows_the_row_numbers() -> None:
    values = pa.chunked_array([["a", "b"], ["c", "d"]])
    rows = pa.chunked_array([[1, 2], [5, 9]])
    assert _aligned(values, rows, pa.chunked_array([[1, 2, 5, 9]])).to_pylist() == ["a", "b", "c", "d"]
    assert _aligned(values, rows, pa.chunked_array([[9, 1, 5, 2]])).to_pylist() == ["d", "a", "c", "b"]


def _rows() -> list[dict[str, Any]]:
    rows = [flatten_contract(c) for c in registry_cases(300, seed=41)]
    for i, row in enumerate(rows):
        row["id"] = IDS[i] if i < len(IDS) else f"case-{i}"
    return rows


@pytest.mark.parametrize("id_type", [pa.string(), pa.large_string()])
def test_ids_as_the_per_case_engine_reads_them(tmp_path: Path, id_type: pa.DataType) -> None:
    rows = _rows()
    columns = {c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}
    columns["id"] = pa.array([r["id"] for r in rows], id_type)
    path = tmp_path / "cohort.parquet"
    pq.write_table(pa.table(columns), path)
    kb = load_knowledge()
    results = {engine: run_cohort(path, kb, engine) for engine in ("polars", "duckdb", "python")}
    reference = results["python"]
    assert reference.results is not None and reference.errors
    rejected = {e.row for e in reference.errors}
    assert {2, 3, 4, 5, 7, 9} <= rejected and 1 not in rejected and 6 not in rejected and 8 not in rejected
    for engine in ("polars", "duckdb"):
        got = results[engine]
        assert got.results is not None
        assert got.results.to_pylist() == reference.results.to_pylist(), engine
        assert got.errors == reference.errors, engine
    ids = results["polars"].results.column("id").to_pylist()  # type: ignore[union-attr]
    assert "é-ünïcødé" in ids and "x" * 200 in ids


def test_texts_without_excluded_characters_match_as_before() -> None:
    rng = random.Random(5)
    alphabet = ["a", "Z", "0", " ", "é", "\x00", "\x1f", "\x7f", "\x80", "\n", "\t", "\u2028", "~"]
    texts: list[str | None] = [None, ""]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(6))) for _ in range(3000)]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    for pattern in (NO_CONTROL, r"[^a-z]*", "[^é~ ]*"):
        assert _excluded_class(pattern) is not None
        fast = frame.select(expr(ir.Matches(ir.Col("t"), pattern)).alias("m"))["m"].to_list()
        full = frame.select(pl.col("t").str.contains(f"^(?:{pattern})$").alias("m"))["m"].to_list()
        assert fast == full, pattern
        assert None in fast and True in fast and False in fast
    for pattern in ("[0-9]{1,9}", "[^a]+", "[^^]*", "[^]*", "[^a]*b", "a[^b]*"):
        assert _excluded_class(pattern) is None, pattern
