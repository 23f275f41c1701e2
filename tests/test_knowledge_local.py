"""SABR to all of 1-5 metastases (SABR-COMET) and local treatment of brain metastases (ASCO-SNO-ASTRO 2021):
options sabr-oligometastases, brain-metastasis-surgery and the row radiation-brain-metastases-one-to-four.

Each rule has a case that triggers it and one that does not, from the fully characterised BASE_CASE of
conftest (fit, untreated, RAS/BRAF wild-type, primary in place, 5 unresectable liver metastases).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rectoplan.core.case import Case
from rectoplan.core.engine import OptionOutcome, assess
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge
from tests.test_knowledge_cohort import cohort_mismatches

Make = Callable[..., Case]
SABR = "sabr-oligometastases"
BRAIN_SURGERY = "brain-metastasis-surgery"
RECURRENCE = {"status": "resected", "symptoms": []}  # primary removed: a controlled primary tumour
OLIGO = [
    {"site": "liver", "count": 2, "resectability": "unresectable"},
    {"site": "lung", "count": 1, "resectability": "unresectable"},
]


def outcome(case: Case, kb: KnowledgeBase, option_id: str) -> OptionOutcome:
    found = [o for o in assess(case, kb).outcomes if o.option.id == option_id]
    assert len(found) == 1, option_id
    return found[0]


def oligo(make_case: Make, **changes: Any) -> Case:
    return make_case(**{"primary": RECURRENCE, "metastases": OLIGO, **changes})


# --- SABR-COMET --------------------------------------------------------------------------------------------
def test_sabr_offered_for_few_metastases_with_a_controlled_primary(make_case: Make, kb: KnowledgeBase) -> None:
    found = outcome(oligo(make_case), kb, SABR)
    assert found.status == "offered"
    assert found.setting is not None and found.setting.strength == "consider"
    assert found.setting.evidence == "randomised_phase2"


def test_sabr_not_with_the_primary_in_place(make_case: Make, kb: KnowledgeBase) -> None:
    assert outcome(make_case(metastases=OLIGO), kb, SABR).status == "not_applicable"


def test_sabr_not_beyond_five_metastases(make_case: Make, kb: KnowledgeBase) -> None:
    many = [{**OLIGO[0], "count": 5}, OLIGO[1]]
    assert outcome(oligo(make_case, metastases=many), kb, SABR).status == "not_applicable"


def test_sabr_not_with_peritoneal_disease(make_case: Make, kb: KnowledgeBase) -> None:
    sites = [*OLIGO, {"site": "peritoneum", "count": 1, "resectability": "unresectable"}]
    assert outcome(oligo(make_case, metastases=sites), kb, SABR).status == "not_applicable"


def test_sabr_leaves_lung_only_disease_to_sbrt_lung(make_case: Make, kb: KnowledgeBase) -> None:
    lung_only = [{"site": "lung", "count": 2, "resectability": "unresectable"}]
    case = oligo(make_case, metastases=lung_only)
    assert outcome(case, kb, SABR).status == "not_applicable"
    assert outcome(case, kb, "sbrt-lung").status == "offered"


def test_sabr_excluded_with_ecog_2_and_held_when_unknown(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = outcome(oligo(make_case, ecog=2), kb, SABR)
    assert excluded.status == "excluded"
    assert {g.id for g in excluded.blocking} == {"sabr-oligometastases-performance"}
    assert outcome(oligo(make_case, ecog=None), kb, SABR).status == "held"


# --- brain metastases: stereotactic radiosurgery for 1-4 -------------------------------------------------------
def brain(count: int, resectability: str = "unresectable") -> list[dict[str, Any]]:
    return [OLIGO[0], {"site": "brain", "count": count, "resectability": resectability}]


def test_one_to_four_brain_metastases_get_the_radiosurgery_row(make_case: Make, kb: KnowledgeBase) -> None:
    found = outcome(make_case(metastases=brain(3)), kb, "radiation-brain-metastases")
    assert found.status == "offered"
    assert found.setting is not None and found.setting.id == "radiation-brain-metastases-one-to-four"
    assert any(c.source == "asco-sno-astro-brain-2021" for c in found.setting.cite)


def test_more_than_four_brain_metastases_keep_the_general_row(make_case: Make, kb: KnowledgeBase) -> None:
    found = outcome(make_case(metastases=brain(6)), kb, "radiation-brain-metastases")
    assert found.setting is not None and found.setting.id == "radiation-brain-metastases-present"


# --- brain metastases: surgery -------------------------------------------------------------------------------
def test_single_resectable_brain_metastasis_can_be_removed(make_case: Make, kb: KnowledgeBase) -> None:
    found = outcome(make_case(metastases=brain(1, "resectable")), kb, BRAIN_SURGERY)
    assert found.status == "offered"
    assert found.setting is not None and found.setting.strength == "consider"


def test_no_brain_surgery_for_several_or_unresectable_metastases(make_case: Make, kb: KnowledgeBase) -> None:
    assert outcome(make_case(metastases=brain(2, "resectable")), kb, BRAIN_SURGERY).status == "not_applicable"
    assert outcome(make_case(metastases=brain(1, "unresectable")), kb, BRAIN_SURGERY).status == "not_applicable"


def test_brain_surgery_is_excluded_when_surgery_is_declined(make_case: Make, kb: KnowledgeBase) -> None:
    case = make_case(metastases=brain(1, "resectable"), preferences={"declines_surgery": True})
    assert outcome(case, kb, BRAIN_SURGERY).status == "excluded"


# --- the cohort engines give the same answer on these cases ---------------------------------------------
@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_cohort_engines_agree_on_local_rules(
    engine: str, kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory
) -> None:
    variants: list[dict[str, Any]] = [
        {"primary": RECURRENCE, "metastases": OLIGO},
        {"primary": RECURRENCE, "metastases": OLIGO, "ecog": 2},
        {"primary": RECURRENCE, "metastases": OLIGO, "ecog": None},
        {"metastases": OLIGO},
        {"metastases": brain(3)},
        {"metastases": brain(1, "resectable")},
        {"metastases": brain(1, "resectable"), "preferences": {"declines_surgery": True}},
    ]
    cases = [merge(BASE_CASE, {"id": f"local-{i}", **v}) for i, v in enumerate(variants)]
    assert cohort_mismatches(cases, kb, engine, tmp_path_factory.mktemp("local")) == []
