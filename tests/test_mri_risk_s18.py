"""Stop 18: RAPIDO's other MRI high-risk features of a primary in place steer the pelvic treatment too.

Stop 17 read a threatened or involved mesorectal fascia (`primary.crm_involved`) and a T4b tumour
(`primary.mri_t`). RAPIDO (Bahadoer et al., Lancet Oncol 2021, doi 10.1016/S1470-2045(20)30555-6, NCT01558921)
enrolled tumours 'classified as high risk on pelvic MRI (with at least one of the following criteria: clinical
tumour [cT] stage cT4a or cT4b, extramural vascular invasion, clinical nodal [cN] stage cN2, ...'; all received
pelvic radiation before total mesorectal excision. So a T4a tumour, N2 nodes (`primary.mri_n`) or extramural
venous invasion (`primary.emvi`) now make chemoradiation and short-course radiation preferred before the rectal
resection (the rows `*-margin-at-risk` of 50_chemoradiation.yaml, extended) and put pelvic radiotherapy or total
neoadjuvant therapy first in the resections' rationale (the rows `*-mri-high-risk` of 70_surgery.yaml, new).

Each rule has cases that trigger it and cases that do not; an unknown finding never triggers it (the plan is
not made more aggressive on a guess) and never makes a row claim the tumour is low risk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation
from tests._kb_cases import PELVIC_RADIATION, PRIMARY_RESECTIONS, offered_of

Make = Callable[..., Case]
RESECTIONS = PRIMARY_RESECTIONS
RADIATION = PELVIC_RADIATION
QUOTE = "clinical tumour [cT] stage cT4a or cT4b, extramural vascular invasion, clinical nodal [cN] stage cN2"
# A primary with no high-risk feature on MRI: each test changes one finding.
LOW = {"crm_involved": False, "mri_t": "T3", "mri_n": "N1", "emvi": False}
NEW_FEATURES = ({"mri_t": "T4a"}, {"mri_n": "N2"}, {"emvi": True})


def _feature_id(change: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in change.items())


def _rec(make_case: Make, kb: KnowledgeBase, liver: str = "resectable", **primary: Any) -> Recommendation:
    case = make_case(
        format="rectoplan.case/2",
        primary={"status": "in_place", **primary},
        metastases=[{"site": "liver", "count": 3, "resectability": liver}],
    )
    return recommend(case, kb, what_if=False)


def _primary(**changes: Any) -> dict[str, Any]:
    """LOW with some findings changed; a value of None leaves the finding unrecorded."""
    return {k: v for k, v in {**LOW, **changes}.items() if v is not None}


def _assert_usual_rows(offered: dict[str, OptionResult]) -> None:
    for option_id in RESECTIONS:
        assert offered[option_id].setting == f"{option_id}-curative", option_id
    for option_id in ("chemoradiation-capecitabine", "chemoradiation-fluorouracil"):
        assert (offered[option_id].strength, offered[option_id].setting) == (
            "alternative",
            f"{option_id}-before-surgery",
        )
    short = offered["short-course-radiotherapy"]
    assert (short.strength, short.setting) == ("alternative", "short-course-radiotherapy-curative")
    for option in offered.values():  # no row speaks of the MRI's risk, high or low, when it was not shown
        text = " ".join(option.rationale).lower()
        assert "high-risk feature" not in text and "low risk" not in text and "low-risk" not in text, option.id


@pytest.mark.parametrize("change", NEW_FEATURES, ids=_feature_id)
def test_each_new_feature_makes_pelvic_radiation_preferred(
    make_case: Make, kb: KnowledgeBase, change: dict[str, Any]
) -> None:
    rec = _rec(make_case, kb, **_primary(**change))
    assert rec.intent == "curative"
    offered = offered_of(rec)
    for option_id in RADIATION:
        option = offered[option_id]
        assert (option.strength, option.setting) == ("preferred", f"{option_id}-margin-at-risk"), option_id
        assert "extramural venous invasion" in option.rationale[0] and "N2 nodes" in option.rationale[0]
        assert any(c.source == "rapido" and c.quote == QUOTE for c in option.sources), option_id


@pytest.mark.parametrize("change", NEW_FEATURES, ids=_feature_id)
def test_each_new_feature_puts_pelvic_radiation_before_the_resection(
    make_case: Make, kb: KnowledgeBase, change: dict[str, Any]
) -> None:
    offered = offered_of(_rec(make_case, kb, **_primary(**change)))
    for option_id in RESECTIONS:
        option = offered[option_id]
        assert option.setting == f"{option_id}-mri-high-risk", option.setting
        assert "before the rectal resection" in option.rationale[0] and "RAPIDO" in option.rationale[0]
        assert any(c.source == "rapido" and c.quote == QUOTE for c in option.sources), option_id


def test_conversion_intent_is_steered_too(make_case: Make, kb: KnowledgeBase) -> None:
    """The radiation rows cover conversion (potentially resectable metastases), as stop 17's did."""
    rec = _rec(make_case, kb, liver="potentially_resectable", **_primary(emvi=True))
    assert rec.intent == "conversion"
    short = offered_of(rec)["short-course-radiotherapy"]
    assert (short.strength, short.setting) == ("preferred", "short-course-radiotherapy-margin-at-risk")
    usual = offered_of(_rec(make_case, kb, liver="potentially_resectable", **LOW))["short-course-radiotherapy"]
    assert usual.setting == "short-course-radiotherapy-conversion"


@pytest.mark.parametrize(
    "primary",
    [LOW, _primary(mri_t="T2", mri_n="N0"), _primary(mri_t="T1", mri_n="N0")],
    ids=["T3-N1", "T2-N0", "T1-N0"],
)
def test_no_high_risk_feature_keeps_the_usual_rows(make_case: Make, kb: KnowledgeBase, primary: dict[str, Any]) -> None:
    _assert_usual_rows(offered_of(_rec(make_case, kb, **primary)))


@pytest.mark.parametrize(
    "unknown",
    [{"mri_t": None}, {"mri_n": None}, {"emvi": None}, dict.fromkeys(LOW)],
    ids=["mri_t", "mri_n", "emvi", "all"],
)
def test_an_unknown_finding_steers_nothing(make_case: Make, kb: KnowledgeBase, unknown: dict[str, Any]) -> None:
    """Unknown is never favourable, and never taken for high risk either: the usual rows, which claim neither."""
    _assert_usual_rows(offered_of(_rec(make_case, kb, **_primary(**unknown))))


def test_a_known_feature_decides_beside_unknown_ones(make_case: Make, kb: KnowledgeBase) -> None:
    offered = offered_of(_rec(make_case, kb, mri_n="N2"))  # T, margin and EMVI unrecorded
    assert offered["short-course-radiotherapy"].setting == "short-course-radiotherapy-margin-at-risk"
    assert offered["staged-resection"].setting == "staged-resection-mri-high-risk"


def test_stop_17_rows_keep_their_words(make_case: Make, kb: KnowledgeBase) -> None:
    """An involved margin or a T4b tumour keeps stop 17's row, whatever else MRI shows."""
    offered = offered_of(_rec(make_case, kb, **_primary(crm_involved=True, emvi=True, mri_n="N2")))
    assert all(offered[o].setting == f"{o}-margin-at-risk" for o in RESECTIONS)
    offered = offered_of(_rec(make_case, kb, **_primary(mri_t="T4b", emvi=True, mri_n="N2")))
    assert all(offered[o].setting == f"{o}-t4b" for o in RESECTIONS)


def test_earlier_pelvic_radiation_is_not_repeated(make_case: Make, kb: KnowledgeBase) -> None:
    case = make_case(
        format="rectoplan.case/2",
        primary={"status": "in_place", **_primary(emvi=True, mri_n="N2")},
        metastases=[{"site": "liver", "count": 3, "resectability": "resectable"}],
        prior={"pelvic_radiation": True},
    )
    offered = offered_of(recommend(case, kb, what_if=False))
    for option_id in RADIATION:
        assert option_id not in offered or offered[option_id].setting != f"{option_id}-margin-at-risk"


def test_palliative_plan_is_not_steered(make_case: Make, kb: KnowledgeBase) -> None:
    rec = _rec(make_case, kb, liver="unresectable", **_primary(emvi=True, mri_t="T4a", mri_n="N2"))
    assert rec.intent == "palliative"
    for option in rec.options:
        assert not option.setting.endswith(("-margin-at-risk", "-mri-high-risk")), option.id
