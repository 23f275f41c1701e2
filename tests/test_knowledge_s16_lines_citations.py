"""Twelfth review P8: "At progression or intolerance: FOLFIRI" cited only second-line biologic trials (ML18147,
VELOUR, RAISE). FOLFIRI alone after oxaliplatin now cites the trial of the switch itself (GERCOR: FOLFIRI at
progression on FOLFOX6, Tournigand et al.), and its reason says what each biologic trial adds; the switch to
oxaliplatin no longer cites VELOUR or RAISE, which were FOLFIRI trials after oxaliplatin."""

from __future__ import annotations

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import course, offered, rec, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFIRI_BEV = ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"]


def _cited(kb: KnowledgeBase, setting: str) -> set[str]:
    (row,) = (s for o in kb.options for s in o.settings if s.id == setting)
    return {c.source for c in row.cite}


def test_folfiri_after_oxaliplatin_cites_the_switch_trial(kb: KnowledgeBase) -> None:
    first = course(FOLFOX_BEV, "2025-06-01", "2026-06-01", stopped_for="progression", best_response="partial")
    folfiri = offered(rec(with_courses(first), kb))["folfiri"]
    assert folfiri.trace is not None and folfiri.trace["setting"] == "folfiri-second-line"
    assert "tournigand-gercor" in {c.source for c in folfiri.sources}
    assert "GERCOR: FOLFIRI at progression on FOLFOX6" in folfiri.rationale[0]


def test_the_switch_to_oxaliplatin_does_not_cite_folfiri_trials(kb: KnowledgeBase) -> None:
    first = course(FOLFIRI_BEV, "2025-06-01", "2026-06-01", stopped_for="progression", best_response="partial")
    folfox = offered(rec(with_courses(first), kb))["folfox"]
    assert folfox.trace is not None and folfox.trace["setting"] == "folfox-second-line"
    assert {"velour", "raise"}.isdisjoint(c.source for c in folfox.sources)
    assert {"tournigand-gercor", "ml18147"} <= _cited(kb, "folfox-second-line")
    assert {"velour", "raise"}.isdisjoint(_cited(kb, "capox-second-line"))
    assert {"velour", "raise"} <= _cited(kb, "folfiri-second-line")  # FOLFIRI with a biologic: on target
