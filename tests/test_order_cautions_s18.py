"""Stop 18 (review 15 F2): an order for a drug rectoplan offers meets the offer's warnings about that drug.

Before, order-select / order-sign gave a card only when the drafted drug was in no offered option: a
full-dose capecitabine order for a DPYD intermediate metaboliser, irinotecan for a UGT1A1 poor metaboliser,
capecitabine at a creatinine clearance of 40 mL/min, bevacizumab two months after a stroke got no card,
although the offered options carry a warning saying to reduce the dose or weigh the risk. Now each such
warning that concerns the drafted drug (read from the rule's `applies_to`, never from its words) is one
warning card, once, with the knowledge base's own text, its references and override reasons. Notes are not
carded, and a warning about another drug of the regimen is not carded on this one.

Built from `cards.order_cards` (the tests' helpers in tests/test_cards.py), with a display function and with
the knowledge argument the hook passes, and once through `Hooks.answer` with a FHIR chart
(tests/fixtures/stop12-fhir).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import pytest

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from rectoplan.service.cards import CAUTION_OVERRIDES, OVERRIDE_SYSTEM, order_cards
from rectoplan.service.models import OwnResponse
from rectoplan.service.order_cautions import concerned_drugs
from tests.conftest import BASE_CASE, merge
from tests.test_cards import RXNORM, SOURCE, _orders, _rxnorm

DPYD = {"health": {"dpyd": "intermediate"}}
UGT1A1 = {"health": {"ugt1a1": "poor"}}
RENAL = {"health": {"creatinine_clearance": 40}}
STROKE = {"biomarkers": {"kras": "mutant"}, "health": {"recent_arterial_thrombosis": True}}


def text_of(kb: KnowledgeBase, caution_id: str) -> str:
    """The caution's sentence as the knowledge base words it (what the card must say, never a paraphrase)."""
    return next(c.text for _, c in kb.raw_cautions if c.id == caution_id)


def cards_on(kb: KnowledgeBase, changes: dict[str, Any], *drugs: str) -> tuple[Recommendation, list[dict[str, Any]]]:
    rec = recommend(merge(BASE_CASE, changes), kb, what_if=False)
    found = order_cards(rec, _orders(*(_rxnorm(d) for d in drugs)), SOURCE, kb.vocabulary.display)
    OwnResponse.model_validate({"cards": found})
    return rec, found


def about(found: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return [c for c in found if text in c["detail"].replace("\\", "")]


@pytest.mark.parametrize(
    ("changes", "drug", "caution"),
    [
        (DPYD, "capecitabine", "dpyd-intermediate"),
        (UGT1A1, "irinotecan", "irinotecan-ugt1a1-poor"),
        (RENAL, "capecitabine", "capecitabine-moderate-renal-impairment"),
        (STROKE, "bevacizumab", "anti-vegf-arterial-thrombosis"),
    ],
)
def test_an_offered_drug_with_a_warning_about_it_gets_one_warning_card(
    kb: KnowledgeBase, changes: dict[str, Any], drug: str, caution: str
) -> None:
    rec, found = cards_on(kb, changes, drug)
    assert any(drug in o.components for o in rec.options)  # offered: the old 'excluded' card cannot fire
    text = text_of(kb, caution)
    [card] = about(found, text)
    assert card["indicator"] == "warning"
    assert card["summary"].lower().startswith(f"{kb.vocabulary.display(drug).lower()} order: ")
    assert f"the drafted **{kb.vocabulary.display(drug)}** order" in card["detail"]
    titles = [o.title for o in rec.options if drug in o.components and text in o.warnings]
    assert titles and ("Options concerned: " + ", ".join(titles)) in card["detail"].replace("\\", "")
    reasons = card["overrideReasons"]
    assert [(r["system"], r["code"]) for r in reasons] == [(OVERRIDE_SYSTEM, c) for c, _ in CAUTION_OVERRIDES]
    assert "suggestions" not in card  # the drug is offered: nothing to remove
    option = next(o for o in rec.options if drug in o.components and text in o.warnings)
    cited = next(n for n in option.cautions if n.text == text)
    urls = [c.url for c in cited.sources if c.url and c.shown]
    assert urls and [link["url"] for link in card["links"]] == list(dict.fromkeys(urls))
    assert card["source"]["url"] == urls[0]


@pytest.mark.parametrize(
    ("changes", "drug", "caution"),
    [
        ({"health": {"dpyd": "normal"}}, "capecitabine", "dpyd-intermediate"),
        ({"health": {"ugt1a1": "normal"}}, "irinotecan", "irinotecan-ugt1a1-poor"),
        ({"health": {"creatinine_clearance": 80}}, "capecitabine", "capecitabine-moderate-renal-impairment"),
        ({"biomarkers": {"kras": "mutant"}}, "bevacizumab", "anti-vegf-arterial-thrombosis"),
    ],
)
def test_no_card_when_the_caution_does_not_apply(
    kb: KnowledgeBase, changes: dict[str, Any], drug: str, caution: str
) -> None:
    rec, found = cards_on(kb, changes, drug)
    assert any(drug in o.components for o in rec.options)
    assert about(found, text_of(kb, caution)) == []


@pytest.mark.parametrize(
    ("changes", "drug", "caution"),
    [
        (DPYD, "bevacizumab", "dpyd-intermediate"),  # the fluoropyrimidine's warning, not bevacizumab's
        (STROKE, "oxaliplatin", "anti-vegf-arterial-thrombosis"),  # bevacizumab's, not oxaliplatin's
        (UGT1A1, "oxaliplatin", "irinotecan-ugt1a1-poor"),
    ],
)
def test_a_warning_about_another_drug_of_the_regimen_is_not_carded_on_this_order(
    kb: KnowledgeBase, changes: dict[str, Any], drug: str, caution: str
) -> None:
    rec, found = cards_on(kb, changes, drug)
    text = text_of(kb, caution)
    assert any(drug in o.components and text in o.warnings for o in rec.options)  # same option, other drug
    assert about(found, text) == []


def test_a_note_is_not_carded_at_order_time(kb: KnowledgeBase) -> None:
    """UGT1A1 unknown: the options carry the 'know the genotype' note (severity note): no order card."""
    rec, found = cards_on(kb, {}, "irinotecan")
    note = text_of(kb, "ugt1a1-irinotecan")
    assert any(note in o.notes for o in rec.options if "irinotecan" in o.components)
    assert about(found, note) == []


def test_each_warning_once_for_the_drafted_drugs_it_concerns(kb: KnowledgeBase) -> None:
    """FOLFIRI drafted drug by drug with DPYD intermediate and UGT1A1 poor: one DPYD card naming fluorouracil and
    capecitabine once (not one per option or per drug), one UGT1A1 card naming irinotecan alone."""
    both = merge(DPYD, UGT1A1)
    _, found = cards_on(kb, both, "fluorouracil", "irinotecan", "leucovorin", "capecitabine", "fluorouracil")
    [dpyd] = about(found, text_of(kb, "dpyd-intermediate"))
    names = ", ".join(kb.vocabulary.display(d) for d in ("fluorouracil", "capecitabine"))
    assert f"the drafted **{names}** order" in dpyd["detail"]
    [ugt] = about(found, text_of(kb, "irinotecan-ugt1a1-poor"))
    assert f"the drafted **{kb.vocabulary.display('irinotecan')}** order" in ugt["detail"]
    assert len({c["detail"].splitlines()[0] for c in found}) == len(found)  # no warning twice


def test_the_rule_decides_which_drug_a_warning_concerns(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, DPYD), kb, what_if=False)
    capox_bev = next(o for o in rec.options if o.id == "capox-bevacizumab")
    assert concerned_drugs(kb, capox_bev, text_of(kb, "dpyd-intermediate")) == {"capecitabine"}
    # `previous-intolerance` applies to every systemic option (option.kind): about the whole regimen
    assert concerned_drugs(kb, capox_bev, text_of(kb, "previous-intolerance")) is None
    assert concerned_drugs(kb, capox_bev, "a sentence no rule says") is None  # unknown: the whole regimen
    assert concerned_drugs(None, capox_bev, text_of(kb, "dpyd-intermediate")) is None


def test_a_regimen_wide_warning_says_so(kb: KnowledgeBase) -> None:
    """A line stopped for side effects: the warning is about the regimen, carded on each of its drugs once."""
    line = {"agents": ["fluorouracil", "oxaliplatin", "leucovorin"], "stopped_for": "intolerance"}
    changes = {"prior": {"systemic_lines": [line]}}
    rec, found = cards_on(kb, changes, "irinotecan", "oxaliplatin")
    text = text_of(kb, "previous-intolerance")
    if not any(text in o.warnings for o in rec.options if {"irinotecan", "oxaliplatin"} & set(o.components)):
        pytest.skip("no offered option of these drugs carries the warning in this knowledge version")
    [card] = about(found, text)
    assert "It concerns the whole regimen, not one drug of it" in card["detail"]


def test_the_hook_path_gives_the_same_caution_cards(kb: KnowledgeBase) -> None:
    """`cards.order_cards` with the vocabulary (the shipped base behind it) and with the knowledge base itself,
    as `hooks.py` calls it."""
    rec = recommend(merge(BASE_CASE, DPYD), kb, what_if=False)
    draft = _orders(_rxnorm("capecitabine")) | {"type": "collection"}
    for entry in draft["entry"]:
        entry["fullUrl"] = "urn:uuid:" + entry["resource"]["id"]
    text = text_of(kb, "dpyd-intermediate")
    by_vocabulary = about(order_cards(rec, draft, SOURCE, knowledge=kb.vocabulary), text)
    by_kb = about(order_cards(rec, draft, SOURCE, knowledge=kb), text)
    assert len(by_vocabulary) == len(by_kb) == 1
    assert by_vocabulary[0]["detail"] == by_kb[0]["detail"]
    assert "Not read, tolerated" not in by_kb[0]["detail"]


def test_order_sign_through_the_service_cards_the_renal_caution() -> None:
    """A FHIR chart with a Cockcroft-Gault clearance of 40 mL/min and a drafted capecitabine MedicationRequest."""
    pytest.importorskip("fastapi")
    pytest.importorskip("fhir.resources")
    from rectoplan.kb.loader import default_knowledge
    from rectoplan.service.hooks import Hooks
    from rectoplan.service.request import read_request
    from rectoplan.service.settings import Settings
    from tests.test_fhir_stop12_renal import quantity, renal
    from tests.test_service_support import patient_view, prefetch_from

    kb = default_knowledge()
    hooks = Hooks(kb, Settings(insecure_dev=True))
    hooks.today = lambda: date(2026, 12, 1)  # type: ignore[method-assign]  # after every record of the chart
    text = text_of(kb, "capecitabine-moderate-renal-impairment")

    def answer(clearance: int) -> list[dict[str, Any]]:
        chart = renal(valueQuantity=quantity(clearance, "mL/min"))
        patient = next(e["resource"]["id"] for e in chart["entry"] if e["resource"]["resourceType"] == "Patient")
        order = {
            "resourceType": "MedicationRequest",
            "id": "draft-1",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": f"Patient/{patient}"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": _rxnorm("capecitabine")}]},
        }
        body = patient_view(patient, prefetch_from(chart), hook="order-sign")
        body["context"] |= {
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"fullUrl": "urn:uuid:0b6f1a4e-1111-4e1e-9000-000000000002", "resource": order}],
            }
        }
        request, repeated = read_request(json.dumps(body).encode())
        assert repeated is None
        where = {"label": "rectoplan test", "url": "http://127.0.0.1:9/"}
        found: list[dict[str, Any]] = asyncio.run(hooks.answer("rectoplan-order-sign", request, where, None))["cards"]
        return found

    [card] = about(answer(40), text)
    assert card["indicator"] == "warning" and card["overrideReasons"]
    assert about(answer(80), text) == []
