"""Cohort evaluation in row blocks and with treatment histories grouped: the same results as in one piece.

Large cohorts have their list stage and the grouping of rows by result words worked out in row blocks on
threads (the rules themselves run as one engine query), and treatment histories are worked out once per
distinct history (grouped exactly, by value). Both are shortcuts of the embedded engines; here each must give
what the per-case reference gives, row for row, with bad rows among the good ones, and histories that mostly
differ are worked out row by row.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases, registry_cases

pl = pytest.importorskip("polars")

from rectoplan.cohort.columns import COLUMNS, flatten_contract  # noqa: E402
from rectoplan.cohort.readers import arrow_type, read_cohort  # noqa: E402
from rectoplan.cohort.run import evaluate_local, evaluate_python  # noqa: E402
from rectoplan.compile import arrow_lists  # noqa: E402

N = 3000


def _rows(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [flatten_contract(c) for c in cases]
    rows[5]["age"] = 300  # rejected by the validator: an error row
    rows[17]["id"] = "bad\x07id"  # a control character in an id: an error row
    rows[40]["kras"], rows[40]["kras_variant"] = (
        "mutant",
        "p.Gly12Cys",
    )  # valid, but beyond what the plan reads exactly (a notation the edge normalises): the per-case path
    return rows


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> pa.Table:
    rows = _rows(registry_cases(N, seed=8) + random_cases(N // 3, seed=9))
    path = tmp_path_factory.mktemp("blocks") / "cases.parquet"
    pq.write_table(
        pa.table({c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}), path
    )
    return read_cohort(path, kb).table


@pytest.fixture(scope="module")
def reference(table: pa.Table, kb: KnowledgeBase) -> tuple[list[dict[str, Any]], list[Any]]:
    results, errors = evaluate_python(table, kb)
    return results.to_pylist(), errors


def test_registry_histories_are_grouped(table: pa.Table) -> None:
    """The grouping is really used on registry-shaped rows (few distinct treatment histories)."""
    grouped = arrow_lists._distinct(arrow_lists._list(table.column("prior_lines")))
    assert grouped is not None
    indices, firsts = grouped
    assert len(firsts) < table.num_rows // 4
    histories = table.column("prior_lines").to_pylist()
    for row in range(0, table.num_rows, 7):  # every row's history is the one of its group's first row
        assert histories[row] == histories[firsts[indices[row].as_py()].as_py()]


@pytest.mark.parametrize("blocks", [1, 3])
def test_blocks_and_grouped_histories_equal_the_per_case_reference(
    table: pa.Table, kb: KnowledgeBase, reference: tuple[list[dict[str, Any]], list[Any]], blocks: int
) -> None:
    results, errors = evaluate_local(table, kb, "polars", blocks=blocks)
    expected_rows, expected_errors = reference
    assert len(expected_errors) == 2
    assert sorted(errors, key=lambda e: e.row) == sorted(expected_errors, key=lambda e: e.row)
    assert results.to_pylist() == expected_rows


def test_mostly_distinct_histories_are_worked_out_row_by_row(
    kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Where grouping would not pay (most histories differ), rows are not grouped, and results still equal
    the per-case reference."""
    lines = [
        [{"agents": ["fluorouracil"] * (1 + i % 10), "stopped_for": "progression"}] * (1 + i // 10) for i in range(40)
    ]
    assert arrow_lists._distinct(pa.array(lines)) is None
    rows = [flatten_contract(c) for c in registry_cases(40, seed=3)]
    for row, history in zip(rows, lines, strict=True):
        row["prior_lines"] = history[:20]
    path = tmp_path_factory.mktemp("distinct") / "cases.parquet"
    pq.write_table(
        pa.table({c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}), path
    )
    table = read_cohort(path, kb).table
    results, errors = evaluate_local(table, kb, "polars", blocks=1)
    expected, expected_errors = evaluate_python(table, kb)
    assert results.to_pylist() == expected.to_pylist() and errors == expected_errors


def test_results_keep_input_order_whatever_order_the_engine_returns(
    table: pa.Table, kb: KnowledgeBase, reference: tuple[list[dict[str, Any]], list[Any]], monkeypatch: Any
) -> None:
    """The embedded engines keep row order, but the results must not rely on it: an engine that returns its
    rows reversed still gives the reference's rows, in input order."""
    from rectoplan.cohort import local

    evaluate = local.PolarsEngine.evaluate

    def reversed_rows(self: Any, source: pa.Table, stages: Any, keep: Any) -> pa.Table:
        result: pa.Table = evaluate(self, source, stages, keep)
        return result.take(pa.array(range(result.num_rows - 1, -1, -1)))

    monkeypatch.setattr(local.PolarsEngine, "evaluate", reversed_rows)
    results, _ = evaluate_local(table, kb, "polars", blocks=2)
    assert results.to_pylist() == reference[0]
