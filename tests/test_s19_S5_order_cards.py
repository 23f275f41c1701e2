"""Stop 19 (S5): both order hooks build their cards in one place, `cards.order_cards`.

What the service sends is what tests/test_cards.py checks: an order of a drug rectoplan excludes gets the
warning with a suggestion to remove that order and the override reasons (before, the service sent its own
card without them), and a drug held back until a missing result is known gets an info card naming the
missing fact (before, the service was silent). Replayed through `Hooks.answer` with the sandbox's own
order-select request (tests/fixtures/cds-sandbox), the drug named as the sandbox names drugs (text only).
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date
from typing import Any

import pytest

from rectoplan.service.cards import OVERRIDE_REASONS, OVERRIDE_SYSTEM
from tests.test_service_sandbox import sandbox

pytest.importorskip("fastapi")


def order_select(text: str) -> list[dict[str, Any]]:
    """The sandbox's order-select call for ines (KRAS G12C, NTRK unknown) with the drafted drug named `text`."""
    from rectoplan.kb.loader import default_knowledge
    from rectoplan.service.hooks import Hooks
    from rectoplan.service.request import read_request
    from rectoplan.service.settings import Settings

    hooks = Hooks(default_knowledge(), Settings(insecure_dev=True))
    hooks.today = lambda: date(2026, 12, 7)  # type: ignore[method-assign]
    body = {k: v for k, v in copy.deepcopy(sandbox("order-select-request")).items() if k != "fhirServer"}
    resource = body["context"]["draftOrders"]["entry"][0]["resource"]
    resource["medicationCodeableConcept"] = {"text": text, "coding": []}
    request, _ = read_request(json.dumps(body).encode())
    where = {"label": "rectoplan test", "url": "http://127.0.0.1:9/"}
    found: list[dict[str, Any]] = asyncio.run(hooks.answer("rectoplan-order-select", request, where, None))["cards"]
    return found


def test_the_service_card_of_an_excluded_drug_offers_to_remove_the_order() -> None:
    [card] = order_select("cetuximab 2 MG/ML Injectable Solution")
    assert card["indicator"] == "warning" and card["summary"] == "cetuximab is not recommended for this patient"
    [action] = card["suggestions"][0]["actions"]
    assert action["type"] == "delete" and action["resourceId"] == "MedicationRequest/request-123"
    assert [(r["system"], r["code"]) for r in card["overrideReasons"]] == [
        (OVERRIDE_SYSTEM, c) for c, _ in OVERRIDE_REASONS
    ]
    assert "category" in card["detail"]  # what was tolerated still ends the detail


def test_the_service_is_not_silent_on_a_drug_held_back_for_a_missing_result() -> None:
    [card] = order_select("entrectinib")
    assert card["indicator"] == "info" and card["summary"] == "entrectinib: results needed before this order"
    assert "NTRK" in card["detail"]
