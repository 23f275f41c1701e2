"""Stop 16 (request from the declined-surgery work): in a curative plan without an operation (surgery
declined; ablation or stereotactic radiation treats every lesion: review 10's w12, review 12's y02 and y05),
bevacizumab and the anti-EGFR antibodies were excluded with "Complete removal of all disease is expected ...
not usually given before surgery", which is untrue when no operation is planned.

The two gates are now split by whether an operation is part of the plan. With surgery declined the reasons
say the plan aims at cure without an operation and that the rule is carried over from surgery (same
citations: seed A, the bevacizumab label, New EPOC). The set of options excluded is unchanged: every curative
plan excludes them, with surgery declined or not, and the surgical wording is kept when an operation is planned.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_declined_surgery import case
from tests.test_knowledge_review3 import excluded, offered, rec

BEVACIZUMAB = ("folfox-bevacizumab", "capox-bevacizumab", "folfoxiri-bevacizumab")
ANTI_EGFR = ("folfox-panitumumab", "folfiri-cetuximab")
SURGICAL = "Complete removal of all disease is expected"
WITHOUT_OPERATION = "The plan aims at cure with ablation or stereotactic radiation, without an operation"
WILD_TYPE = {
    "kras": "wild_type",
    "nras": "wild_type",
    "braf": "wild_type",
    "mmr": "pmmr_mss",
    "her2_result": "ihc0_1",
}


def liver(count: int, size: int) -> dict[str, Any]:
    return {"site": "liver", "count": count, "resectability": "resectable", "largest_mm": size}


def lung(count: int) -> dict[str, Any]:
    return {"site": "lung", "count": count, "resectability": "resectable", "largest_mm": 10}


# w12 (one 25 mm liver metastasis), y05 (one 55 mm), y02 (two liver and two lung), RAS wild-type so that the
# anti-EGFR exclusion is the surgical-context gate alone
DECLINED_CURATIVE = {
    "w12": {},
    "y05": {"ecog": 0, "metastases": [liver(1, 55)]},
    "y02": {"ecog": 0, "metastases": [liver(2, 15), lung(2)]},
}


def rules_of(r: Recommendation, option_id: str) -> tuple[str, ...]:
    return next(e.rules for e in r.excluded if e.id == option_id)


def reasons(r: Recommendation, option_id: str) -> str:
    return " ".join(excluded(r)[option_id])


@pytest.mark.parametrize("name", list(DECLINED_CURATIVE))
def test_curative_plan_without_an_operation_says_so(name: str, kb: KnowledgeBase) -> None:
    r = rec(case(biomarkers=WILD_TYPE, **DECLINED_CURATIVE[name]), kb)
    assert r.intent == "curative"
    for option_id in BEVACIZUMAB:
        assert "targeted-not-with-curative-local-treatment" in rules_of(r, option_id)
        assert reasons(r, option_id).startswith(WITHOUT_OPERATION)
        assert SURGICAL not in reasons(r, option_id)
    for option_id in ANTI_EGFR:
        assert "anti-egfr-not-with-curative-local-treatment" in rules_of(r, option_id)
        assert "New EPOC" in reasons(r, option_id) and SURGICAL not in reasons(r, option_id)
    # the same citations as the surgical gates
    bevacizumab = next(e for e in r.excluded if e.id == "folfox-bevacizumab")
    assert {s.source for s in bevacizumab.sources} >= {"seed-a", "fda-bevacizumab"}
    anti_egfr = next(e for e in r.excluded if e.id == "folfox-panitumumab")
    assert "new-epoc" in {s.source for s in anti_egfr.sources}
    assert not set(BEVACIZUMAB + ANTI_EGFR) & set(offered(r))


@pytest.mark.parametrize("preferences", [{"goal": "balanced", "declines": []}, None], ids=["recorded", "absent"])
def test_curative_plan_with_an_operation_keeps_the_surgical_reason(
    preferences: dict[str, Any] | None, kb: KnowledgeBase
) -> None:
    data = case(biomarkers=WILD_TYPE, preferences=preferences)
    if preferences is None:
        del data["preferences"]
    r = rec(data, kb)
    assert r.intent == "curative"
    for option_id in BEVACIZUMAB:
        assert "targeted-not-before-curative-surgery" in rules_of(r, option_id)
        assert "targeted-not-with-curative-local-treatment" not in rules_of(r, option_id)
        assert reasons(r, option_id).startswith(SURGICAL)
    for option_id in ANTI_EGFR:
        assert "anti-egfr-not-around-curative-surgery" in rules_of(r, option_id)
        assert WITHOUT_OPERATION not in reasons(r, option_id)


def test_palliative_plan_after_declined_surgery_excludes_neither(kb: KnowledgeBase) -> None:
    # twelve liver metastases: beyond what the curative routes without an operation admit
    r = rec(case(biomarkers=WILD_TYPE, metastases=[liver(12, 20)]), kb)
    assert r.intent == "palliative"
    assert "folfox-bevacizumab" in offered(r) and "folfox-panitumumab" in offered(r)
