"""Stop 19 (review 16, F7, f03): a goal of care recorded as comfort lowers the combination regimens and
changes the words of the plan.

f03 (81 years, KRAS-mutant, unresectable liver and lung metastases, goal of care "comfort") kept FOLFIRI,
FOLFOX and CAPOX with bevacizumab "preferred" beside best supportive care, with no word on the goal, and the
patient text and handout said that treatment aims to control the cancer "for as long as possible". Now the
intent rule intent-palliative-comfort-goal words the plan for comfort, and the warning
comfort-goal-combination-chemotherapy (cautions.yaml) is shown on every combination (a fluoropyrimidine or
raltitrexed with oxaliplatin and/or irinotecan, with or without a biologic), not on single drugs. It does not
lower them yet (its lowered copies exceed the cohort compiler's 8-bit option codes; see cautions.yaml). A
balanced goal, or a curative plan, is unchanged.
"""

from __future__ import annotations

from typing import Any

from rectoplan.adapters.handout import handout_html
from rectoplan.adapters.render_text import render_text
from rectoplan.api import validate_case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation
from tests._kb_cases import (
    LAR_TME,
    handout_prose,
    known_panel,
    review16_case,
    review16_liver_and_lung,
    with_sections,
)
from tests.test_knowledge_review3 import offered, rec

WARNING_WORDS = "The goal of care recorded with the patient is comfort: combination chemotherapy"
AS_LONG_AS = "for as long as possible"
COMBINATIONS = ("folfiri-bevacizumab", "folfox-bevacizumab", "capox-bevacizumab", "folfox", "folfiri", "capox")

# Review 16's f03, as written by the reviewer.
F03: dict[str, Any] = review16_case(
    "f03-goal-comfort-krasmut",
    advanced_disease_date="2026-11-20",
    age=81,
    primary={"status": "in_place", "stoma": False, "distance_from_anal_verge_cm": 8},
    metastases=review16_liver_and_lung(),
    biomarkers=known_panel(kras="mutant", kras_variant="G12D"),
    prior={"pelvic_radiation": False, "surgeries": [], "courses": []},
    preferences={"goal": "comfort"},
)


def f03(**changes: Any) -> dict[str, Any]:
    return with_sections(F03, **changes)


def handout_of(case: dict[str, Any], r: Recommendation, kb: KnowledgeBase) -> str:
    return handout_prose(handout_html(r, kb, validate_case(case, kb)))


def warned(option: OptionResult) -> bool:
    return any(WARNING_WORDS in w for w in option.warnings)


def test_comfort_goal_warns_on_every_combination(kb: KnowledgeBase) -> None:
    case = f03()
    r = rec(case, kb)
    got = offered(r)
    assert got["best-supportive-care"].strength == "preferred"
    for option_id in COMBINATIONS:
        assert warned(got[option_id]), option_id
    assert WARNING_WORDS in " ".join(render_text(r, kb, color=False).split())
    assert "Combinations of chemotherapy drugs are the most intensive treatments" in handout_of(case, r, kb)


def test_comfort_goal_does_not_warn_on_single_drugs(kb: KnowledgeBase) -> None:
    got = offered(rec(f03(), kb))
    for option_id in ("capecitabine-bevacizumab", "capecitabine", "best-supportive-care"):
        assert not warned(got[option_id]), option_id


def test_comfort_goal_words_do_not_promise_control_for_as_long_as_possible(kb: KnowledgeBase) -> None:
    case = f03()
    r = rec(case, kb)
    assert (r.intent, r.intent_rule) == ("palliative", "intent-palliative-comfort-goal")
    assert AS_LONG_AS not in r.patient_summary
    assert "main goal is comfort" in r.patient_summary
    assert AS_LONG_AS not in " ".join(render_text(r, kb, color=False).split())
    handout = handout_of(case, r, kb)
    assert AS_LONG_AS not in handout
    assert "main goal is comfort" in handout


def test_balanced_goal_keeps_combinations_preferred_and_the_usual_words(kb: KnowledgeBase) -> None:
    case = f03(preferences={"goal": "balanced"})
    r = rec(case, kb)
    got = offered(r)
    assert got["folfiri-bevacizumab"].strength == "preferred"
    assert not any(warned(o) for o in r.options)
    assert r.intent_rule == "intent-palliative"
    assert AS_LONG_AS in r.patient_summary
    assert AS_LONG_AS in handout_of(case, r, kb)


def test_comfort_goal_with_an_unresectable_primary_uses_the_comfort_words(kb: KnowledgeBase) -> None:
    primary = {"status": "in_place", "stoma": False, "distance_from_anal_verge_cm": 8, "resectability": "unresectable"}
    r = rec(f03(primary=primary), kb)
    assert r.intent_rule == "intent-palliative-comfort-goal"
    balanced = rec(f03(primary=primary, preferences={"goal": "balanced"}), kb)
    assert balanced.intent_rule == "intent-palliative-primary-unresectable"


def test_comfort_goal_in_a_curative_plan_lowers_nothing(kb: KnowledgeBase) -> None:
    resectable = [{"site": "liver", "count": 2, "resectability": "resectable", "largest_mm": 40}]
    primary = {"status": "resected", "stoma": False}
    prior = {"pelvic_radiation": False, "surgeries": list(LAR_TME), "courses": []}
    r = rec(f03(metastases=resectable, primary=primary, prior=prior), kb)
    assert r.intent == "curative"
    assert not any(warned(o) for o in r.options)
