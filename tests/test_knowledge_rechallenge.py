"""Anti-EGFR rechallenge guided by a liquid biopsy (options/25_anti_egfr_rechallenge.yaml; CHRONOS, CRICKET,
CAVE, and the CAVE-2 interval).

Every rule has a case that triggers it and one that does not, built from the fully characterised BASE_CASE
of conftest: here a third-line patient (FOLFOX + panitumumab, then FOLFIRI + bevacizumab, both progressed),
tissue RAS/BRAF wild-type, with a RAS wild-type liquid biopsy taken now and 8 months since panitumumab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.case import Case
from rectoplan.core.engine import OptionOutcome, assess, recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Exclusion, OptionResult
from tests.conftest import BASE_CASE, merge
from tests.test_knowledge_cohort import cohort_mismatches

Make = Callable[..., Case]
PANI = "panitumumab-rechallenge"
IRI_CETUX = "irinotecan-cetuximab-rechallenge"
RECHALLENGE = (PANI, IRI_CETUX)
FOLFOX_PANI = {"agents": ["fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"], "stopped_for": "progression"}
FOLFIRI_BEV = {"agents": ["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"], "stopped_for": "progression"}
FOLFOX_BEV = {"agents": ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
THIRD_LINE = {"systemic_lines": [FOLFOX_PANI, FOLFIRI_BEV], "months_since_anti_egfr": 8}
LIQUID_WT = {"liquid_ras": "wild_type", "liquid_ras_months": 0, "liquid_ras_after_anti_egfr": True}


def candidate(make_case: Make, prior: dict[str, Any] | None = None, **biomarkers: Any) -> Case:
    """The rechallenge candidate, with `prior` replacing the history and `biomarkers` merged in."""
    return make_case(prior={**THIRD_LINE, **(prior or {})}, biomarkers={**LIQUID_WT, **biomarkers})


def outcome(case: Case, kb: KnowledgeBase, option_id: str) -> OptionOutcome:
    found = [o for o in assess(case, kb).outcomes if o.option.id == option_id]
    assert len(found) == 1, option_id
    return found[0]


def offered(case: Case, kb: KnowledgeBase) -> dict[str, OptionResult]:
    return {o.id: o for o in recommend(case, kb, what_if=False).options}


def listed(case: Case, kb: KnowledgeBase) -> dict[str, Exclusion]:
    return {e.id: e for e in recommend(case, kb, what_if=False).excluded}


# --- the rows: third line or later, after an anti-EGFR antibody -------------------------------------------
def test_rechallenge_is_offered_in_third_line_after_anti_egfr(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(candidate(make_case), kb)
    for option_id in RECHALLENGE:
        assert options[option_id].phase == "later_line"
        assert options[option_id].strength == "consider"
        assert options[option_id].evidence[0] == "phase2_or_single_arm"
    assert {s.source for s in options[PANI].sources} >= {"chronos", "cricket", "cave"}


def test_rechallenge_is_not_indicated_in_second_line(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case, {"systemic_lines": [FOLFOX_PANI]})
    for option_id in RECHALLENGE:
        assert outcome(case, kb, option_id).status == "not_applicable"


def test_rechallenge_is_not_indicated_without_an_earlier_anti_egfr(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case, {"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV], "months_since_anti_egfr": None})
    for option_id in RECHALLENGE:
        assert outcome(case, kb, option_id).status == "not_applicable"
    # ... and the anti-EGFR-naive options stay as they were
    assert "irinotecan-cetuximab" in offered(case, kb)


def test_irinotecan_cetuximab_rechallenge_needs_earlier_irinotecan(make_case: Make, kb: KnowledgeBase) -> None:
    folfox_then_capox = {"agents": ["capecitabine", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
    case = candidate(make_case, {"systemic_lines": [FOLFOX_PANI, folfox_then_capox]})
    assert outcome(case, kb, IRI_CETUX).status == "not_applicable"
    assert outcome(case, kb, PANI).status == "offered"


def test_rechallenge_is_exempt_from_no_repeat_only(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case)
    for option_id in RECHALLENGE:
        assert "no-repeat-after-progression" not in {g.id for g in outcome(case, kb, option_id).blocking}
    assert "no-repeat-after-progression" in listed(case, kb)["folfox"].rules


# --- the liquid biopsy -------------------------------------------------------------------------------------
def test_ras_mutant_ctdna_excludes_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = listed(candidate(make_case, liquid_ras="mutant"), kb)
    for option_id in RECHALLENGE:
        assert excluded[option_id].rules == ("anti-egfr-rechallenge-liquid-ras",)
        assert not excluded[option_id].held
        assert "RAS mutation" in excluded[option_id].reasons[0]


def test_unknown_ctdna_holds_rechallenge_and_asks_for_a_liquid_biopsy(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend(candidate(make_case, liquid_ras=None, liquid_ras_months=None), kb, what_if=False)
    held = {e.id: e for e in rec.excluded if e.held}
    for option_id in RECHALLENGE:
        assert "anti-egfr-rechallenge-liquid-ras" in held[option_id].rules
    assert "liquid_ras" in {t.test for t in rec.tests_needed}
    assert "liquid_ras" not in {t.test for t in recommend(candidate(make_case), kb, what_if=False).tests_needed}


def test_ctdna_not_known_to_follow_the_anti_egfr_holds_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case, liquid_ras_months=None, liquid_ras_after_anti_egfr=None)
    for option_id in RECHALLENGE:
        found = outcome(case, kb, option_id)
        assert found.status == "held"
        assert {g.id for g in found.holding} == {"anti-egfr-rechallenge-liquid-biopsy-after"}


def test_ctdna_from_before_the_anti_egfr_excludes_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = listed(candidate(make_case, liquid_ras_after_anti_egfr=False), kb)
    for option_id in RECHALLENGE:
        assert excluded[option_id].rules == ("anti-egfr-rechallenge-liquid-biopsy-after",)
        assert "before the end of the last anti-EGFR" in excluded[option_id].reasons[0]


# --- the response to the earlier anti-EGFR treatment (CAVE, CRICKET: complete or partial) ------------------
def test_primary_resistance_to_the_anti_egfr_excludes_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = listed(candidate(make_case, {"anti_egfr_response": "progression"}), kb)
    for option_id in RECHALLENGE:
        assert excluded[option_id].rules == ("anti-egfr-rechallenge-primary-resistance",)
    responded = offered(candidate(make_case, {"anti_egfr_response": "partial"}), kb)[PANI]
    assert not any("not recorded in the case" in w for w in responded.warnings)
    stable = offered(candidate(make_case, {"anti_egfr_response": "stable"}), kb)[PANI]
    assert any("stable disease" in w for w in stable.warnings)


def test_ctdna_rule_does_not_touch_other_anti_egfr_options(make_case: Make, kb: KnowledgeBase) -> None:
    first_line = make_case(biomarkers={"liquid_ras": "mutant", "liquid_ras_months": 0})
    assert outcome(first_line, kb, "folfox-panitumumab").status == "offered"


def test_tissue_ras_mutant_still_excludes_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = listed(candidate(make_case, kras="mutant", kras_variant="G12D"), kb)
    for option_id in RECHALLENGE:
        assert "anti-egfr-ras-wild-type" in excluded[option_id].rules


# --- the interval since the last anti-EGFR antibody (CAVE-2: more than 4 months) -----------------------------
def test_less_than_4_months_since_anti_egfr_excludes_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    excluded = listed(candidate(make_case, {"months_since_anti_egfr": 3}), kb)
    for option_id in RECHALLENGE:
        assert excluded[option_id].rules == ("anti-egfr-rechallenge-interval",)
    assert PANI in offered(candidate(make_case, {"months_since_anti_egfr": 4}), kb)


def test_unknown_interval_holds_rechallenge(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case, {"months_since_anti_egfr": None})
    for option_id in RECHALLENGE:
        found = outcome(case, kb, option_id)
        assert found.status == "held"
        assert {g.id for g in found.holding} == {"anti-egfr-rechallenge-interval"}


# --- the warnings every rechallenge carries -----------------------------------------------------------------
def test_rechallenge_warns_about_prior_response_and_the_ctdna_panel(make_case: Make, kb: KnowledgeBase) -> None:
    case = candidate(make_case)
    for option_id in RECHALLENGE:
        ids = {c.id for c in outcome(case, kb, option_id).cautions}
        assert "anti-egfr-rechallenge-ctdna" in ids
    # the response is not recorded in this case: the primary-resistance gate warns instead of deciding
    assert any("not recorded in the case" in w for w in offered(case, kb)[PANI].warnings)
    naive = {c.id for c in outcome(make_case(), kb, "folfox-panitumumab").cautions}
    assert "anti-egfr-rechallenge-ctdna" not in naive


# --- contract 2: the interval and the age of the liquid biopsy come from dates ------------------------------
def _v2_case(kb: KnowledgeBase, anti_egfr_end: str, liquid_date: str, response: str = "partial") -> Case:
    courses = [
        {**FOLFOX_PANI, "setting": "advanced", "status": "stopped", "end": anti_egfr_end, "best_response": response},
        {**FOLFIRI_BEV, "setting": "advanced", "status": "stopped", "end": "2026-11-01"},
    ]
    data = merge(BASE_CASE, {"format": "rectoplan.case/2", "as_of": "2026-11-20"})
    data["prior"] = {"pelvic_radiation": False, "surgeries": [], "courses": courses}
    data["biomarkers"] = {**data["biomarkers"], "liquid_ras": "wild_type", "liquid_ras_date": liquid_date}
    return validate_case(data, kb)


def test_dated_courses_decide_whether_the_liquid_biopsy_came_after(kb: KnowledgeBase) -> None:
    before = _v2_case(kb, anti_egfr_end="2026-05-01", liquid_date="2026-04-01")
    assert before.value("biomarkers.liquid_ras_after_anti_egfr") is False
    assert outcome(before, kb, PANI).status == "excluded"
    after = _v2_case(kb, anti_egfr_end="2026-05-01", liquid_date="2026-11-18")
    assert after.value("biomarkers.liquid_ras_after_anti_egfr") is True


def test_courses_give_the_response_to_the_anti_egfr(kb: KnowledgeBase) -> None:
    case = _v2_case(kb, anti_egfr_end="2026-05-01", liquid_date="2026-11-18", response="progression")
    assert case.value("prior.anti_egfr_response") == "progression"
    assert outcome(case, kb, PANI).status == "excluded"


def test_dated_courses_decide_the_interval(kb: KnowledgeBase) -> None:
    recent = _v2_case(kb, anti_egfr_end="2026-09-01", liquid_date="2026-11-18")  # 2.6 months
    assert outcome(recent, kb, PANI).status == "excluded"
    waited = _v2_case(kb, anti_egfr_end="2026-05-01", liquid_date="2026-11-18")  # 6.6 months
    assert outcome(waited, kb, PANI).status == "offered"


# --- the cohort engines give the same answer on these cases ---------------------------------------------
def rechallenge_cases() -> list[dict[str, Any]]:
    """Rechallenge offered, excluded (ctDNA, interval) and held (no ctDNA, undated, unknown interval)."""
    variants: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {}),
        ({}, {"liquid_ras": "mutant"}),
        ({}, {"liquid_ras": None, "liquid_ras_months": None}),
        ({}, {"liquid_ras_months": None, "liquid_ras_after_anti_egfr": None}),
        ({}, {"liquid_ras_after_anti_egfr": False}),
        ({"anti_egfr_response": "progression"}, {}),
        ({"anti_egfr_response": "stable"}, {}),
        ({"months_since_anti_egfr": 3}, {}),
        ({"months_since_anti_egfr": None}, {}),
        ({"systemic_lines": [FOLFOX_PANI]}, {}),
    ]
    out = []
    for i, (prior, biomarkers) in enumerate(variants):
        data = merge(BASE_CASE, {"id": f"rechallenge-{i}", "prior": {**THIRD_LINE, **prior}})
        out.append(merge(data, {"biomarkers": {**LIQUID_WT, **biomarkers}}))
    return out


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_cohort_engines_agree_on_rechallenge(
    engine: str, kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cases = rechallenge_cases()
    assert cohort_mismatches(cases, kb, engine, tmp_path_factory.mktemp("rechallenge")) == []
    assert PANI in offered(validate_case(cases[0], kb), kb)


def test_rechallenge_is_given_until_progression_without_maintenance(make_case: Make, kb: KnowledgeBase) -> None:
    """CRICKET gave cetuximab + irinotecan until progression: no induction-then-maintenance note."""
    notes = {c.id for c in outcome(candidate(make_case), kb, IRI_CETUX).cautions}
    assert "duration-continuous-anti-egfr-rechallenge" in notes and "duration-unresectable" not in notes
    assert "duration-unresectable" in {c.id for c in outcome(make_case(), kb, "folfiri-cetuximab").cautions}
