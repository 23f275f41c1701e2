"""docs/cohort.md stays true: every flattened column and every result column is documented, and nothing
documented as a column is missing from the code."""

from __future__ import annotations

import re
from pathlib import Path

from rectoplan.cohort.columns import COLUMNS
from rectoplan.compile.plan import RESULT_COLUMNS

DOC = Path(__file__).resolve().parents[1] / "docs" / "cohort.md"


def _table_names(section: str) -> set[str]:
    text = DOC.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_flattened_column_is_documented() -> None:
    assert _table_names("Flattened columns") == {c.name for c in COLUMNS}


def test_every_result_column_is_documented() -> None:
    assert _table_names("Result columns") == {"row", "id", *RESULT_COLUMNS}
