"""Stop 19 (review 16, F6, after KF4): stereotactic radiation of the liver, offered for unresectable
"Liver-only metastases", is not offered in those words beside a pelvic recurrence (c04 with one to three liver
metastases), as ablation and hepatic arterial infusion already were not; liver-only disease keeps it."""

from __future__ import annotations

import pytest

from rectoplan.adapters.render_text import render_text
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import offered, rec
from tests.test_s19_KF4_ablation import c04

WORDS = "Liver-only metastases that cannot be removed: radiation"


def _liver(count: int) -> list[dict[str, object]]:
    return [{"site": "liver", "count": count, "largest_mm": 20, "resectability": "unresectable"}]


@pytest.mark.parametrize("count", [1, 3])
def test_no_liver_sbrt_as_liver_only_beside_a_pelvic_recurrence(count: int, kb: KnowledgeBase) -> None:
    r = rec(c04(metastases=_liver(count)), kb)
    assert offered(r).get("sbrt-liver") is None or offered(r)["sbrt-liver"].setting != "sbrt-liver-unresectable"
    assert WORDS not in render_text(r, kb, color=False)


def test_liver_only_unresectable_metastases_keep_liver_sbrt(kb: KnowledgeBase) -> None:
    r = rec(c04(metastases=_liver(3), local_recurrence=None), kb)
    assert offered(r)["sbrt-liver"].setting == "sbrt-liver-unresectable"
    assert WORDS in render_text(r, kb, color=False)
