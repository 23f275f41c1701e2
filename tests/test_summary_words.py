"""The summary's first words (review 12, P9): a curative plan counts the lines given before instead of
calling itself a line, and an option whose title ends in a parenthesis is named with ', strength' instead
of a second parenthesis. Each with a case that triggers it and one that does not."""

from __future__ import annotations

from typing import Any

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult
from rectoplan.examples import demo_cases

EXAMPLES = dict(demo_cases())


def _option(title: str, strength: str) -> OptionResult:
    fields: dict[str, Any] = {f: None for f in OptionResult._fields}
    fields.update(title=title, strength=strength)
    return OptionResult(**fields)


def test_an_option_is_named_with_one_pair_of_parentheses() -> None:
    assert _option("Liver resection (removal of the liver metastases)", "preferred").named() == (
        "Liver resection (removal of the liver metastases), preferred"
    )
    assert _option("FOLFOX + bevacizumab", "alternative").named() == "FOLFOX + bevacizumab (alternative)"


def test_a_curative_summary_counts_prior_lines_instead_of_being_a_line(kb: KnowledgeBase) -> None:
    curative = recommend(EXAMPLES["liver-only-resectable"], kb, what_if=False)
    assert curative.intent == "curative"
    assert curative.summary.startswith("Curative intent, no prior line: ")
    assert ") (" not in curative.summary.split(";")[0]
    palliative = recommend(EXAMPLES["unresectable-multisite"], kb, what_if=False)
    assert palliative.intent == "palliative"
    assert palliative.summary.startswith("Palliative intent, first line: ")
