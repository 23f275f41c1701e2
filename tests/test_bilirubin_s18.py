"""Stop 18, review 15 finding 3 (first part): bilirubin above 3 times the upper limit of normal excludes irinotecan.

The case recorded only `health.bilirubin_raised` (above the upper limit of normal), so the Campto SmPC's
contraindication, 4.3 "Bilirubin >3 times the upper limit of the normal range", could only be quoted in the
caution `irinotecan-raised-bilirubin`, and FOLFIRI + bevacizumab stayed first and "preferred" (review 15's
k03). The declared field `health.bilirubin_over_3_uln` records the magnitude; the gate
`irinotecan-bilirubin-over-3-uln` (gates.yaml) excludes every irinotecan option when it is true. Unrecorded,
nothing changes: the caution on raised bilirubin still names the threshold.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rectoplan.api import recommend
from rectoplan.core.fields import BY_FACT
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import recorded_health, review15_case

FIELD = "health.bilirubin_over_3_uln"
GATE = "irinotecan-bilirubin-over-3-uln"
REASON = "Total bilirubin above 3 times the upper limit of normal"
IRINOTECAN_FIRST_LINE = {"folfiri-bevacizumab", "folfoxiri-bevacizumab", "folfiri"}

# Review 15's k03-bilirubin-raised-liver-ras-mut-1st, as given (first line, 25 liver metastases, KRAS G12D).
K03: dict[str, Any] = review15_case(
    "k03-bilirubin-raised-liver-ras-mut-1st",
    "2026-11-10",
    metastases=[{"site": "liver", "count": 25, "resectability": "unresectable"}],
    health=recorded_health(bilirubin_raised=True),
)


def _k03(over_3_uln: bool | None) -> dict[str, Any]:
    case = copy.deepcopy(K03)
    if over_3_uln is not None:
        case["health"]["bilirubin_over_3_uln"] = over_3_uln
    return case


def _result(case: dict[str, Any], kb: KnowledgeBase) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    result = recommend(case, kb).to_dict()
    return {o["id"]: o for o in result["options"]}, {e["id"]: " ".join(e["reasons"]) for e in result["excluded"]}


def test_the_field_is_declared_as_a_boolean() -> None:
    field = BY_FACT[FIELD]
    assert field.kind == "bool" and "3 times the upper limit of normal" in field.doc


def test_every_irinotecan_option_is_under_the_gate(kb: KnowledgeBase) -> None:
    with_irinotecan = [o for o in kb.options if "irinotecan" in o.components]
    assert with_irinotecan
    for option in kb.options:
        assert (GATE in {g.id for g in option.gates}) == (option in with_irinotecan), option.id


def test_bilirubin_over_3_uln_excludes_every_irinotecan_option(kb: KnowledgeBase) -> None:
    offered, excluded = _result(_k03(True), kb)
    assert not any("irinotecan" in kb.option(oid).components for oid in offered)
    for oid in IRINOTECAN_FIRST_LINE:
        assert REASON in excluded[oid], (oid, excluded.get(oid))
        assert "Campto" in excluded[oid]
    assert "folfox-bevacizumab" in offered  # the oxaliplatin doublet stays


@pytest.mark.parametrize("over_3_uln", [False, None])
def test_bilirubin_up_to_3_uln_or_unrecorded_keeps_irinotecan(kb: KnowledgeBase, over_3_uln: bool | None) -> None:
    offered, excluded = _result(_k03(over_3_uln), kb)
    assert "folfiri-bevacizumab" in offered
    assert not any(REASON in reason for reason in excluded.values())
    # the caution on raised bilirubin still names the SmPC's threshold
    assert any("3 times the upper limit of normal" in w for w in offered["folfiri-bevacizumab"]["warnings"])
