"""Twelfth review: "what would change" explores two unknowns a rule reads that it left out.

- Growth since the last line stopped (`prior.progressed_since_last_line`): learnt by restaging, as a test
  result is; probed only when the last line stopped without progression (v01: "no growth" would bring
  maintenance first).
- The size of the largest metastasis at a site (`metastases.<site>.largest_mm`), when a rule reads it
  (y04: two liver lesions of unknown size, surgery declined: up to 3 cm the plan becomes curative ablation).
"""

from __future__ import annotations

from typing import Any

from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_review3 import course, with_courses
from tests.test_knowledge_review3 import rec as rec_no_whatif

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]


def rec(case: dict[str, Any], kb: KnowledgeBase) -> Recommendation:
    return recommend(validate_case(case, kb), kb, what_if=True)


def _facts(r: Recommendation) -> set[str]:
    return {c.fact for c in r.what_would_change}


def _after(stopped_for: str) -> dict[str, Any]:
    return with_courses(
        course(FOLFOX_BEV, "2026-02-01", "2026-08-01", stopped_for=stopped_for, best_response="partial")
    )


def test_growth_since_a_break_is_explored(kb: KnowledgeBase) -> None:
    r = rec(_after("treatment_break"), kb)
    (change,) = (c for c in r.what_would_change if c.fact == "prior.progressed_since_last_line")
    assert change.condition == "prior.progressed_since_last_line = false"
    assert "maintenance-capecitabine-bevacizumab" in change.added


def test_growth_is_not_explored_after_progression_or_when_known(kb: KnowledgeBase) -> None:
    assert "prior.progressed_since_last_line" not in _facts(rec(_after("progression"), kb))
    known = _after("treatment_break")
    known["prior"]["progressed_since_last_line"] = False
    assert "prior.progressed_since_last_line" not in _facts(rec(known, kb))


def _declined(size: int | None) -> dict[str, Any]:
    case = with_courses()
    case["metastases"] = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    if size is not None:
        case["metastases"][0]["largest_mm"] = size
    case["preferences"] = {"declines": ["surgery"]}
    return case


def test_an_unknown_size_that_decides_the_intent_is_explored(kb: KnowledgeBase) -> None:
    r = rec(_declined(None), kb)
    assert r.intent == "palliative"
    (change,) = (c for c in r.what_would_change if c.fact == "metastases.liver.largest_mm" and "1..30" in c.condition)
    assert "curative" in change.then
    assert rec_no_whatif(_declined(20), kb).intent == "curative"


def test_a_known_size_is_not_explored(kb: KnowledgeBase) -> None:
    assert "metastases.liver.largest_mm" not in _facts(rec(_declined(45), kb))
