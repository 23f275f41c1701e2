"""Review 14, F15, the rest (stop 18): a re-introduction of the induction that is running.

- It is the ongoing first line, not line 2, also after maintenance that the cancer outgrew (stop 17 kept it
  apart there), so the options of the next line are the second line's, at its progression.
- While it runs, no maintenance row is offered (`prior.on_reintroduction`): CAIRO3 (Simkens et al., Lancet
  2015, NCT00442637) gave the re-introduced CAPOX + bevacizumab "until second progression", and no source for
  maintenance during or after a re-introduction was confirmed.
- The cohort engines read the same lines and facts (the courses are read by the edge for them too).

Each trigger comes with cases that must not change."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.courses import Timeline, history
from rectoplan.api import validate_case
from rectoplan.core.case import Course
from rectoplan.core.engine import assess, recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_review3 import course, with_courses

FOLFOX_BEV = ("leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab")
CAPOX_BEV = ("capecitabine", "oxaliplatin", "bevacizumab")
CAPOX = ("capecitabine", "oxaliplatin")
CAP_BEV = ("capecitabine", "bevacizumab")
FOLFIRI_BEV = ("leucovorin", "fluorouracil", "irinotecan", "bevacizumab")
NO_DATES = Timeline(None, None)
MAINTENANCE = ("maintenance-capecitabine-bevacizumab", "maintenance-fluorouracil-panitumumab")


def _c(agents: tuple[str, ...], setting: str = "advanced", status: str = "stopped", **more: Any) -> Course:
    return Course(agents, setting, status, **more)


INDUCTION = _c(CAPOX_BEV, status="completed", best_response="partial")
MAINTENANCE_GREW = _c(CAP_BEV, "maintenance", stopped_for="progression", best_response="stable")
BREAK = _c(FOLFOX_BEV, stopped_for="treatment_break", best_response="partial")


# --- the course reader ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("again", [CAPOX_BEV, CAPOX], ids=["with-bevacizumab", "without"])
def test_running_reintroduction_after_maintenance_is_the_running_first_line(again: tuple[str, ...]) -> None:
    lines, facts = history((INDUCTION, MAINTENANCE_GREW, _c(again, status="ongoing", start_days_ago=92)), NO_DATES)
    assert len(lines) == 1 and lines[0].stopped_for == "ongoing"
    assert set(lines[0].agents) == {*CAPOX_BEV, *CAP_BEV}
    assert facts["prior.on_reintroduction"] is True and facts["prior.on_maintenance"] is False
    assert facts["prior.months_on_current_line"] == 3  # the re-introduction's own start


def test_running_reintroduction_after_a_break_is_said() -> None:
    lines, facts = history((BREAK, _c(FOLFOX_BEV, status="ongoing")), NO_DATES)
    assert len(lines) == 1 and facts["prior.on_reintroduction"] is True


@pytest.mark.parametrize(
    ("courses", "count"),
    [
        ((_c(FOLFOX_BEV, status="ongoing"),), 1),  # the first induction runs
        ((INDUCTION, _c(CAP_BEV, "maintenance", status="ongoing")), 1),  # maintenance runs
        ((BREAK, _c(FOLFIRI_BEV, status="ongoing")), 2),  # the switch runs: second line
        ((BREAK, _c(FOLFOX_BEV, stopped_for="progression")), 1),  # the re-introduction stopped
        ((INDUCTION, MAINTENANCE_GREW, _c(CAPOX_BEV, stopped_for="progression")), 1),
        # stopped for side effects after growth on maintenance: kept apart (the growth would be lost)
        ((INDUCTION, MAINTENANCE_GREW, _c(CAPOX_BEV, stopped_for="toxicity")), 2),
        ((_c(FOLFOX_BEV, stopped_for="toxicity"), _c(FOLFOX_BEV, status="ongoing")), 2),  # not a planned pause
    ],
)
def test_no_running_reintroduction(courses: tuple[Course, ...], count: int) -> None:
    lines, facts = history(courses, NO_DATES)
    assert len(lines) == count and facts["prior.on_reintroduction"] is False


# --- the plan ------------------------------------------------------------------------------------------------

INDUCTION_JSON = course(list(CAPOX_BEV), "2025-09-01", "2026-01-20", status="completed", best_response="partial")
BREAK_JSON = course(
    list(FOLFOX_BEV), "2025-09-10", "2026-02-20", stopped_for="treatment_break", best_response="partial"
)


def _maintenance_grew(end: str = "2026-08-15") -> dict[str, Any]:
    maintenance = course(list(CAP_BEV), "2026-02-01", end, stopped_for="progression", best_response="stable")
    return {**maintenance, "setting": "maintenance"}


def _rec(case: dict[str, Any], kb: KnowledgeBase) -> Recommendation:
    return recommend(validate_case(case, kb), kb, what_if=False)


CASES = {  # case date 2026-12-01 (LIVER_ONLY)
    "after-maintenance": lambda: with_courses(
        INDUCTION_JSON, _maintenance_grew(), course(list(CAPOX_BEV), "2026-08-20")
    ),
    "after-break-5-months": lambda: with_courses(BREAK_JSON, course(list(FOLFOX_BEV), "2026-07-01")),
    "after-break-1-month": lambda: with_courses(BREAK_JSON, course(list(FOLFOX_BEV), "2026-10-25")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_running_reintroduction_continues_the_first_line_without_maintenance(kb: KnowledgeBase, name: str) -> None:
    case = CASES[name]()
    facts = assess(validate_case(case, kb), kb).facts
    assert facts["prior.line_count"] == 1 and facts["prior.on_reintroduction"] is True
    r = _rec(case, kb)
    options = {o.id: o for o in r.options}
    assert not set(MAINTENANCE) & set(options)
    assert r.summary.startswith("Palliative intent. Continue the ongoing line while it works and is tolerated.")
    assert "Then:" not in r.summary and "Maintenance" not in r.summary
    switch = options["folfiri-bevacizumab"]  # at its progression: the second line, preferred
    assert (switch.phase, switch.strength) == ("second_line", "preferred")
    assert switch.rationale[0].startswith("At progression or intolerance on the current line")


def test_running_first_induction_still_offers_maintenance(kb: KnowledgeBase) -> None:
    """Review 14's e01: FOLFOX + bevacizumab for 5 months, running; maintenance preferred as before."""
    r = _rec(with_courses(course(list(FOLFOX_BEV), "2026-07-01", best_response="partial")), kb)
    maintenance = {o.id: o for o in r.options}["maintenance-capecitabine-bevacizumab"]
    assert (maintenance.setting, maintenance.strength) == (
        "maintenance-capecitabine-bevacizumab-after-induction",
        "preferred",
    )


def test_running_maintenance_still_continues(kb: KnowledgeBase) -> None:
    running = {**course(list(CAP_BEV), "2026-02-01"), "setting": "maintenance"}
    r = _rec(with_courses(INDUCTION_JSON, running), kb)
    maintenance = {o.id: o for o in r.options}["maintenance-capecitabine-bevacizumab"]
    assert maintenance.setting == "maintenance-capecitabine-bevacizumab-continue"


def test_lines_without_courses_keep_the_maintenance_rows(make_case: Any, kb: KnowledgeBase) -> None:
    """Contract 1 lines say nothing of a re-introduction (the fact is unknown): the rows fire as before."""
    prior = {"systemic_lines": [{"agents": list(FOLFOX_BEV), "stopped_for": "ongoing"}]}
    case = make_case(prior=prior)
    assert assess(case, kb).facts["prior.on_reintroduction"] is None
    options = {o.id: o for o in recommend(case, kb, what_if=False).options}
    assert options["maintenance-capecitabine-bevacizumab"].setting == "maintenance-capecitabine-bevacizumab-later"


# --- the cohort engines read the same -------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_cohort_engines_equal_the_per_case_plan(kb: KnowledgeBase, engine: str) -> None:
    pytest.importorskip(engine)
    from rectoplan.cohort.explain import explanations
    from rectoplan.cohort.run import run_cohort
    from tests.test_cohort_equivalence import cohort_row, cohort_rows, expected_row, write_csv, write_parquet

    generated = [make() for make in CASES.values()]
    generated += [
        with_courses(course(list(FOLFOX_BEV), "2026-07-01", best_response="partial")),  # running induction
        with_courses(INDUCTION_JSON, _maintenance_grew("2026-11-15")),  # e02: re-introduction offered
        with_courses(BREAK_JSON),  # e05
    ]
    generated = [{**case, "id": f"g{i}"} for i, case in enumerate(generated)]
    texts = {(r["kind"], r["id"]): r["text"] for r in explanations(kb).to_pylist()}
    expected = [expected_row(case, kb) for case in generated]
    with tempfile.TemporaryDirectory() as tmp:
        rows = cohort_rows(generated)
        write_parquet(rows, Path(tmp) / "cases.parquet")
        write_csv(rows, Path(tmp) / "cases.csv")
        for fmt in ("parquet", "csv"):
            result = run_cohort(Path(tmp) / f"cases.{fmt}", kb, engine)
            assert result.errors == [] and result.results is not None
            got = [cohort_row(row, kb, texts) for row in result.results.to_pylist()]
            assert got == expected, fmt
