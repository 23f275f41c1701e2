"""Stop 19 (review 16, F8, f02): a patient who declined a stoma is told plainly what the decision gives up.

f02 (resectable pelvic recurrence after earlier pelvic radiation, no metastases, stoma declined) was told
"You have decided against a stoma ... Treatment will aim to control the cancer ..." without the trade-off.
The patient text of intent-palliative-stoma-declined-recurrence now says that the operation that leaves a
stoma is the treatment that could remove all of the cancer, that the patient can change their mind, and that
the team can talk through life with a stoma. It says so only when the whole disease could be removed; with
unresectable metastases the usual palliative rule speaks (palliative as before).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from rectoplan.adapters.handout import handout_html
from rectoplan.adapters.render_text import render_text
from rectoplan.api import validate_case
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_knowledge_review3 import rec

RULE = "intent-palliative-stoma-declined-recurrence"
TRADE_OFF = "such an operation is the treatment that could remove all of the cancer"
CHANGE_MIND = "You can change your mind at any time"
LIFE_WITH_STOMA = "what life with a stoma is like"

# Review 16's f02, as written by the reviewer.
F02: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "f02-lr-resectable-declines-stoma",
    "as_of": "2026-12-01",
    "age": 62,
    "ecog": 1,
    "primary": {"status": "resected", "stoma": False},
    "metastases": [],
    "biomarkers": {
        "kras": "wild_type",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2_result": "ihc0_1",
        "ntrk_fusion": "negative",
        "ret_fusion": "negative",
    },
    "prior": {
        "pelvic_radiation": True,
        "surgeries": ["low_anterior_resection", "total_mesorectal_excision"],
        "courses": [
            {
                "agents": ["capecitabine", "oxaliplatin"],
                "setting": "adjuvant",
                "start": "2024-01-10",
                "end": "2024-06-01",
                "status": "completed",
            }
        ],
    },
    "health": {
        "dpyd": "normal",
        "bleeding_risk": False,
        "fit_for_intensive_therapy": True,
        "neuropathy_grade": 0,
        "creatinine_clearance": 85,
        "days_since_major_surgery": 700,
    },
    "wants_clinical_trials": True,
    "advanced_disease_date": "2026-11-10",
    "local_recurrence": {"resectability": "resectable", "symptoms": []},
    "preferences": {"declines": ["stoma"]},
}


def f02(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(F02)
    out.update(copy.deepcopy(changes))
    return out


def prose(html: str) -> str:
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("resectability", ["resectable", "potentially_resectable"])
def test_declined_stoma_states_the_trade_off(resectability: str, kb: KnowledgeBase) -> None:
    case = f02(local_recurrence={"resectability": resectability, "symptoms": []})
    r = rec(case, kb)
    assert (r.intent, r.intent_rule) == ("palliative", RULE)
    text = " ".join(render_text(r, kb, color=False).split())
    handout = prose(handout_html(r, kb, validate_case(case, kb)))
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
