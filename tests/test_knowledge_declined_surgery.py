"""Tenth review, finding 1: a patient who declines surgery but whose disease can all be treated without an
operation. Intent rules intent-curative-surgery-declined-liver-ablation (COLLISION: liver only, at most 10
metastases, none larger than 3 cm, ECOG 0-2) and intent-curative-surgery-declined-lung-sbrt (SABR-COMET:
1-3 lung metastases only, ECOG 0-1); rows radiofrequency-ablation-surgery-declined,
microwave-ablation-surgery-declined, sbrt-liver-surgery-declined and sbrt-lung-surgery-declined; the
liver and lung resections of resectable disease are listed as declined (gate declined-surgery), whatever the
intent, instead of vanishing.

Each rule has cases that trigger it (w12-like, w02b-like) and cases that must not (a 65 mm lesion, beyond
both ablation and the 6 cm of the liver SBRT route of stop 16, tested in test_knowledge_s16_declined_routes.py;
peritoneal disease, more than 10 liver or 3 lung lesions, an unknown size, a frail patient, ECOG 2 for the
lung, radiation also declined, the primary still in place), and a patient who does not decline surgery
keeps the plan of before.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.conftest import BASE_CASE, merge
from tests.test_knowledge_cohort import cohort_mismatches
from tests.test_knowledge_review3 import HEALTH, LIVER_ONLY, offered, rec

LIVER_RULE = "intent-curative-surgery-declined-liver-ablation"
LUNG_RULE = "intent-curative-surgery-declined-lung-sbrt"
DECLINED_RULE = "intent-palliative-surgery-declined"
NEW_ROWS = {
    "radiofrequency-ablation-surgery-declined",
    "microwave-ablation-surgery-declined",
    "sbrt-liver-surgery-declined",
    "sbrt-lung-surgery-declined",
}
DECLINED = "The patient has declined surgery."

# Review 10's w12: a single 25 mm resectable liver metastasis after a resected primary; declines surgery.
W12: dict[str, Any] = {
    **copy.deepcopy(LIVER_ONLY),
    "id": "declined-surgery",
    "as_of": "2026-12-01",
    "advanced_disease_date": "2026-11-10",
    "age": 62,
    "primary": {"status": "resected", "stoma": False, "symptoms": []},
    "metastases": [{"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 25}],
    "prior": {
        "pelvic_radiation": True,
        "surgeries": ["low_anterior_resection", "total_mesorectal_excision"],
        "courses": [
            {
                "agents": ["capecitabine", "oxaliplatin"],
                "setting": "adjuvant",
                "start": "2023-06-01",
                "end": "2023-11-15",
                "status": "completed",
            }
        ],
    },
    "health": {**HEALTH, "frail": False},
    "preferences": {"goal": "balanced", "declines": ["surgery"]},
    "wants_clinical_trials": True,
}
# Review 10's w02b: two 9 mm resectable lung metastases, ECOG 0; declines surgery.
W02B_METASTASES = [{"site": "lung", "count": 2, "resectability": "resectable", "largest_mm": 9}]


def case(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(W12)
    out.update(copy.deepcopy(changes))
    return out


def lung(**changes: Any) -> dict[str, Any]:
    return case(**{"ecog": 0, "metastases": W02B_METASTASES, **changes})


def row_of(r: Recommendation, option_id: str) -> str:
    return offered(r)[option_id].setting


def excluded_reasons(r: Recommendation) -> dict[str, tuple[str, ...]]:
    return {e.id: e.reasons for e in r.excluded}


def new_rows_used(r: Recommendation) -> set[str]:
    return {o.setting for o in r.options} & NEW_ROWS


# --- liver only, within COLLISION (w12) ----------------------------------------------------------------------
def test_w12_liver_metastasis_declined_surgery_aims_at_cure_with_ablation(kb: KnowledgeBase) -> None:
    r = rec(case(), kb)
    assert r.intent == "curative"
    assert r.intent_rule == LIVER_RULE
    assert "can still aim at cure" in r.patient_summary
    assert r.summary.startswith("Curative intent, no prior line: Radiofrequency ablation")
    found = offered(r)
    for option_id in ("radiofrequency-ablation", "microwave-ablation"):
        assert found[option_id].strength == "preferred"
        assert row_of(r, option_id) == f"{option_id}-surgery-declined"
        assert found[option_id].evidence[0] == "phase3_rct"
        assert "COLLISION" in " ".join(found[option_id].rationale)
        assert any(s.source == "collision" for s in found[option_id].sources)
    assert [o.id for o in r.options[:2]] == ["radiofrequency-ablation", "microwave-ablation"]
    assert found["sbrt-liver"].strength == "alternative"
    assert row_of(r, "sbrt-liver") == "sbrt-liver-surgery-declined"


def test_w12_liver_resection_is_listed_as_declined_not_dropped(kb: KnowledgeBase) -> None:
    r = rec(case(), kb)
    assert "liver-resection" not in offered(r)
    assert excluded_reasons(r)["liver-resection"] == (DECLINED,)


def test_ten_small_liver_metastases_still_within_collision(kb: KnowledgeBase) -> None:
    ten = [{"site": "liver", "count": 10, "resectability": "resectable", "largest_mm": 30}]
    r = rec(case(metastases=ten), kb)
    assert r.intent_rule == LIVER_RULE
    assert offered(r)["microwave-ablation"].strength == "preferred"
    # stereotactic radiation is for 1-3 liver metastases: listed as excluded, with the reason
    assert "sbrt-liver" in excluded_reasons(r)


def test_liver_ecog_2_ablation_but_no_stereotactic_radiation(kb: KnowledgeBase) -> None:
    r = rec(case(ecog=2), kb)
    assert r.intent_rule == LIVER_RULE  # COLLISION enrolled ECOG 0-2
    assert "radiofrequency-ablation" in offered(r)
    assert "sbrt-liver" not in offered(r)  # SABR-COMET enrolled ECOG 0-1 only


# --- lung only, within SABR-COMET (w02b) ---------------------------------------------------------------------
def test_w02b_lung_metastases_declined_surgery_aims_at_cure_with_sbrt(kb: KnowledgeBase) -> None:
    r = rec(lung(), kb)
    assert r.intent == "curative"
    assert r.intent_rule == LUNG_RULE
    assert "can still aim at cure" in r.patient_summary
    sbrt = offered(r)["sbrt-lung"]
    assert sbrt.strength == "preferred" and sbrt.rank == min(o.rank for o in r.options if o.kind != "clinical_trial")
    assert row_of(r, "sbrt-lung") == "sbrt-lung-surgery-declined"
    assert sbrt.evidence[0] == "randomised_phase2"
    assert "SABR-COMET" in " ".join(sbrt.rationale)
    assert excluded_reasons(r)["lung-resection"] == (DECLINED,)


def test_lung_sbrt_not_curative_when_radiation_also_declined(kb: KnowledgeBase) -> None:
    r = rec(lung(preferences={"declines": ["surgery", "radiation"]}), kb)
    assert r.intent == "palliative" and r.intent_rule == DECLINED_RULE


@pytest.mark.parametrize(
    "changes",
    [
        {"ecog": 2},  # SABR-COMET enrolled ECOG 0-1
        {"metastases": [{"site": "lung", "count": 4, "resectability": "resectable", "largest_mm": 9}]},
    ],
    ids=["ecog-2", "four-lesions"],
)
def test_lung_outside_sabr_comet_stays_palliative(changes: dict[str, Any], kb: KnowledgeBase) -> None:
    r = rec(lung(**changes), kb)
    assert r.intent == "palliative" and r.intent_rule == DECLINED_RULE
    assert not new_rows_used(r)


# --- outside the trials: palliative, as before ---------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 65}]},
        {"metastases": [{"site": "liver", "count": 11, "resectability": "resectable", "largest_mm": 20}]},
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable"}]},  # size not recorded
        {
            "metastases": [
                {"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 25},
                {"site": "peritoneum", "count": 1, "resectability": "resectable", "largest_mm": 10},
            ]
        },
        {"metastases": [{"site": "peritoneum", "count": 1, "resectability": "resectable", "largest_mm": 10}]},
        {"health": {**HEALTH, "frail": True}},
        {"ecog": 3},
        {"ecog": None},
        {"primary": {"status": "in_place", "resectability": "resectable", "symptoms": []}},
    ],
    ids=[
        "65-mm",
        "eleven-lesions",
        "size-unknown",
        "liver-and-peritoneum",
        "peritoneum-only",
        "frail",
        "ecog-3",
        "ecog-unknown",
        "primary-in-place",
    ],
)
def test_declined_surgery_outside_the_trials_stays_palliative(changes: dict[str, Any], kb: KnowledgeBase) -> None:
    data = case(**{k: v for k, v in changes.items() if v is not None})
    for k in (k for k, v in changes.items() if v is None):
        del data[k]
    r = rec(data, kb)
    assert r.intent == "palliative"
    assert r.intent_rule in (DECLINED_RULE, "intent-palliative-unfit")
    assert not new_rows_used(r)
    assert "liver-resection" not in offered(r) and "lung-resection" not in offered(r)


@pytest.mark.parametrize(
    "changes",
    [
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 65}]},
        {"health": {**HEALTH, "frail": True}},
        {
            "metastases": [
                {"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 25},
                {"site": "peritoneum", "count": 1, "resectability": "resectable", "largest_mm": 10},
            ]
        },
    ],
    ids=["65-mm", "frail", "liver-and-peritoneum"],
)
def test_palliative_after_declined_surgery_lists_the_resection_as_declined(
    changes: dict[str, Any], kb: KnowledgeBase
) -> None:
    r = rec(case(**changes), kb)
    assert r.intent == "palliative"
    assert excluded_reasons(r)["liver-resection"] == (DECLINED,)


def test_unresectable_disease_lists_no_declined_resection(kb: KnowledgeBase) -> None:
    unresectable = [{"site": "liver", "count": 1, "resectability": "unresectable", "largest_mm": 45}]
    r = rec(case(metastases=unresectable), kb)
    assert "liver-resection" not in excluded_reasons(r) and "liver-resection" not in offered(r)


def test_lung_resection_listed_as_declined_when_sbrt_is_not_possible(kb: KnowledgeBase) -> None:
    r = rec(lung(ecog=2), kb)
    assert r.intent == "palliative"
    assert excluded_reasons(r)["lung-resection"] == (DECLINED,)


# --- not declining surgery: the plan of before ---------------------------------------------------------------
@pytest.mark.parametrize("metastases", [W12["metastases"], W02B_METASTASES], ids=["liver", "lung"])
def test_without_declining_surgery_the_operation_leads_as_before(
    metastases: list[dict[str, Any]], kb: KnowledgeBase
) -> None:
    r = rec(case(metastases=metastases, preferences={"goal": "balanced", "declines": []}), kb)
    assert r.intent == "curative" and r.intent_rule == "intent-curative"
    assert not new_rows_used(r)
    surgery = "liver-resection" if metastases[0]["site"] == "liver" else "lung-resection"
    assert offered(r)[surgery].strength == "preferred"
    assert r.options[0].id == surgery
    assert "can still aim at cure" not in r.patient_summary


# --- the cohort engine gives the same answers ----------------------------------------------------------------
def test_cohort_engine_agrees_on_declined_surgery(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> None:
    resected = {"primary": {"status": "resected", "symptoms": []}, "preferences": {"declines_surgery": True}}
    variants: list[dict[str, Any]] = [
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 25}]},
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable", "largest_mm": 45}]},
        {"metastases": [{"site": "liver", "count": 3, "resectability": "resectable"}]},
        {"metastases": [{"site": "lung", "count": 2, "resectability": "resectable", "largest_mm": 9}], "ecog": 0},
        {"metastases": [{"site": "lung", "count": 2, "resectability": "resectable", "largest_mm": 9}], "ecog": 2},
    ]
    cases = [merge(BASE_CASE, {"id": f"declined-{i}", **resected, **v}) for i, v in enumerate(variants)]
    assert cohort_mismatches(cases, kb, "polars", tmp_path_factory.mktemp("declined")) == []
