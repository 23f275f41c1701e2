"""The one-line summary names each test needed by its display name (vocabulary.yaml), never by its id.

Stop 17: summaries read "tests needed: liver_lesion_size" (review 12's y04) and "tests needed: liquid_ras"
(review 13's z31), and most shipped examples "tests needed: creatinine_clearance", while the text's TESTS
NEEDED list, the handout and the CDS card already said the display names. The summary is also the HTML
plan's title and the CDS card's first line.
"""

from __future__ import annotations

import pytest

from rectoplan.api import recommend, validate_case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases

NAMED = [(name, case) for name, case in demo_cases()]


@pytest.mark.parametrize(("name", "case"), NAMED, ids=[name for name, _ in NAMED])
def test_summary_names_tests_by_their_display_names(name: str, case: dict[str, object], kb: KnowledgeBase) -> None:
    r = recommend(validate_case(case, kb), kb, what_if=False)
    for t in r.tests_needed:
        display = kb.vocabulary.tests[t.test].display
        assert display != t.test  # the check below can tell the two apart
        assert t.test not in r.summary.replace(display, ""), (name, t.test)
    # a running line's summary (core/continuation.py) says its plan instead and names no test
    if "tests needed: " in r.summary:
        named = r.summary.partition("tests needed: ")[2]
        assert all(kb.vocabulary.tests[t.test].display in named for t in r.tests_needed), name


def test_some_example_names_a_test_in_its_summary(kb: KnowledgeBase) -> None:
    # the check above is not empty: most shipped examples need the creatinine clearance
    summaries = [recommend(validate_case(case, kb), kb, what_if=False).summary for _, case in NAMED]
    assert any("tests needed: creatinine clearance (kidney function, Cockcroft-Gault)" in s for s in summaries)


def test_summary_names_the_liver_lesion_size_test(kb: KnowledgeBase) -> None:
    # review 12's y04: surgery declined, two liver metastases of unrecorded size
    case = {
        "format": "rectoplan.case/2",
        "id": "y04",
        "as_of": "2026-11-20",
        "age": 66,
        "ecog": 1,
        "primary": {"status": "resected"},
        "metastases": [{"site": "liver", "count": 2, "resectability": "resectable"}],
        "preferences": {"declines": ["surgery"]},
    }
    r = recommend(validate_case(case, kb), kb, what_if=False)
    assert "liver_lesion_size" in [t.test for t in r.tests_needed]
    assert "the size of the liver metastases (best measured on liver MRI)" in r.summary
    assert "liver_lesion_size" not in r.summary
