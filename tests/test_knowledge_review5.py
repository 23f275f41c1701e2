"""Findings of the fourth clinical review fixed in stop 13 that are not rank-lowering warnings (those are in
`test_knowledge_lowering.py`): referral of peritoneal-only disease to an expert centre (F17). Each rule has a
test that triggers it and one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import offered, rec, with_courses


def peritoneal(resectability: str, *more_sites: dict[str, Any]) -> dict[str, Any]:
    case = with_courses()
    case["metastases"] = [{"site": "peritoneum", "count": 5, "resectability": resectability}, *more_sites]
    return case


def test_potentially_resectable_peritoneal_only_disease_lists_expert_cytoreduction(kb: KnowledgeBase) -> None:
    option = offered(rec(peritoneal("potentially_resectable"), kb))["crs-hipec"]
    assert option.strength == "consider"
    assert "expert peritoneal-surface centre" in " ".join(option.rationale)


@pytest.mark.parametrize(
    "case",
    [
        peritoneal("unresectable"),
        peritoneal("potentially_resectable", {"site": "liver", "count": 6, "resectability": "unresectable"}),
    ],
    ids=["unresectable", "with-unresectable-liver"],
)
def test_no_cytoreduction_when_peritoneal_disease_is_not_removable_or_not_alone(
    kb: KnowledgeBase, case: dict[str, Any]
) -> None:
    assert "crs-hipec" not in offered(rec(case, kb))
