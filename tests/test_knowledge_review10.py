"""Tenth review (stop 15) and ninth review leftovers: knowledge corrections, each with a trigger and a
non-trigger test."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.conditions import Const, bind
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import HEALTH, course, offered, rec
from tests.test_knowledge_review5 import _ras_wild_type

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFIRI_CET = ["leucovorin", "fluorouracil", "irinotecan", "cetuximab"]
FOLFOX_CET = ["leucovorin", "fluorouracil", "oxaliplatin", "cetuximab"]
HEALTH_NEURO3 = {**HEALTH, "neuropathy_grade": 3}


# --- ninth review #2 (v03): a cetuximab doublet stopped for side effects while it controlled the cancer ------


def _second_line_stopped(agents: list[str], stopped_for: str) -> dict[str, Any]:
    first = course(FOLFOX_BEV, "2025-06-01", "2026-01-15", stopped_for="progression", best_response="partial")
    second = course(agents, "2026-02-01", "2026-04-15", stopped_for=stopped_for, best_response="partial")
    return _ras_wild_type(first, second)


def test_folfiri_cetuximab_resumed_after_a_stop_for_side_effects(kb: KnowledgeBase) -> None:
    option = offered(rec(_second_line_stopped(FOLFIRI_CET, "toxicity"), kb))["folfiri-cetuximab"]
    assert option.trace["setting"].startswith("folfiri-cetuximab-resumed-after-side-effects")
    assert option.strength == "alternative"
    assert "after a severe rash" in " ".join(option.rationale)


def test_folfox_cetuximab_resumed_after_a_stop_for_side_effects(kb: KnowledgeBase) -> None:
    case = _ras_wild_type(
        course(FOLFOX_CET, "2026-06-01", "2026-09-01", stopped_for="toxicity", best_response="stable")
    )
    option = offered(rec(case, kb))["folfox-cetuximab"]
    assert option.trace["setting"].startswith("folfox-cetuximab-resumed-after-side-effects")


@pytest.mark.parametrize("change", ["progression", "grown_since", "no_response_recorded"])
def test_no_cetuximab_resumption_without_control(kb: KnowledgeBase, change: str) -> None:
    case = _second_line_stopped(FOLFIRI_CET, "progression" if change == "progression" else "toxicity")
    if change == "grown_since":
        case["prior"]["progressed_since_last_line"] = True
    if change == "no_response_recorded":
        del case["prior"]["courses"][-1]["best_response"]
    option = offered(rec(case, kb)).get("folfiri-cetuximab")
    assert option is None or not option.trace["setting"].startswith("folfiri-cetuximab-resumed")


# --- tenth review #5: raltitrexed after a fluoropyrimidine stop only while the side effect's kind is unknown --


@pytest.mark.parametrize(("cardiotoxicity", "offered_as"), [(None, "consider"), (False, None), (True, "alternative")])
def test_raltitrexed_after_a_toxicity_stop_follows_what_is_recorded(
    kb: KnowledgeBase, cardiotoxicity: bool | None, offered_as: str | None
) -> None:
    case = _second_line_stopped(FOLFIRI_CET, "toxicity")
    if cardiotoxicity is None:
        case["health"].pop("fluoropyrimidine_cardiotoxicity", None)
    else:
        case["health"]["fluoropyrimidine_cardiotoxicity"] = cardiotoxicity
    option = offered(rec(case, kb)).get("raltitrexed")
    assert (option.strength if option else None) == offered_as


# --- tenth review #2: maintenance after a completed first-line induction with no growth since ----------------


def _induction_done(agents: list[str], progressed: bool | None, stopped_for: str = "planned_end") -> dict[str, Any]:
    done = course(agents, "2026-03-01", "2026-09-01", stopped_for=stopped_for, best_response="partial")
    case = _ras_wild_type(done)
    if progressed is not None:
        case["prior"]["progressed_since_last_line"] = progressed
    return case


@pytest.mark.parametrize(
    ("agents", "maintenance", "strength"),
    [
        (FOLFOX_BEV, "maintenance-capecitabine-bevacizumab", "preferred"),
        (
            ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"],
            "maintenance-fluorouracil-panitumumab",
            "alternative",
        ),
    ],
)
def test_maintenance_after_a_completed_induction_without_growth(
    kb: KnowledgeBase, agents: list[str], maintenance: str, strength: str
) -> None:
    r = rec(_induction_done(agents, False), kb)
    option = offered(r)[maintenance]
    assert option.strength == strength and option.trace["setting"].endswith("after-completed-induction")
    title = option.title[0].lower() + option.title[1:]  # in mid-sentence (review 14, F11)
    assert f"Now: observation or {title} ({strength})" in r.summary
    for progressed in (True, None):
        again = offered(rec(_induction_done(agents, progressed), kb)).get(maintenance)
        assert again is None or not again.trace["setting"].endswith("after-completed-induction")
    grown_on_it = offered(rec(_induction_done(agents, False, stopped_for="progression"), kb)).get(maintenance)
    assert grown_on_it is None or not grown_on_it.trace["setting"].endswith("after-completed-induction")


def test_a_consider_option_is_not_headlined_as_the_next_step(kb: KnowledgeBase) -> None:
    case = _second_line_stopped(FOLFIRI_CET, "toxicity")
    case["prior"]["progressed_since_last_line"] = False
    case["health"].pop("fluoropyrimidine_cardiotoxicity", None)
    r = rec(case, kb)
    assert offered(r)["raltitrexed"].strength == "consider"
    assert "Then: Raltitrexed" not in r.summary
    assert "Then: FOLFIRI + cetuximab (alternative)" in r.summary


# --- tenth review #3 (w01): an ongoing line that made the disease resectable -----------------------------------


def _resectable_on(agents: list[str], resectable: bool) -> dict[str, Any]:
    case = _ras_wild_type(course(agents, "2026-07-01"))
    case["metastases"] = [
        {"site": "liver", "count": 3, "largest_mm": 22, "resectability": "resectable" if resectable else "unresectable"}
    ]
    return case


def test_a_line_that_made_the_disease_resectable_leads_to_local_treatment(kb: KnowledgeBase) -> None:
    r = rec(_resectable_on(FOLFOX_BEV, True), kb)
    assert r.intent == "curative"
    assert "plan the local treatment now" in r.summary and "Continue the ongoing line" not in r.summary
    assert "Leave bevacizumab out for at least 28 days" in r.summary
    assert any("at least 28 days before elective surgery" in w for w in r.warnings)
    assert not any(
        w.startswith("A line of treatment for advanced disease is ongoing: the plan is to continue") for w in r.warnings
    )


def test_without_bevacizumab_no_surgery_timing_warning(kb: KnowledgeBase) -> None:
    r = rec(_resectable_on(["leucovorin", "fluorouracil", "oxaliplatin"], True), kb)
    assert "plan the local treatment now" in r.summary
    assert not any("28 days" in w for w in r.warnings) and "bevacizumab" not in r.summary


def test_an_unresectable_case_on_a_running_line_still_continues(kb: KnowledgeBase) -> None:
    r = rec(_resectable_on(FOLFOX_BEV, False), kb)
    assert r.intent != "curative"
    assert "Continue the ongoing line while it works" in r.summary
    assert not any("28 days" in w for w in r.warnings)


# --- ninth and tenth reviews (u06): a low stent for a patient who declined a stoma ------------------------------


@pytest.mark.parametrize(
    ("declines_stoma", "said"), [(True, "has been declined by the patient"), (False, "usual alternative.")]
)
def test_the_low_stent_note_respects_a_declined_stoma(kb: KnowledgeBase, declines_stoma: bool, said: str) -> None:
    (stent,) = (o for o in kb.options if o.id == "colonic-stent")
    notes = [c for c in stent.cautions if c.id.startswith("stent-low-rectum")]
    assert {c.id for c in notes} == {"stent-low-rectum", "stent-low-rectum-stoma-declined"}
    facts = {"primary.distance_from_anal_verge_cm": 3, "preferences.declines_stoma": declines_stoma}
    (held,) = (c for c in notes if bind(c.when, facts) == Const(True))
    assert said in held.text


# --- tenth review #6 (v01): growth since a stop without progression is not recorded: restage ---------------------


@pytest.mark.parametrize(
    ("stopped_for", "progressed", "asked"),
    [
        ("treatment_break", None, True),
        ("toxicity", None, True),
        ("planned_end", None, True),
        ("treatment_break", False, False),
        ("treatment_break", True, False),
        ("progression", None, False),
        ("ongoing", None, False),
    ],
)
def test_restaging_is_asked_when_growth_since_a_stop_is_not_recorded(
    kb: KnowledgeBase, stopped_for: str, progressed: bool | None, asked: bool
) -> None:
    if stopped_for == "ongoing":
        case = _ras_wild_type(course(FOLFOX_BEV, "2026-06-01"))
    else:
        case = _induction_done(FOLFOX_BEV, progressed, stopped_for=stopped_for)
    r = rec(case, kb)
    assert ("restaging" in {t.test for t in r.tests_needed}) is asked


def test_the_last_lines_stop_is_derived_from_the_courses(kb: KnowledgeBase) -> None:
    for stopped_for, progressed in (("progression", True), ("treatment_break", False), ("toxicity", False)):
        case = validate_case(_induction_done(FOLFOX_BEV, None, stopped_for=stopped_for), kb)
        assert dict(case.declared)["prior.last_line_progressed"] is progressed


# --- eleventh review: the new rules fire only where they should --------------------------------------------------


def test_no_maintenance_after_a_six_week_induction(kb: KnowledgeBase) -> None:
    short = course(FOLFOX_BEV, "2026-07-01", "2026-08-12", stopped_for="treatment_break", best_response="partial")
    case = _ras_wild_type(short)
    case["prior"]["progressed_since_last_line"] = False
    option = offered(rec(case, kb)).get("maintenance-capecitabine-bevacizumab")
    assert option is None or not option.trace["setting"].endswith("after-completed-induction")


@pytest.mark.parametrize("best_response", ["not_assessed", "progression"])
def test_no_restaging_after_a_line_that_did_not_control_the_cancer(kb: KnowledgeBase, best_response: str) -> None:
    stopped = course(FOLFOX_BEV, "2026-03-01", "2026-09-01", stopped_for="toxicity", best_response=best_response)
    assert "restaging" not in {t.test for t in rec(_ras_wild_type(stopped), kb).tests_needed}


def test_a_resectable_case_without_growth_does_not_wait(kb: KnowledgeBase) -> None:
    case = _induction_done(FOLFOX_BEV, False, stopped_for="treatment_break")
    case["metastases"] = [{"site": "liver", "count": 2, "largest_mm": 20, "resectability": "resectable"}]
    r = rec(case, kb)
    assert r.intent == "curative"
    assert "waits for progression" not in r.summary
    assert not any(w.startswith("No growth since the last line stopped") for w in r.warnings)
    assert "restaging" not in {t.test for t in r.tests_needed}


def test_curative_running_line_with_neuropathy_does_not_say_continue(kb: KnowledgeBase) -> None:
    r = rec(_resectable_on(FOLFOX_BEV, True) | {"health": {**HEALTH_NEURO3}}, kb)
    assert "plan the local treatment now" in r.summary
    assert "Continue the ongoing line" not in r.summary
    assert "The chemotherapy around it: without oxaliplatin" in r.summary


def test_two_running_line_warnings_say_continue_once(kb: KnowledgeBase) -> None:
    r = rec(_resectable_on(FOLFOX_BEV, False) | {"health": {**HEALTH_NEURO3, "proteinuria": True}}, kb)
    assert r.summary.count("Continue the ongoing line") == 1
    assert "without oxaliplatin" in r.summary and "anti-VEGF drug is checked" in r.summary


def test_no_operation_timing_for_a_patient_who_declined_surgery(kb: KnowledgeBase) -> None:
    case = _resectable_on(FOLFOX_BEV, True)
    case["metastases"] = [{"site": "liver", "count": 2, "largest_mm": 20, "resectability": "resectable"}]
    case["preferences"] = {"declines": ["surgery"]}
    r = rec(case, kb)
    assert r.intent == "curative"
    assert not any("28 days" in w for w in r.warnings) and "operation" not in r.summary


def test_a_summary_never_doubles_parentheses(kb: KnowledgeBase) -> None:
    assert ") (" not in rec(_resectable_on(FOLFOX_BEV, True), kb).summary


# --- tenth review #1 follow-up and w01: chemotherapy around local treatment without an operation -----------------


def _liver_case(declines_surgery: bool, *courses: dict[str, Any]) -> dict[str, Any]:
    case = _ras_wild_type(*courses)
    case["metastases"] = [{"site": "liver", "count": 1, "largest_mm": 25, "resectability": "resectable"}]
    if declines_surgery:
        case["preferences"] = {"declines": ["surgery"]}
    return case


def test_chemotherapy_around_ablation_is_consider_and_says_so(kb: KnowledgeBase) -> None:
    r = rec(_liver_case(True), kb)
    assert r.intent == "curative"
    folfox = offered(r)["folfox"]
    assert folfox.strength == "consider" and folfox.trace["setting"] == "folfox-around-local-treatment-surgery-declined"
    assert "resection" not in folfox.rationale[0].split(":")[0]
    resected = offered(rec(_liver_case(False), kb))["folfox"]
    assert resected.strength == "preferred" and resected.trace["setting"] == "folfox-perioperative-liver"


def test_no_folfiri_switch_while_the_oxaliplatin_line_runs(kb: KnowledgeBase) -> None:
    running = _liver_case(False, course(FOLFOX_BEV, "2026-07-01"))
    folfiri = offered(rec(running, kb)).get("folfiri")
    assert folfiri is None or folfiri.trace["setting"] != "folfiri-perioperative-after-oxaliplatin"
    done = _liver_case(False, course(FOLFOX_BEV, "2025-07-01", "2025-12-01", stopped_for="progression"))
    assert offered(rec(done, kb))["folfiri"].trace["setting"] == "folfiri-perioperative-after-oxaliplatin"


# --- twelfth review: R1 (no ") (" in the running-line sentence), R2 (restage before local treatment) -----------


def test_the_running_line_sentence_has_no_doubled_parentheses(kb: KnowledgeBase) -> None:
    summary = rec(_resectable_on(FOLFOX_BEV, False) | {"health": {**HEALTH_NEURO3}}, kb).summary
    assert "(grade 3 or 4 neuropathy; see the warnings)." in summary and ") (" not in summary


@pytest.mark.parametrize(("progressed", "asked"), [(None, True), (False, False), (True, False)])
def test_restaging_before_local_treatment_after_a_stopped_line(
    kb: KnowledgeBase, progressed: bool | None, asked: bool
) -> None:
    case = _liver_case(False, course(FOLFOX_BEV, "2026-03-01", "2026-09-01", stopped_for="planned_end"))
    if progressed is not None:
        case["prior"]["progressed_since_last_line"] = progressed
    r = rec(case, kb)
    assert r.intent == "curative"
    assert ("restaging" in {t.test for t in r.tests_needed}) is asked
