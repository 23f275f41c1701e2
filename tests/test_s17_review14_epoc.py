"""Review 14, finding 14: EPOC's progression-free survival figures (35.4% vs 28.1%) are quoted with their hazard
ratio and p-value (HR 0.79, p=0.058; Nordlinger, Lancet 2008): in all randomised patients the difference was
not significant, which a reader of the bare percentages would not know."""

from __future__ import annotations

from collections.abc import Callable

from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase


def test_epoc_figures_come_with_their_p_value(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    case = make_case(
        primary={"status": "resected"}, metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}]
    )
    texts = [r for o in recommend(case, kb, what_if=False).options for r in o.rationale if "EPOC" in r]
    assert texts and all("HR 0.79, p=0.058" in t for t in texts if "35.4%" in t)
    assert any("35.4%" in t for t in texts)
