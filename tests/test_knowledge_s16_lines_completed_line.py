"""Twelfth review P5 (x02, x09): a line of FOLFOX + bevacizumab that stopped recently without progression,
after which the liver metastases became resectable. Stop 15's running-line plan, for a stopped line: FOLFOX
and CAPOX count the cycles already given (not "about 6 months in total" as if chemotherapy-naive), FOLFIRI is
not "the switch" after a response, and bevacizumab within the last month warns of the label's 28 days before
elective surgery. Unknown timing is never "recent"; an unknown end asks for the date of the last dose."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests.test_knowledge_review3 import course, offered, rec, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
FOLFOX = ["leucovorin", "fluorouracil", "oxaliplatin"]
COUNT = "Count the cycles of the recent line in the chemotherapy around the local treatment"
BEV_28 = "Leave at least 28 days between the last bevacizumab dose and the operation"
COUNT_WARNING = "The last line for advanced disease controlled the cancer and stopped recently"
BEV_WARNING = "Bevacizumab was given and the last line ended less than a month ago"
BEV_UNKNOWN = "Bevacizumab was given and when the last line ended is not recorded"


def _resectable_after(
    agents: list[str], start: str, end: str | None, stopped_for: str = "planned_end", **prior: Any
) -> dict[str, Any]:
    done = course(agents, start, end, stopped_for=stopped_for, best_response="partial", status="stopped")
    case = with_courses(done)  # as_of 2026-11-20
    case["metastases"] = [{"site": "liver", "count": 3, "largest_mm": 22, "resectability": "resectable"}]
    case["prior"].update(prior)
    return case


def _setting(r: Recommendation, option: str) -> str:
    trace = offered(r)[option].trace
    assert trace is not None
    return str(trace["setting"])


def test_a_recent_line_counts_as_the_chemotherapy_before_surgery(kb: KnowledgeBase) -> None:
    r = rec(_resectable_after(FOLFOX_BEV, "2026-05-01", "2026-10-30"), kb)  # x02: 21 days before as_of
    assert r.intent == "curative"
    for option in ("folfox", "capox"):
        chosen = offered(r)[option]
        assert _setting(r, option) == f"{option}-perioperative-after-oxaliplatin-line"
        assert chosen.strength == "alternative" and chosen.evidence[0] == "extrapolated"
        assert "count the cycles already given" in chosen.rationale[0]
        assert "about 6 months in total" not in chosen.rationale[0]
    folfiri = offered(r)["folfiri"]
    assert _setting(r, "folfiri") == "folfiri-perioperative-after-oxaliplatin-response"
    assert folfiri.strength == "consider" and "the switch" not in folfiri.rationale[0]
    assert any(w.startswith(COUNT_WARNING) for w in r.warnings)
    assert any(w.startswith(BEV_WARNING) for w in r.warnings)
    assert COUNT in r.summary and BEV_28 in r.summary
    assert r.summary.count("(see the warnings)") == 1


def test_a_line_that_ended_long_ago_is_not_counted(kb: KnowledgeBase) -> None:
    r = rec(_resectable_after(FOLFOX_BEV, "2025-11-01", "2026-05-01"), kb)  # ended 6 months before as_of
    assert _setting(r, "folfox") == "folfox-perioperative-liver" and offered(r)["folfox"].strength == "preferred"
    assert not any(w.startswith((COUNT_WARNING, BEV_WARNING, BEV_UNKNOWN)) for w in r.warnings)
    assert COUNT not in r.summary and BEV_28 not in r.summary
    # still no switch after a response, whenever the line ended
    assert _setting(r, "folfiri") == "folfiri-perioperative-after-oxaliplatin-response"


def test_without_bevacizumab_no_timing_warning(kb: KnowledgeBase) -> None:
    r = rec(_resectable_after(FOLFOX, "2026-05-01", "2026-10-30"), kb)
    assert COUNT in r.summary and BEV_28 not in r.summary
    assert not any(w.startswith((BEV_WARNING, BEV_UNKNOWN)) for w in r.warnings)


def test_an_unrecorded_end_is_never_recent(kb: KnowledgeBase) -> None:
    r = rec(_resectable_after(FOLFOX_BEV, "2026-05-01", None), kb)
    assert _setting(r, "folfox") == "folfox-perioperative-liver"
    assert not any(w.startswith((COUNT_WARNING, BEV_WARNING)) for w in r.warnings)
    assert any(w.startswith(BEV_UNKNOWN) for w in r.warnings)  # the date of the last dose is asked
    assert BEV_28 not in r.summary


@pytest.mark.parametrize(("stopped_for", "counted"), [("progression", False), ("toxicity", True)])
def test_progression_or_intolerance_keeps_the_switch(kb: KnowledgeBase, stopped_for: str, counted: bool) -> None:
    r = rec(_resectable_after(FOLFOX_BEV, "2026-05-01", "2026-10-30", stopped_for=stopped_for), kb)
    assert _setting(r, "folfiri") == "folfiri-perioperative-after-oxaliplatin"
    folfox = offered(r).get("folfox")  # after progression on oxaliplatin it is not offered at all
    assert folfox is None or not _setting(r, "folfox").endswith("after-oxaliplatin-line")
    # a stop for side effects while the cancer was controlled still counts the cycles given (its warning says
    # to change the regimen for side effects); progression on the line does not
    assert any(w.startswith(COUNT_WARNING) for w in r.warnings) is counted


def test_growth_since_the_stop_is_not_counted_as_control(kb: KnowledgeBase) -> None:
    r = rec(_resectable_after(FOLFOX_BEV, "2026-05-01", "2026-10-30", progressed_since_last_line=True), kb)
    assert not any(w.startswith(COUNT_WARNING) for w in r.warnings) and COUNT not in r.summary


def test_no_operation_timing_when_surgery_is_declined(kb: KnowledgeBase) -> None:
    case = _resectable_after(FOLFOX_BEV, "2026-05-01", "2026-10-30")
    case["metastases"] = [{"site": "liver", "count": 2, "largest_mm": 20, "resectability": "resectable"}]
    case["preferences"] = {"declines": ["surgery"]}
    r = rec(case, kb)
    assert r.intent == "curative"
    assert not any(w.startswith((BEV_WARNING, BEV_UNKNOWN)) for w in r.warnings) and BEV_28 not in r.summary
