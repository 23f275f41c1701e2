"""CDS Hooks cards as a clinician meets them: the plan first, safety warnings only, orders judged one by one.

Built straight from `cards.py` (no server), and each card through the service's own card model.
"""

from __future__ import annotations

from typing import Any

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.service.cards import OVERRIDE_SYSTEM, cards_for, order_cards, primary_source
from rectoplan.service.models import OwnResponse
from rectoplan.service.page import plan_link
from tests.conftest import BASE_CASE, merge

SOURCE = {"label": "rectoplan knowledge base test", "url": "http://127.0.0.1:8080/"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _orders(*codes: str) -> dict[str, Any]:
    entries = [
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": f"draft-{i}",
                "status": "draft",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
            }
        }
        for i, code in enumerate(codes)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _rxnorm(drug: str) -> str:
    from rectoplan.adapters import fhir_codes as fc

    return next(code for (system, code), d in fc.DRUGS.items() if system == RXNORM and d.meaning == drug)


def test_patient_view_is_one_plan_card_then_safety_warnings(kb: KnowledgeBase) -> None:
    case = merge(BASE_CASE, {"id": "p1", "biomarkers": {"kras": "mutant", "mmr": "dmmr_msi_h"}})
    rec = recommend(case, kb, what_if=False)
    link = plan_link(SOURCE["url"], case)
    cards = cards_for(rec, SOURCE, None, link, kb.vocabulary.display)
    OwnResponse.model_validate({"cards": cards})
    plan, rest = cards[0], cards[1:]
    assert plan["indicator"] == "info" and rec.options[0].title in plan["summary"]
    assert plan["links"] == [{"label": "Full plan in rectoplan", "url": link, "type": "absolute"}]
    excluded = [x for x in rec.excluded if not x.held]
    assert excluded and all(x.title in plan["detail"] for x in excluded)  # exclusions inside the plan card
    assert not any(c["summary"].startswith("Not recommended") for c in cards)
    assert [c["summary"][:60] for c in rest] == [w[:60] for w in rec.warnings] and "Lynch" in rest[0]["summary"]
    assert all(len(c["summary"]) <= 139 and not c["summary"].endswith(" …") for c in cards)
    assert all(c["indicator"] in ("warning", "critical") for c in rest)
    assert "[" not in plan["detail"].replace("\\[", "")  # no rule ids in the card text


def test_plan_card_names_tests_by_title_and_links_the_primary_reference(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, {"biomarkers": {"her2": None}}), kb, what_if=False)
    plan = cards_for(rec, SOURCE, None, None, kb.vocabulary.display)[0]
    assert rec.tests_needed and kb.vocabulary.display("her2") in plan["detail"]
    assert ("Held back until" in plan["detail"]) == any(x.held for x in rec.excluded)
    data = rec.to_dict()
    data["options"][0]["sources"] = [{"ref": "seed.txt"}]  # a bare file name: the knowledge base instead
    assert primary_source(data, SOURCE) == SOURCE
    data["options"][0]["sources"] = [
        {"id": "s", "label": "A patient page", "url": None},
        {"id": "x", "label": "KEYNOTE-177", "url": "https://example.org/k177"},
    ]
    assert primary_source(data, SOURCE) == {"label": "KEYNOTE-177", "url": "https://example.org/k177"}


def test_order_of_an_excluded_drug_gets_one_card_with_override_reasons(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, {"biomarkers": {"kras": "mutant"}}), kb, what_if=False)
    offered = {c for o in rec.options for c in o.components}
    assert "cetuximab" not in offered
    cards = order_cards(rec, _orders(_rxnorm("cetuximab"), _rxnorm("cetuximab")), SOURCE, kb.vocabulary.display)
    OwnResponse.model_validate({"cards": cards})
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "warning" and card["summary"].startswith(kb.vocabulary.display("cetuximab"))
    assert card["overrideReasons"] and all(r["system"] == OVERRIDE_SYSTEM for r in card["overrideReasons"])
    action = card["suggestions"][0]["actions"][0]
    assert action == {"type": "delete", "description": action["description"], "resourceId": "MedicationRequest/draft-0"}
    reasons = [line for line in card["detail"].splitlines() if line.startswith("- ")]
    assert len(reasons) == len(set(reasons))  # the reason line is not repeated per option


def test_order_that_fits_the_plan_or_is_unknown_gets_no_card(kb: KnowledgeBase) -> None:
    rec = recommend(BASE_CASE, kb, what_if=False)
    from rectoplan.adapters import fhir_codes as fc

    coded = {d.meaning for (system, _), d in fc.DRUGS.items() if system == RXNORM}
    offered = sorted({c for o in rec.options for c in o.components} & coded)  # drugs an order can name
    assert order_cards(rec, _orders(_rxnorm(offered[0])), SOURCE) == []
    unknown = {"entry": [{"resource": {"resourceType": "MedicationRequest", "id": "x"}}]}
    assert order_cards(rec, unknown, SOURCE) == []


def test_plan_card_leads_with_the_best_treatments_when_a_warning_lowers_the_usual_first_choice(
    kb: KnowledgeBase,
) -> None:
    """After a recent stroke no bevacizumab doublet is preferred: a preferred trial alone must not head the card."""
    from tests.test_knowledge_review3 import rec, with_courses

    stroke = rec(with_courses(recent_arterial_thrombosis=True), kb)
    plan = cards_for(stroke, SOURCE, None, None, kb.vocabulary.display)[0]
    assert plan["summary"].startswith("rectoplan: FOLFOX (mFOLFOX6) and other options"), plan["summary"]
    assert "**FOLFOX (mFOLFOX6)**" in plan["detail"]
    usual = rec(with_courses(recent_arterial_thrombosis=False), kb)
    assert cards_for(usual, SOURCE, None, None, kb.vocabulary.display)[0]["summary"].startswith("rectoplan preferred:")
