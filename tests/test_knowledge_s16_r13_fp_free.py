"""Review 13, finding 3: a fit patient who cannot receive a fluoropyrimidine gets a fluoropyrimidine-free doublet.

z22 (DPYD poor metaboliser) and z23 (earlier fluoropyrimidine cardiotoxicity), both fit, first line, were
offered raltitrexed alone and irinotecan alone. Raltitrexed + oxaliplatin (TOMOX) and raltitrexed + irinotecan
(TOMIRI) are now alternatives at first line (options/12_fluoropyrimidine_free.yaml: Feliu 2005, randomised
phase 2; Barni, systematic review; the 2014 meta-analysis; Deboever 2013), for patients fit for intensive
therapy at ECOG 0-1 only, and never where raltitrexed is contraindicated (creatinine clearance below 25
mL/min, z28). Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rectoplan.core.case import Case
from rectoplan.core.engine import assess, recommend
from rectoplan.core.knowledge import KnowledgeBase

Make = Callable[..., Case]
DOUBLETS = ("raltitrexed-oxaliplatin", "raltitrexed-irinotecan")
KRAS_G12V = {"kras": "mutant", "kras_variant": "G12V"}
CANNOT_HAVE_FP: list[dict[str, Any]] = [{"dpyd": "poor"}, {"fluoropyrimidine_cardiotoxicity": True}]


def _status(case: Case, kb: KnowledgeBase, option_id: str) -> str:
    return next(o.status for o in assess(case, kb).outcomes if o.option.id == option_id)


def _offered(case: Case, kb: KnowledgeBase) -> dict[str, Any]:
    return {o.id: o for o in recommend(case, kb, what_if=False).options}


@pytest.mark.parametrize("health", CANNOT_HAVE_FP)
def test_fit_first_line_without_fluoropyrimidine_gets_raltitrexed_doublets(
    make_case: Make, kb: KnowledgeBase, health: dict[str, Any]
) -> None:
    offered = _offered(make_case(biomarkers=KRAS_G12V, health=health), kb)
    for option_id in DOUBLETS:
        assert (offered[option_id].phase, offered[option_id].strength) == ("first_line", "alternative")
        assert offered[option_id].evidence[0] == "randomised_phase2"
        assert "feliu-tomox-tomiri" in {s.source for s in offered[option_id].sources}
    # the doublets rank before the single agents they complete
    ranks = {o: offered[o].rank for o in (*DOUBLETS, "raltitrexed", "irinotecan")}
    assert max(ranks[d] for d in DOUBLETS) < min(ranks["raltitrexed"], ranks["irinotecan"])


def test_the_cardiotoxicity_row_cites_the_review_of_alternatives(make_case: Make, kb: KnowledgeBase) -> None:
    offered = _offered(make_case(health={"fluoropyrimidine_cardiotoxicity": True}), kb)
    assert "deboever-fp-cardiotoxicity" in {s.source for s in offered["raltitrexed-oxaliplatin"].sources}


def test_no_doublet_when_a_fluoropyrimidine_can_be_given(make_case: Make, kb: KnowledgeBase) -> None:
    for health in ({"dpyd": "normal"}, {"dpyd": "intermediate"}, {"fluoropyrimidine_cardiotoxicity": False}):
        case = make_case(health=health)
        for option_id in DOUBLETS:
            assert _status(case, kb, option_id) == "not_applicable", (health, option_id)


@pytest.mark.parametrize("health", CANNOT_HAVE_FP)
def test_no_doublet_for_the_unfit_or_at_ecog_2(make_case: Make, kb: KnowledgeBase, health: dict[str, Any]) -> None:
    unfit = make_case(health={**health, "fit_for_intensive_therapy": False})
    ecog_2 = make_case(health=health, ecog=2)
    unknown_fitness = make_case(health={**health, "fit_for_intensive_therapy": None})
    for case in (unfit, ecog_2, unknown_fitness):
        for option_id in DOUBLETS:
            assert _status(case, kb, option_id) == "not_applicable"
        assert "raltitrexed" in _offered(case, kb)  # the single agent stays


def test_no_doublet_beyond_first_line(make_case: Make, kb: KnowledgeBase) -> None:
    line = {"agents": ["irinotecan"], "stopped_for": "progression"}
    case = make_case(health={"dpyd": "poor"}, prior={"systemic_lines": [line]})
    for option_id in DOUBLETS:
        assert _status(case, kb, option_id) == "not_applicable"


def test_raltitrexed_contraindication_excludes_the_doublets(make_case: Make, kb: KnowledgeBase) -> None:
    """z28: DPYD poor with a creatinine clearance of 20 mL/min."""
    case = make_case(health={"dpyd": "poor", "creatinine_clearance": 20})
    excluded = {e.id: e for e in recommend(case, kb, what_if=False).excluded}
    for option_id in DOUBLETS:
        assert "raltitrexed-severe-renal-impairment" in excluded[option_id].rules
    kept = make_case(health={"dpyd": "poor", "creatinine_clearance": 60})
    for option_id in DOUBLETS:
        assert _status(kept, kb, option_id) == "offered"


def test_oxaliplatin_neuropathy_gate_applies_to_tomox(make_case: Make, kb: KnowledgeBase) -> None:
    case = make_case(health={"dpyd": "poor", "neuropathy_grade": 3})
    assert _status(case, kb, "raltitrexed-oxaliplatin") == "excluded"
    assert _status(case, kb, "raltitrexed-irinotecan") == "offered"
