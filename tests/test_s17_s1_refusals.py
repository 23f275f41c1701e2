"""Review 14, finding 4: a recorded refusal is not contradicted by the texts of the plan.

b04: a patient who declined surgery was offered chemoradiation that 'shrinks the recurrence before surgery'
(phase neoadjuvant); i04 (a stoma declined) the same once its plan is palliative. g01: a patient who declined
chemotherapy was told that 'chemotherapy is usually given before or after the operation', and the liver
resection's rationale put it into the plan. g02: best supportive care told a patient who declined radiation
that palliative radiation 'can still be used'. Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import offered_of, recommend_made

Make = Callable[..., Case]
RESECTED = {"status": "resected"}
USUAL_CHEMOTHERAPY = "chemotherapy is usually given before or after the operation"


def _recurrence(*declines: str) -> dict[str, Any]:
    return {
        "primary": RESECTED,
        "metastases": [],
        "local_recurrence": {"resectability": "resectable", "symptoms": []},
        "preferences": {"declines": list(declines)},
    }


# --- b04, i04: chemoradiation without an operation --------------------------------------------------------------
def test_chemoradiation_after_a_declined_operation_is_not_before_surgery(make_case: Make, kb: KnowledgeBase) -> None:
    for declined in ("surgery", "stoma"):
        rec = recommend_made(make_case, kb, **_recurrence(declined))
        assert rec.intent == "palliative", declined
        for option_id in ("chemoradiation-capecitabine", "chemoradiation-fluorouracil"):
            crt = offered_of(rec)[option_id]
            assert crt.setting.endswith("-recurrence-no-operation"), (declined, crt.setting)
            assert crt.phase != "neoadjuvant" and crt.strength == "alternative"
            assert "before surgery" not in crt.rationale[0] and "cure is unlikely" in crt.rationale[0]


def test_chemoradiation_before_an_intended_operation_is_unchanged(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, **_recurrence())
    assert rec.intent == "curative"
    crt = offered_of(rec)["chemoradiation-capecitabine"]
    assert (crt.setting, crt.phase, crt.strength) == (
        "chemoradiation-capecitabine-isolated-recurrence",
        "neoadjuvant",
        "preferred",
    )


# --- g01: chemotherapy declined --------------------------------------------------------------------------------
def _liver_only(*declines: str) -> dict[str, Any]:
    return {
        "primary": RESECTED,
        "metastases": [{"site": "liver", "count": 2, "resectability": "resectable"}],
        "preferences": {"declines": list(declines)},
    }


def test_declined_chemotherapy_is_not_put_back_into_the_curative_plan(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, **_liver_only("chemotherapy"))
    assert (rec.intent, rec.intent_rule) == ("curative", "intent-curative-chemotherapy-declined")
    assert USUAL_CHEMOTHERAPY not in rec.patient_summary
    assert "You have said you do not want chemotherapy" in rec.patient_summary
    liver = offered_of(rec)["liver-resection"]
    assert liver.setting == "liver-resection-liver-only-chemotherapy-declined" and liver.strength == "preferred"
    assert "declined chemotherapy" in liver.rationale[0]


def test_without_a_refusal_the_usual_curative_words_stay(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, **_liver_only())
    assert (rec.intent, rec.intent_rule) == ("curative", "intent-curative")
    assert USUAL_CHEMOTHERAPY in rec.patient_summary
    assert offered_of(rec)["liver-resection"].setting == "liver-resection-liver-only"


# --- g02: best supportive care does not promise a declined treatment --------------------------------------------
def test_supportive_care_offers_symptom_treatments_only_if_wanted(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(
        make_case,
        kb,
        preferences={"declines": ["chemotherapy", "surgery", "radiation"], "goal": "comfort"},
    )
    bsc = offered_of(rec)["best-supportive-care"]
    assert bsc.strength == "preferred"
    assert "can still be used" not in bsc.patient_explanation and "if you want them" in bsc.patient_explanation
    assert "if the patient accepts them" in bsc.rationale[0]
