"""Stop 16 (twelfth review, P1, P2, P3, P6, P7): the curative routes without an operation, widened.

- P1: liver stereotactic radiation has its own curative route (intent-curative-surgery-declined-liver-sbrt):
  liver only, 1-3 metastases, none larger than 6 cm (the limit a review gives: Ihnát 2018), ECOG 0-1
  (SABR-COMET), radiation not declined; row sbrt-liver-surgery-declined-beyond-ablation makes it preferred
  when a lesion is beyond the 3 cm of thermal ablation (review 12's y05: one 55 mm metastasis).
- P2: liver and lung metastases together (intent-curative-surgery-declined-liver-lung-local): at most 5 in all,
  1-3 in the lungs, the liver lesions within ablation (up to 3 cm) or stereotactic radiation (1-3 up to 6 cm),
  ECOG 0-1, radiation not declined (review 12's y02).
- P3: with surgery declined, an unknown liver lesion size that would decide the route asks for the test
  liver_lesion_size (review 12's y04).
- P6: the RFA text for patients no longer speaks of a cut in the abdomen for tumours that cannot be removed.
- P7: when radiation is declined too, stereotactic radiation is listed as declined (review 12's y03).

Each rule has cases that trigger it and cases that must not.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge
from tests.test_knowledge_cohort import cohort_mismatches
from tests.test_knowledge_declined_surgery import DECLINED, case, excluded_reasons, row_of
from tests.test_knowledge_review3 import offered, rec

LIVER_SBRT_RULE = "intent-curative-surgery-declined-liver-sbrt"
LIVER_LUNG_RULE = "intent-curative-surgery-declined-liver-lung-local"
ABLATION_RULE = "intent-curative-surgery-declined-liver-ablation"
PALLIATIVE_RULE = "intent-palliative-surgery-declined"
DECLINED_RADIATION = "The patient has declined radiation therapy."
BOTH_DECLINED = {"goal": "balanced", "declines": ["surgery", "radiation"]}


def liver(count: int, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"site": "liver", "count": count, "resectability": "resectable"}
    if size is not None:
        out["largest_mm"] = size
    return out


def lung(count: int, size: int = 10) -> dict[str, Any]:
    return {"site": "lung", "count": count, "resectability": "resectable", "largest_mm": size}


def y05(**changes: Any) -> dict[str, Any]:
    """One 55 mm resectable liver metastasis, ECOG 0, surgery declined."""
    return case(**{"ecog": 0, "metastases": [liver(1, 55)], **changes})


def y02(**changes: Any) -> dict[str, Any]:
    """Two 15 mm liver and two 10 mm lung metastases, all resectable, ECOG 0, surgery declined."""
    return case(**{"ecog": 0, "metastases": [liver(2, 15), lung(2)], **changes})


def needed_tests(data: dict[str, Any], kb: KnowledgeBase) -> set[str]:
    return {t.test for t in rec(data, kb).tests_needed}


# --- P1: liver stereotactic radiation beyond 3 cm ------------------------------------------------------------
def test_y05_single_55_mm_liver_metastasis_gets_curative_stereotactic_radiation(kb: KnowledgeBase) -> None:
    r = rec(y05(), kb)
    assert r.intent == "curative" and r.intent_rule == LIVER_SBRT_RULE
    assert "precisely focused radiation" in r.patient_summary
    sbrt = offered(r)["sbrt-liver"]
    assert sbrt.strength == "preferred"
    assert row_of(r, "sbrt-liver") == "sbrt-liver-surgery-declined-beyond-ablation"
    assert sbrt.evidence[0] == "randomised_phase2"
    assert {s.source for s in sbrt.sources} >= {"sabr-comet", "liver-sbrt-review"}
    assert r.options[0].id == "sbrt-liver"
    assert r.summary.startswith("Curative intent, no prior line: Stereotactic radiation to liver metastases")
    # thermal ablation is beyond its 3 cm: listed with the reason, not offered
    for option_id in ("radiofrequency-ablation", "microwave-ablation"):
        assert option_id not in offered(r)
        assert "larger than 3 cm" in excluded_reasons(r)[option_id][0]
    assert excluded_reasons(r)["liver-resection"] == (DECLINED,)


def test_three_liver_metastases_of_6_cm_still_within_the_route(kb: KnowledgeBase) -> None:
    r = rec(y05(metastases=[liver(3, 60)], ecog=1), kb)
    assert r.intent_rule == LIVER_SBRT_RULE
    assert offered(r)["sbrt-liver"].strength == "preferred"


def test_up_to_3_cm_ablation_still_leads(kb: KnowledgeBase) -> None:
    r = rec(y05(metastases=[liver(1, 30)]), kb)
    assert r.intent_rule == ABLATION_RULE
    assert row_of(r, "sbrt-liver") == "sbrt-liver-surgery-declined"
    assert offered(r)["sbrt-liver"].strength == "alternative"


@pytest.mark.parametrize(
    "changes",
    [
        {"metastases": [liver(1, 61)]},  # beyond 6 cm
        {"metastases": [liver(4, 40)]},  # more than 3 lesions, beyond ablation
        {"ecog": 2},  # SABR-COMET enrolled ECOG 0-1
        {"metastases": [liver(1, None)]},  # size not recorded
        {"metastases": [liver(1, 55), {"site": "peritoneum", "count": 1, "resectability": "resectable"}]},
    ],
    ids=["61-mm", "four-lesions", "ecog-2", "size-unknown", "with-peritoneum"],
)
def test_liver_sbrt_route_not_outside_its_limits(changes: dict[str, Any], kb: KnowledgeBase) -> None:
    r = rec(y05(**changes), kb)
    assert r.intent == "palliative" and r.intent_rule == PALLIATIVE_RULE
    assert "sbrt-liver" not in offered(r)


def test_liver_sbrt_route_not_when_radiation_is_declined_and_listed_as_declined(kb: KnowledgeBase) -> None:
    r = rec(y05(preferences=BOTH_DECLINED), kb)
    assert r.intent == "palliative" and r.intent_rule == PALLIATIVE_RULE
    assert excluded_reasons(r)["sbrt-liver"] == (DECLINED_RADIATION,)
    assert "radiation" not in r.patient_summary


# --- P2: liver and lung together ------------------------------------------------------------------------------
def test_y02_liver_and_lung_metastases_get_curative_local_treatment(kb: KnowledgeBase) -> None:
    r = rec(y02(), kb)
    assert r.intent == "curative" and r.intent_rule == LIVER_LUNG_RULE
    assert "can still aim at cure" in r.patient_summary
    found = offered(r)
    assert found["sbrt-lung"].strength == "preferred"
    assert row_of(r, "sbrt-lung") == "sbrt-lung-surgery-declined-with-liver"
    for option_id in ("radiofrequency-ablation", "microwave-ablation"):
        assert found[option_id].strength == "preferred"
        assert row_of(r, option_id) == f"{option_id}-surgery-declined-with-lung"
        assert found[option_id].evidence[0] == "extrapolated"  # COLLISION enrolled liver-only disease
    assert found["sbrt-liver"].strength == "alternative"
    assert row_of(r, "sbrt-liver") == "sbrt-liver-surgery-declined-with-lung"
    assert "sabr-oligometastases" not in found
    reasons = excluded_reasons(r)
    assert reasons["liver-resection"] == (DECLINED,) and reasons["lung-resection"] == (DECLINED,)


def test_liver_lesion_beyond_ablation_with_lung_metastases_gets_liver_sbrt(kb: KnowledgeBase) -> None:
    r = rec(y02(metastases=[liver(1, 45), lung(2)]), kb)
    assert r.intent_rule == LIVER_LUNG_RULE
    assert row_of(r, "sbrt-liver") == "sbrt-liver-surgery-declined-beyond-ablation"
    assert offered(r)["sbrt-liver"].strength == "preferred"
    assert "radiofrequency-ablation" not in offered(r)


@pytest.mark.parametrize(
    "changes",
    [
        {"metastases": [liver(3, 15), lung(3)]},  # 6 metastases in all
        {"metastases": [liver(1, 15), lung(4)]},  # 4 in the lungs
        {"metastases": [liver(4, 40), lung(1)]},  # liver beyond ablation and beyond 3 lesions for SBRT
        {"metastases": [liver(2, 65), lung(1)]},  # liver beyond 6 cm
        {"metastases": [liver(2, 15), lung(2), {"site": "bone", "count": 1, "resectability": "resectable"}]},
        {"ecog": 2},
        {"preferences": BOTH_DECLINED},
    ],
    ids=["six-lesions", "four-in-lungs", "liver-4x40", "liver-65-mm", "third-organ", "ecog-2", "radiation-declined"],
)
def test_liver_lung_route_not_outside_its_limits(changes: dict[str, Any], kb: KnowledgeBase) -> None:
    r = rec(y02(**changes), kb)
    assert r.intent == "palliative"
    assert r.intent_rule in (PALLIATIVE_RULE, "intent-palliative")
    assert not {"radiofrequency-ablation", "microwave-ablation", "sbrt-liver", "sbrt-lung"} & set(offered(r))


def test_liver_lung_with_radiation_declined_lists_lung_sbrt_as_declined(kb: KnowledgeBase) -> None:
    r = rec(y02(preferences=BOTH_DECLINED), kb)
    assert excluded_reasons(r)["sbrt-lung"] == (DECLINED_RADIATION,)


# --- P3: the liver lesion size, when it decides -------------------------------------------------------------
def test_y04_unknown_liver_size_asks_for_the_measurement(kb: KnowledgeBase) -> None:
    r = rec(y05(metastases=[liver(2, None)]), kb)
    assert r.intent == "palliative"
    needed = {t.test: t for t in r.tests_needed}
    assert "liver_lesion_size" in needed
    assert "liver MRI" in needed["liver_lesion_size"].why
    assert {s.source for s in needed["liver_lesion_size"].sources} >= {"collision", "liver-mri-review"}


def test_unknown_liver_size_with_lung_metastases_asks_for_the_measurement(kb: KnowledgeBase) -> None:
    assert "liver_lesion_size" in needed_tests(y02(metastases=[liver(2, None), lung(2)]), kb)


@pytest.mark.parametrize(
    "data",
    [
        y05(metastases=[liver(2, 15)]),  # size known
        y05(metastases=[liver(2, None)], preferences={"goal": "balanced", "declines": []}),  # surgery accepted
        y05(metastases=[liver(2, None), {"site": "peritoneum", "count": 1, "resectability": "resectable"}]),
        y05(metastases=[liver(11, None)]),  # beyond ablation whatever the size
        y05(metastases=[liver(2, None)], ecog=3),
        y02(metastases=[liver(2, None), lung(2)], preferences=BOTH_DECLINED),  # lungs need radiation
    ],
    ids=["size-known", "surgery-accepted", "with-peritoneum", "eleven-lesions", "ecog-3", "liver-lung-no-rt"],
)
def test_liver_size_not_asked_when_it_decides_nothing(data: dict[str, Any], kb: KnowledgeBase) -> None:
    assert "liver_lesion_size" not in needed_tests(data, kb)


# --- P6: the patient's words ------------------------------------------------------------------------------------
def test_rfa_patient_text_speaks_of_no_cut_after_declined_surgery(kb: KnowledgeBase) -> None:
    r = rec(case(), kb)  # w12: 25 mm, surgery declined
    text = " ".join(offered(r)["radiofrequency-ablation"].patient_explanation.split())
    assert "makes a cut" not in text and "laparoscope" not in text
    assert "instead of an operation" in text


def test_ablation_route_patient_text_offers_no_radiation_when_declined(kb: KnowledgeBase) -> None:
    r = rec(case(preferences=BOTH_DECLINED), kb)
    assert r.intent_rule == ABLATION_RULE
    assert "radiation" not in r.patient_summary


# --- P7: lung only, surgery and radiation declined (y03) --------------------------------------------------------
def test_y03_lung_sbrt_listed_as_declined_radiation(kb: KnowledgeBase) -> None:
    r = rec(case(ecog=0, metastases=[lung(2, 12)], preferences=BOTH_DECLINED), kb)
    assert r.intent == "palliative"
    assert excluded_reasons(r)["sbrt-lung"] == (DECLINED_RADIATION,)
    assert excluded_reasons(r)["lung-resection"] == (DECLINED,)


def test_lung_sbrt_not_listed_as_declined_outside_sabr_comet(kb: KnowledgeBase) -> None:
    r = rec(case(ecog=2, metastases=[lung(2, 12)], preferences=BOTH_DECLINED), kb)
    assert "sbrt-lung" not in excluded_reasons(r) and "sbrt-lung" not in offered(r)


def test_lung_sbrt_offered_when_only_surgery_is_declined(kb: KnowledgeBase) -> None:
    r = rec(case(ecog=0, metastases=[lung(2, 12)]), kb)
    assert offered(r)["sbrt-lung"].strength == "preferred"
    assert "sbrt-lung" not in excluded_reasons(r)


# --- the cohort engine gives the same answers ---------------------------------------------------------------
def test_cohort_engine_agrees_on_the_new_routes(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> None:
    resected = {"primary": {"status": "resected", "symptoms": []}, "ecog": 0}
    declined = {"declines_surgery": True}
    both = {"declines_surgery": True, "declines_radiation": True}
    variants: list[dict[str, Any]] = [
        {"metastases": [liver(1, 55)], "preferences": declined},
        {"metastases": [liver(1, 55)], "preferences": both},
        {"metastases": [liver(1, 61)], "preferences": declined},
        {"metastases": [liver(2, 15), lung(2)], "preferences": declined},
        {"metastases": [liver(1, 45), lung(2)], "preferences": declined},
        {"metastases": [liver(3, 15), lung(3)], "preferences": declined},
        {"metastases": [liver(2, None), lung(2)], "preferences": declined},
        {"metastases": [lung(2)], "preferences": both},
    ]
    cases = [merge(BASE_CASE, {"id": f"s16-{i}", **resected, **v}) for i, v in enumerate(variants)]
    assert cohort_mismatches(cases, kb, "polars", tmp_path_factory.mktemp("s16-declined")) == []
