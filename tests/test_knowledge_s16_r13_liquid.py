"""Review 13, findings 5 and 2: the date of the liquid biopsy (ctDNA) that opens an anti-EGFR rechallenge.

Finding 5: a result dated after the case date was accepted (and opened the rechallenge); it is now rejected
as a course ending after the case date is, with the field, what was found and what is expected.
Finding 2: a RAS-wild-type result from March, before a line that ran to November, still opened the
rechallenge "on a liquid biopsy taken now". CHRONOS tested ctDNA at the moment of rechallenge: a result
taken before the last line ended now excludes the rechallenge, saying to repeat the liquid biopsy
(`biomarkers.liquid_ras_after_last_line`, derived from the dates like `liquid_ras_after_anti_egfr`).
Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.case import Case
from rectoplan.core.engine import assess, recommend
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge

PANI = "panitumumab-rechallenge"
IRI_CETUX = "irinotecan-cetuximab-rechallenge"
RECHALLENGE = (PANI, IRI_CETUX)
GATES = {
    PANI: "panitumumab-rechallenge-liquid-biopsy-current",
    IRI_CETUX: "irinotecan-cetuximab-rechallenge-liquid-biopsy-current",
}
FOLFIRI_CETUX = {
    "agents": ["fluorouracil", "leucovorin", "irinotecan", "cetuximab"],
    "setting": "advanced",
    "status": "stopped",
    "stopped_for": "progression",
    "best_response": "partial",
    "start": "2025-06-20",
    "end": "2026-01-15",
}
FOLFOX_BEV = {
    "agents": ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"],
    "setting": "advanced",
    "status": "stopped",
    "stopped_for": "progression",
    "start": "2026-02-01",
    "end": "2026-11-01",
}


def _data(liquid_date: str | None, second: dict[str, Any] | None = None) -> dict[str, Any]:
    """z34 of review 13 in short: FOLFIRI-cetuximab (partial response) to January, FOLFOX-bevacizumab to
    November, case date 1 December 2026, tissue and ctDNA RAS wild-type."""
    data = merge(BASE_CASE, {"format": "rectoplan.case/2", "as_of": "2026-12-01"})
    data["prior"] = {"pelvic_radiation": False, "surgeries": [], "courses": [FOLFIRI_CETUX, second or FOLFOX_BEV]}
    biomarkers = {**data["biomarkers"], "liquid_ras": "wild_type"}
    if liquid_date is not None:
        biomarkers["liquid_ras_date"] = liquid_date
    data["biomarkers"] = biomarkers
    return data


def _case(kb: KnowledgeBase, liquid_date: str | None, second: dict[str, Any] | None = None) -> Case:
    return validate_case(_data(liquid_date, second), kb)


def _status(case: Case, kb: KnowledgeBase, option_id: str) -> str:
    return next(o.status for o in assess(case, kb).outcomes if o.option.id == option_id)


# --- finding 5: a liquid biopsy dated after the case date ---------------------------------------------------
def test_a_liquid_biopsy_after_the_case_date_is_rejected(kb: KnowledgeBase) -> None:
    with pytest.raises(CaseError) as info:
        validate_case(_data("2027-03-01"), kb)
    assert info.value.messages() == [
        "biomarkers.liquid_ras_date: found 2027-03-01 after as_of 2026-12-01; expected a date on or before as_of"
    ]


def test_a_liquid_biopsy_on_the_case_date_is_accepted(kb: KnowledgeBase) -> None:
    case = _case(kb, "2026-12-01")
    assert case.value("biomarkers.liquid_ras_months") == 0
    assert case.value("biomarkers.liquid_ras_after_last_line") is True


# --- finding 2: a liquid biopsy older than the last line ---------------------------------------------------
def test_ctdna_from_before_the_last_line_excludes_rechallenge_and_says_repeat(kb: KnowledgeBase) -> None:
    case = _case(kb, "2026-03-20")  # after the cetuximab line, before the FOLFOX-bevacizumab line ended
    assert case.value("biomarkers.liquid_ras_after_anti_egfr") is True
    assert case.value("biomarkers.liquid_ras_after_last_line") is False
    excluded = {e.id: e for e in recommend(case, kb, what_if=False).excluded}
    for option_id in RECHALLENGE:
        assert excluded[option_id].rules == (GATES[option_id],)
        assert not excluded[option_id].held
        assert "Repeat the liquid biopsy now" in excluded[option_id].reasons[0]
        assert {s.source for s in excluded[option_id].sources} >= {"chronos", "cricket"}


def test_ctdna_taken_after_the_last_line_keeps_rechallenge(kb: KnowledgeBase) -> None:
    case = _case(kb, "2026-11-20")
    assert case.value("biomarkers.liquid_ras_after_last_line") is True
    offered = {o.id: o for o in recommend(case, kb, what_if=False).options}
    for option_id in RECHALLENGE:
        assert offered[option_id].strength == "consider"
        assert "since the last line ended" in offered[option_id].rationale[0]
        assert not any(
            "after the last line of treatment ended is not recorded" in w for w in offered[option_id].warnings
        )


def test_ctdna_taken_on_the_day_the_last_line_ended_is_not_after_it(kb: KnowledgeBase) -> None:
    assert _case(kb, "2026-11-01").value("biomarkers.liquid_ras_after_last_line") is False
    assert _case(kb, "2026-11-02").value("biomarkers.liquid_ras_after_last_line") is True


def test_a_line_still_running_means_the_ctdna_is_not_after_it(kb: KnowledgeBase) -> None:
    running = {k: v for k, v in FOLFOX_BEV.items() if k not in ("end", "stopped_for")} | {"status": "ongoing"}
    case = _case(kb, "2026-11-20", running)
    assert case.value("biomarkers.liquid_ras_after_last_line") is False


def test_an_undated_last_course_leaves_the_timing_unknown_and_warns(kb: KnowledgeBase) -> None:
    undated = {k: v for k, v in FOLFOX_BEV.items() if k not in ("end", "start")}
    case = _case(kb, "2026-11-20", undated)
    assert case.value("biomarkers.liquid_ras_after_last_line") is None
    for option_id in RECHALLENGE:
        gate = GATES[option_id]
        found = next(o for o in assess(case, kb).outcomes if o.option.id == option_id)
        assert gate not in {g.id for g in found.blocking}


def test_timing_given_directly_is_read_and_unknown_warns(kb: KnowledgeBase, make_case: Any) -> None:
    """Contract 1 lines carry no dates: the fact may be given directly, and an unknown one warns."""
    lines = [
        {"agents": ["fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"], "stopped_for": "progression"},
        {"agents": ["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"], "stopped_for": "progression"},
    ]
    liquid = {"liquid_ras": "wild_type", "liquid_ras_months": 0, "liquid_ras_after_anti_egfr": True}
    prior = {"systemic_lines": lines, "months_since_anti_egfr": 8}
    stale = make_case(prior=prior, biomarkers={**liquid, "liquid_ras_after_last_line": False})
    assert _status(stale, kb, PANI) == "excluded"
    current = make_case(prior=prior, biomarkers={**liquid, "liquid_ras_after_last_line": True})
    assert _status(current, kb, PANI) == "offered"
    unknown = make_case(prior=prior, biomarkers=liquid)
    options = {o.id: o for o in recommend(unknown, kb, what_if=False).options}
    assert any("after the last line of treatment ended is not recorded" in w for w in options[PANI].warnings)
    current_options = {o.id: o for o in recommend(current, kb, what_if=False).options}
    assert not any(
        "after the last line of treatment ended is not recorded" in w for w in current_options[PANI].warnings
    )


def test_the_ctdna_timing_does_not_touch_first_line_anti_egfr(kb: KnowledgeBase, make_case: Any) -> None:
    first_line = make_case(biomarkers={"liquid_ras": "wild_type", "liquid_ras_after_last_line": False})
    assert _status(first_line, kb, "folfox-panitumumab") == "offered"
