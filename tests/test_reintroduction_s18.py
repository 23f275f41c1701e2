"""Review 14, F15, the rest (stop 18): a re-introduction of the first-line induction after a planned pause is
part of the first-line strategy (CAIRO3, Simkens et al., Lancet 2015, NCT00442637: "On first progression ...
patients in both groups were to receive the induction regimen of CAPOX-B until second progression").

- The headline's line words are chosen from the headline option and the facts
  (`rectoplan.core.reintroduction.headline_words`), not read back from the words of the summary.
- An option that re-introduces the induction says so to the patient, instead of its rule's phase words.
- With no growth yet, a re-introduction waits for progression whatever its rule's phase: the knowledge may
  label the re-introduction rows `first_line` (the change proposed for `options/20_biologics.yaml`), and the
  plan must read the same (checked here on a copy of the knowledge with that change).

Each trigger comes with cases that must not change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.continuation import AGAIN_PATIENT, waits_for_progression, with_history
from rectoplan.core.engine import assess, recommend
from rectoplan.core.explain import render
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation
from rectoplan.core.reintroduction import HEADLINE_WORDS, headline_words, paused_first_line, reintroduced
from rectoplan.kb.loader import load_knowledge
from tests.test_knowledge_review3 import course, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
CAPOX_BEV = ["capecitabine", "oxaliplatin", "bevacizumab"]
CAP_BEV = ["capecitabine", "bevacizumab"]
FOLFIRI_BEV = ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"]
REINTRODUCTION_ROWS = (
    "folfox-bevacizumab-reintroduction",
    "capox-bevacizumab-reintroduction",
    "folfoxiri-bevacizumab-reintroduction",
    "folfoxiri-bevacizumab-reintroduction-short-interval",
)
AGAIN_HEAD = f"Palliative intent, {HEADLINE_WORDS}:"

# review 14's e05: FOLFOX + bevacizumab for 5 months, a planned break, growth 9 months later
BREAK = course(FOLFOX_BEV, "2025-09-10", "2026-02-20", stopped_for="treatment_break", best_response="partial")


def _case(*courses: dict[str, Any], progressed: bool | None = True) -> dict[str, Any]:
    case = with_courses(*courses)
    if progressed is not None:
        case["prior"]["progressed_since_last_line"] = progressed
    return case


def _after_maintenance() -> dict[str, Any]:
    """Review 14's e02: CAPOX + bevacizumab, then capecitabine + bevacizumab that the cancer outgrew."""
    induction = course(CAPOX_BEV, "2025-09-01", "2026-01-20", status="completed", best_response="partial")
    maintenance = {
        **course(CAP_BEV, "2026-02-01", "2026-11-15", stopped_for="progression", best_response="stable"),
        "setting": "maintenance",
    }
    return _case(induction, maintenance, progressed=None)


def _rec(case: dict[str, Any], kb: KnowledgeBase) -> Recommendation:
    return recommend(validate_case(case, kb), kb, what_if=False)


def _by_id(r: Recommendation) -> dict[str, OptionResult]:
    return {o.id: o for o in r.options}


# --- the headline: a structured choice ---------------------------------------------------------------------


def test_headline_words_follow_the_option_and_the_facts(kb: KnowledgeBase) -> None:
    facts = assess(validate_case(_case(BREAK), kb), kb).facts
    assert paused_first_line(facts)
    assert headline_words("systemic", "second_line", FOLFOX_BEV, facts) == HEADLINE_WORDS
    assert headline_words("systemic", "first_line", CAPOX_BEV, facts) == HEADLINE_WORDS  # phase first_line too
    assert headline_words("systemic", "second_line", FOLFIRI_BEV, facts) is None  # the switch
    assert headline_words("systemic", "perioperative", FOLFOX_BEV, facts) is None  # around surgery: no line
    assert headline_words("chemoradiation", "second_line", FOLFOX_BEV, facts) is None


@pytest.mark.parametrize(
    "courses",
    [
        (course(FOLFOX_BEV, "2025-09-10", "2026-02-20", stopped_for="progression", best_response="partial"),),
        (course(FOLFOX_BEV, "2025-09-10"),),  # running: nothing paused
        (BREAK, course(FOLFIRI_BEV, "2026-06-01", "2026-11-01", stopped_for="progression")),  # two lines
    ],
)
def test_no_pause_no_reintroduction(kb: KnowledgeBase, courses: tuple[dict[str, Any], ...]) -> None:
    facts = assess(validate_case(_case(*courses, progressed=None), kb), kb).facts
    assert not paused_first_line(facts)
    assert not reintroduced("systemic", "second_line", FOLFOX_BEV, facts)


def test_the_headline_is_worded_where_the_summary_is_written(kb: KnowledgeBase) -> None:
    """Stop 17 found the headline option by matching each option's `named()` in the summary text and rewrote
    the words afterwards; `explain._summary` now asks `headline_words` of the option it names, so the words
    do not depend on how a title reads, and the history step leaves them as they are."""
    assessment = assess(validate_case(_case(BREAK), kb), kb)
    raw = render(assessment, kb)
    assert raw.summary.startswith(f"{AGAIN_HEAD} FOLFOX + bevacizumab (preferred)")
    r = with_history(raw, assessment.facts, assessment.cautions)
    assert r.summary.startswith(f"{AGAIN_HEAD} FOLFOX + bevacizumab (preferred)")


def test_a_summary_already_worded_for_the_reintroduction_is_kept(kb: KnowledgeBase) -> None:
    """Once `explain` writes the words itself (the change proposed to the lead), nothing is said twice."""
    assessment = assess(validate_case(_case(BREAK), kb), kb)
    raw = render(assessment, kb)
    worded = raw._replace(summary=raw.summary.replace("second line", HEADLINE_WORDS, 1))
    assert with_history(worded, assessment.facts, assessment.cautions).summary == worded.summary


def test_switch_headline_keeps_second_line(kb: KnowledgeBase) -> None:
    grew = course(FOLFOX_BEV, "2025-09-10", "2026-02-20", stopped_for="progression", best_response="partial")
    r = _rec(_case(grew, progressed=None), kb)
    assert r.summary.startswith("Palliative intent, second line: FOLFIRI + bevacizumab")
    assert not any(o.patient_explanation.endswith(AGAIN_PATIENT) for o in r.options)


# --- the patient's words -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: _case(BREAK), _after_maintenance], ids=["break-e05", "maintenance-e02"])
def test_a_reintroduction_tells_the_patient_the_first_treatment_starts_again(kb: KnowledgeBase, make: Any) -> None:
    r = _rec(make(), kb)
    options = _by_id(r)
    again = [o for o in r.options if o.patient_explanation.endswith(AGAIN_PATIENT)]
    assert {o.id for o in again} >= {"folfox-bevacizumab", "capox-bevacizumab"}
    assert all("It would follow the treatment you have already had" not in o.patient_explanation for o in again)
    assert all(o.patient_explanation.count(AGAIN_PATIENT) == 1 for o in again)
    switch = options["folfiri-bevacizumab"]  # the second line keeps its phase words
    assert switch.patient_explanation.endswith("It would follow the treatment you have already had.")
    assert r.summary.startswith(AGAIN_HEAD)


def test_curative_plans_keep_their_words(kb: KnowledgeBase) -> None:
    case = _case(BREAK)
    case["metastases"] = [{"site": "liver", "count": 2, "resectability": "resectable", "largest_mm": 20}]
    r = _rec(case, kb)
    assert r.intent == "curative"
    assert not any(o.patient_explanation.endswith(AGAIN_PATIENT) for o in r.options)


# --- the knowledge with re-introduction rows labelled first_line ----------------------------------------------


@pytest.fixture(scope="module")
def first_line_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A copy of the shipped knowledge whose re-introduction rows have phase `first_line` (the one-line change
    per row proposed for `options/20_biologics.yaml`; once shipped, the copy is the same)."""
    shipped = Path(load_knowledge.__code__.co_filename).parent.parent / "knowledge"
    root = tmp_path_factory.mktemp("kb") / "knowledge"
    shutil.copytree(shipped, root)
    path = root / "options" / "20_biologics.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    phases, row = [], None
    for i, line in enumerate(lines):
        if line.strip().startswith("- id: "):
            row = line.split("- id: ", 1)[1].strip()
        elif row in REINTRODUCTION_ROWS and line.strip().startswith("phase: "):
            lines[i] = line.replace("phase: second_line", "phase: first_line")
            phases.append(lines[i].split("phase: ", 1)[1].split()[0])
    assert phases == ["first_line"] * len(REINTRODUCTION_ROWS)
    path.write_text("".join(lines), encoding="utf-8")
    return load_knowledge(root)


@pytest.mark.parametrize("make", [lambda: _case(BREAK), _after_maintenance], ids=["break-e05", "maintenance-e02"])
def test_first_line_rows_read_as_first_line_reintroduction(first_line_kb: KnowledgeBase, make: Any) -> None:
    r = _rec(make(), first_line_kb)
    options = _by_id(r)
    assert options["folfox-bevacizumab"].phase == options["capox-bevacizumab"].phase == "first_line"
    assert options["folfiri-bevacizumab"].phase == "second_line"
    assert r.summary.startswith(f"{AGAIN_HEAD} FOLFOX + bevacizumab (preferred)")
    again = options["folfox-bevacizumab"].patient_explanation
    assert again.endswith(AGAIN_PATIENT) and "It would be a first treatment" not in again


def test_first_line_reintroduction_still_waits_when_nothing_grew(first_line_kb: KnowledgeBase) -> None:
    """Review 14's e04 (a break, no growth since): the re-introduction is for progression, not for now."""
    r = _rec(_case(BREAK, progressed=False), first_line_kb)
    options = _by_id(r)
    for option_id in ("folfox-bevacizumab", "capox-bevacizumab"):
        assert options[option_id].phase == "first_line" and waits_for_progression(options[option_id])
        assert options[option_id].patient_explanation.startswith("Only if the cancer grows again:")
    assert not waits_for_progression(options["maintenance-capecitabine-bevacizumab"])
    assert "Now: observation or maintenance capecitabine + bevacizumab" in r.summary
    assert "Now: observation or FOLFOX" not in r.summary


def test_shipped_and_first_line_knowledge_give_the_same_plan_but_the_phase(
    kb: KnowledgeBase, first_line_kb: KnowledgeBase
) -> None:
    for case in (_case(BREAK), _case(BREAK, progressed=False), _after_maintenance()):
        a, b = _rec(case, kb), _rec(case, first_line_kb)
        assert a.summary == b.summary
        assert [(o.id, o.strength, o.rationale, o.patient_explanation) for o in a.options] == [
            (o.id, o.strength, o.rationale, o.patient_explanation) for o in b.options
        ]
