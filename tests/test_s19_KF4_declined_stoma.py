"""Stop 19 (review 16, F8, f02): a patient who declined a stoma is told plainly what the decision gives up.

f02 (resectable pelvic recurrence after earlier pelvic radiation, no metastases, stoma declined) was told
"You have decided against a stoma ... Treatment will aim to control the cancer ..." without the trade-off.
The patient text of intent-palliative-stoma-declined-recurrence now says that the operation that leaves a
stoma is the treatment that could remove all of the cancer, that the patient can change their mind, and that
the team can talk through life with a stoma. It says so only when the whole disease could be removed; with
unresectable metastases the usual palliative rule speaks (palliative as before).
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.adapters.handout import handout_html
from rectoplan.adapters.render_text import render_text
from rectoplan.api import validate_case
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import (
    adjuvant_capox,
    after_lar_tme,
    handout_prose,
    review16_case,
    review16_health,
    with_sections,
)
from tests.test_knowledge_review3 import rec

RULE = "intent-palliative-stoma-declined-recurrence"
TRADE_OFF = "such an operation is the treatment that could remove all of the cancer"
CHANGE_MIND = "You can change your mind at any time"
LIFE_WITH_STOMA = "what life with a stoma is like"

# Review 16's f02, as written by the reviewer.
F02: dict[str, Any] = review16_case(
    "f02-lr-resectable-declines-stoma",
    metastases=[],
    prior=after_lar_tme([adjuvant_capox("2024-01-10", "2024-06-01")]),
    health=review16_health(days_since_major_surgery=700),
    local_recurrence={"resectability": "resectable", "symptoms": []},
    preferences={"declines": ["stoma"]},
)


def f02(**changes: Any) -> dict[str, Any]:
    return with_sections(F02, **changes)


@pytest.mark.parametrize("resectability", ["resectable", "potentially_resectable"])
def test_declined_stoma_states_the_trade_off(resectability: str, kb: KnowledgeBase) -> None:
    case = f02(local_recurrence={"resectability": resectability, "symptoms": []})
    r = rec(case, kb)
    assert (r.intent, r.intent_rule) == ("palliative", RULE)
    text = " ".join(render_text(r, kb, color=False).split())
    handout = handout_prose(handout_html(r, kb, validate_case(case, kb)))
    for words in (TRADE_OFF, CHANGE_MIND, LIFE_WITH_STOMA):
        assert words in r.patient_summary
        assert words in text
        assert words in handout


def test_declined_stoma_with_unresectable_metastases_promises_no_cure(kb: KnowledgeBase) -> None:
    liver = [{"site": "liver", "count": 7, "resectability": "unresectable"}]
    r = rec(f02(metastases=liver), kb)
    assert (r.intent, r.intent_rule) == ("palliative", "intent-palliative")
    assert TRADE_OFF not in r.patient_summary


def test_accepted_stoma_keeps_the_curative_plan(kb: KnowledgeBase) -> None:
    r = rec(f02(preferences={"declines": []}), kb)
    assert r.intent == "curative"
    assert TRADE_OFF not in r.patient_summary
