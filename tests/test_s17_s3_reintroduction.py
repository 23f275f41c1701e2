"""Review 14, F15: a re-introduction of the first-line induction (after a planned break, or after maintenance
that the cancer outgrew) is part of the first line, as in CAIRO3 (re-introduction of CAPOX + bevacizumab at
first progression, until second progression); the second line is the switch. A recorded re-introduction
keeps the line number (`rectoplan.adapters.courses`), and the headline names a re-introduction offered now
as such rather than "second line" (`rectoplan.core.continuation`). Each with cases that must not change."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.adapters.courses import Timeline, history
from rectoplan.core.case import Course, SystemicLine
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.reintroduction import reintroduces
from tests.test_knowledge_review3 import course, offered, rec, with_courses

FOLFOX_BEV = ("leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab")
CAPOX_BEV = ("capecitabine", "oxaliplatin", "bevacizumab")
CAP_BEV = ("capecitabine", "bevacizumab")
FOLFIRI_BEV = ("leucovorin", "fluorouracil", "irinotecan", "bevacizumab")
FOLFOX_PANI = ("leucovorin", "fluorouracil", "oxaliplatin", "panitumumab")
NO_DATES = Timeline(None, None)


def _c(agents: tuple[str, ...], setting: str = "advanced", status: str = "stopped", **more: Any) -> Course:
    return Course(agents, setting, status, **more)


def _lines(*courses: Course) -> tuple[SystemicLine, ...]:
    return history(courses, NO_DATES)[0]


BREAK = _c(FOLFOX_BEV, stopped_for="treatment_break", best_response="partial")
INDUCTION = _c(CAPOX_BEV, status="completed", best_response="partial")
MAINTENANCE_GREW = _c(CAP_BEV, "maintenance", stopped_for="progression", best_response="stable")


# --- the test itself ---------------------------------------------------------------------------------------


def test_the_same_drugs_or_the_other_oxaliplatin_doublet_reintroduce() -> None:
    assert reintroduces(FOLFOX_BEV, FOLFOX_BEV)
    assert reintroduces(CAPOX_BEV, FOLFOX_BEV)  # the fluoropyrimidine backbone is one drug
    assert reintroduces(("leucovorin", "fluorouracil", "oxaliplatin"), FOLFOX_BEV)  # without the antibody
    assert reintroduces(CAPOX_BEV, (*CAPOX_BEV, *CAP_BEV), progressed=CAP_BEV)  # grew on maintenance only


@pytest.mark.parametrize(
    ("agents", "induction", "progressed", "intolerant"),
    [
        (FOLFIRI_BEV, FOLFOX_BEV, (), ()),  # the switch
        (CAP_BEV, FOLFOX_BEV, (), ()),  # no oxaliplatin: not the induction
        (("leucovorin", "fluorouracil", "oxaliplatin", "irinotecan", "bevacizumab"), FOLFOX_BEV, (), ()),  # more
        (("leucovorin", "fluorouracil", "oxaliplatin", "cetuximab"), FOLFOX_BEV, (), ()),  # another antibody
        (FOLFOX_BEV, FOLFOX_BEV, ("oxaliplatin",), ()),  # grew on oxaliplatin
        (FOLFOX_BEV, FOLFOX_BEV, (), FOLFOX_BEV),  # stopped for side effects
        (CAP_BEV, CAP_BEV, (), ()),  # no partner drug: nothing was held back to re-introduce
    ],
)
def test_a_switch_or_a_closed_partner_is_not_a_reintroduction(
    agents: tuple[str, ...], induction: tuple[str, ...], progressed: tuple[str, ...], intolerant: tuple[str, ...]
) -> None:
    assert not reintroduces(agents, induction, progressed, intolerant)


# --- the course reader: a recorded re-introduction keeps the line number ---------------------------------


def test_reintroduction_after_a_break_that_progressed_is_one_line_that_progressed() -> None:
    lines = _lines(BREAK, _c(FOLFOX_BEV, stopped_for="progression", best_response="stable"))
    assert lines == (SystemicLine(FOLFOX_BEV, "progression"),)


def test_reintroduction_after_maintenance_keeps_both_progressions() -> None:
    again = _c(CAPOX_BEV, stopped_for="progression", best_response="partial")
    lines = _lines(INDUCTION, MAINTENANCE_GREW, again)
    assert len(lines) == 1
    assert lines[0].stopped_for == "progression" and set(lines[0].progressed_agents) == set(CAPOX_BEV)


def test_running_reintroduction_of_the_other_doublet_is_the_running_first_line() -> None:
    lines, facts = history((BREAK, _c(CAPOX_BEV, status="ongoing", start_days_ago=61)), NO_DATES)
    assert len(lines) == 1 and lines[0].stopped_for == "ongoing"
    assert set(lines[0].agents) == {*FOLFOX_BEV, *CAPOX_BEV}  # every drug given stays known
    assert facts["prior.months_on_current_line"] == 2  # the re-introduction runs: its own start


@pytest.mark.parametrize(
    "courses",
    [
        (BREAK, _c(FOLFIRI_BEV, stopped_for="progression")),  # the switch: second line
        (_c(FOLFOX_BEV, stopped_for="toxicity"), _c(FOLFOX_BEV, stopped_for="progression")),  # not a planned pause
        (_c(FOLFOX_BEV, stopped_for="patient_choice"), _c(FOLFOX_BEV, stopped_for="progression")),
        (_c(FOLFOX_BEV, stopped_for="progression"), _c(FOLFOX_BEV, stopped_for="progression")),
        (_c(FOLFOX_BEV, status="ongoing"),),  # one course: one line, as before
        # stopped for side effects after maintenance the cancer outgrew: merging would lose the progression on
        # capecitabine and bevacizumab (a stopped line records it only when it stopped for progression); a
        # running re-introduction is the running first line (tests/test_reintroduction_s18_running.py)
        (INDUCTION, MAINTENANCE_GREW, _c(CAPOX_BEV, stopped_for="toxicity")),
        (_c(FOLFOX_BEV, "adjuvant", status="completed"), _c(FOLFOX_BEV, stopped_for="progression")),
    ],
)
def test_a_switch_or_an_unplanned_stop_still_starts_a_new_line(courses: tuple[Course, ...]) -> None:
    advanced = sum(c.setting == "advanced" for c in courses)
    assert len(_lines(*courses)) == advanced


def test_exposure_facts_are_those_of_the_courses() -> None:
    """Re-introduction changes the count, never what was given: anti-EGFR and oxaliplatin exposure facts
    are read from the courses, and the drugs of every course stay in the line."""
    two = (_c(FOLFOX_PANI, stopped_for="treatment_break", best_response="partial", end_days_ago=200),)
    again = _c(FOLFOX_PANI, stopped_for="progression", best_response="stable", end_days_ago=31)
    lines, facts = history((*two, again), NO_DATES)
    assert len(lines) == 1 and set(lines[0].progressed_agents) == set(FOLFOX_PANI)
    assert facts["prior.months_since_anti_egfr"] == 1 and facts["prior.anti_egfr_response"] == "stable"
    assert facts["prior.adjuvant_oxaliplatin"] is False and facts["prior.last_line_progressed"] is True


# --- the plan ----------------------------------------------------------------------------------------------


def _case(*courses: dict[str, Any], progressed: bool | None = True) -> dict[str, Any]:
    case = with_courses(*courses)
    if progressed is not None:
        case["prior"]["progressed_since_last_line"] = progressed
    return case


FIRST = course(list(FOLFOX_BEV), "2025-09-10", "2026-02-20", stopped_for="treatment_break", best_response="partial")


def test_after_a_reintroduction_progressed_the_switch_is_second_line(kb: KnowledgeBase) -> None:
    again = course(list(FOLFOX_BEV), "2026-06-01", "2026-11-01", stopped_for="progression", best_response="stable")
    r = rec(_case(FIRST, again), kb)
    assert r.summary.startswith("Palliative intent, second line: FOLFIRI + bevacizumab (preferred)")
    switch = offered(r)["folfiri-bevacizumab"]
    assert switch.phase == "second_line" and switch.strength == "preferred"
    assert "folfox-bevacizumab" not in offered(r)  # oxaliplatin has now failed


def test_while_a_reintroduction_runs_the_next_options_are_second_line(kb: KnowledgeBase) -> None:
    r = rec(_case(FIRST, course(list(FOLFOX_BEV), "2026-10-01"), progressed=None), kb)
    assert r.summary.startswith("Palliative intent. Continue the ongoing line")
    assert offered(r)["folfiri-bevacizumab"].phase == "second_line"


def test_the_reintroduction_offered_now_is_not_headlined_as_second_line(kb: KnowledgeBase) -> None:
    r = rec(_case(FIRST), kb)
    option = offered(r)["folfox-bevacizumab"]
    assert option.setting == "folfox-bevacizumab-reintroduction"  # the rule still fires
    assert r.summary.startswith(
        "Palliative intent, re-introduction of the first line's induction or second line: FOLFOX + bevacizumab"
    )
    assert offered(r)["folfiri-bevacizumab"].phase == "second_line"  # the switch beside it


def test_after_maintenance_the_reintroduction_headline_too(kb: KnowledgeBase) -> None:
    induction = course(list(CAPOX_BEV), "2025-09-01", "2026-01-20", status="completed", best_response="partial")
    maintenance = {
        **course(list(CAP_BEV), "2026-02-01", "2026-11-15", stopped_for="progression", best_response="stable"),
        "setting": "maintenance",
    }
    r = rec(_case(induction, maintenance, progressed=None), kb)
    assert "capox-bevacizumab" in offered(r)
    assert r.summary.startswith("Palliative intent, re-introduction of the first line's induction or second line:")


def test_a_reintroduction_after_a_second_pause_is_still_offered(kb: KnowledgeBase) -> None:
    again = course(list(FOLFOX_BEV), "2026-05-01", "2026-08-01", stopped_for="treatment_break", best_response="stable")
    r = rec(_case(FIRST, again), kb)
    assert offered(r)["folfox-bevacizumab"].setting == "folfox-bevacizumab-reintroduction"


def test_growth_on_oxaliplatin_keeps_the_second_line_headline(kb: KnowledgeBase) -> None:
    grew = course(list(FOLFOX_BEV), "2025-09-10", "2026-02-20", stopped_for="progression", best_response="partial")
    r = rec(_case(grew, progressed=None), kb)
    assert r.summary.startswith("Palliative intent, second line: FOLFIRI + bevacizumab")
