"""Helper of the knowledge tests: the cohort engines' answer on a handful of chosen cases, compared with the
per-case engine exactly as tests/test_cohort_equivalence.py compares a generated cohort. Generated cohorts
rarely reach a narrow rule (e.g. anti-EGFR rechallenge needs a third line, a dated ctDNA result and an
interval), so the knowledge tests feed it the cases that do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rectoplan.cohort.columns import flatten_contract
from rectoplan.cohort.explain import explanations
from rectoplan.cohort.run import run_cohort
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_cohort_equivalence import cohort_row, expected_row, write_parquet


def cohort_mismatches(cases: list[dict[str, Any]], kb: KnowledgeBase, engine: str, folder: Path) -> list[Any]:
    """(case id, differing fields) for every case where the cohort engine and the per-case engine differ."""
    write_parquet([flatten_contract(c) for c in cases], folder / "cases.parquet")
    result = run_cohort(folder / "cases.parquet", kb, engine)
    assert result.errors == []
    texts = {(r["kind"], r["id"]): r["text"] for r in explanations(kb).to_pylist()}
    out = []
    for row, case in zip(result.results.to_pylist(), cases, strict=True):
        got, expected = cohort_row(row, kb, texts), expected_row(case, kb)
        if got != expected:
            out.append((case["id"], {k: (got[k], expected[k]) for k in got if got[k] != expected[k]}))
    return out
