"""Parquet columns that hold no value are not read: the result is the one reading them gives.

`readers._empty_columns` trusts the file's statistics (every row group counts as many nulls as rows) for
flat columns only, and reads a column whenever one row group holds a value, lacks a null count, or the
column is nested. The columns left out come back as nulls, in the file's column order, and every engine
gives the same result table as when every column is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.cohort import readers
from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.readers import arrow_type, read_cohort
from rectoplan.cohort.run import run_cohort
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import random_cases, registry_cases


def _write(path: Path, rows: list[dict[str, Any]], **options: Any) -> None:
    columns = {c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}
    pq.write_table(pa.table(columns), path, row_group_size=700, **options)


def _rows() -> list[dict[str, Any]]:
    rows = [flatten_contract(c) for c in registry_cases(1500, seed=31)]
    for row in rows[:3]:  # unrecorded everywhere but here: the column must be read
        row["tmb"] = 12
    return rows


def test_columns_without_a_value_are_given_as_nulls(tmp_path: Path) -> None:
    path = tmp_path / "cohort.parquet"
    _write(path, _rows())
    empty = readers._empty_columns(pq.ParquetFile(path).metadata)
    assert {"as_of", "prior_courses", "goal"} <= empty
    assert "tmb" not in empty and "age" not in empty
    assert not {"local_recurrence_symptoms", "prior_lines"} & empty  # nested: always read
    table = read_cohort(path, load_knowledge()).table
    assert [n for n in table.column_names if n != readers.ROW] == [c.name for c in COLUMNS]
    for name in empty:
        assert pa.types.is_null(table.schema.field(name).type), name


def test_no_statistics_no_shortcut(tmp_path: Path) -> None:
    path = tmp_path / "cohort.parquet"
    _write(path, _rows(), write_statistics=False)
    assert readers._empty_columns(pq.ParquetFile(path).metadata) == set()


@pytest.mark.parametrize("engine", ["polars", "duckdb", "python"])
def test_same_results_as_reading_every_column(tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows() + [flatten_contract(c) for c in random_cases(500, seed=32)]
    for i, row in enumerate(rows):
        row["id"] = f"c{i}"
    rows[7]["age"] = 500  # an error row among them
    path = tmp_path / "cohort.parquet"
    _write(path, rows)
    assert readers._empty_columns(pq.ParquetFile(path).metadata)
    kb = load_knowledge()
    fast = run_cohort(path, kb, engine)
    monkeypatch.setattr(readers, "_empty_columns", lambda metadata: set())
    full = run_cohort(path, kb, engine)
    assert fast.results is not None and full.results is not None
    assert fast.results.to_pylist() == full.results.to_pylist()
    assert fast.errors == full.errors and len(fast.errors) == 1
