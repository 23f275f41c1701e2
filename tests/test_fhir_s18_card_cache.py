"""Stop 18: the service's card cache is keyed by the case date as well as the chart.

Why: `Hooks.answer` caches a patient-view's cards by the chart's content (the mapper and engine are pure),
but the case date (`as_of`) is the day the call is answered, and the reading of one chart changes with it:
age, days since major surgery, and what is dated after the case date (reported and not used since stop 17
for results, stop 18 for conditions and procedures). The key held no date, and the import took the date
itself, so a service running past midnight served yesterday's cards for the same chart: a resection done
"after the case date" yesterday stayed unread today. Now the hook call fixes its date once
(`Hooks.today`), maps the chart as of it, and the key holds it.

Fixture: `tests/fhir_bundles/rectal_recurrent_after_folfox.json` with its low anterior resection moved to
2026-03-02 (every other record is dated by 2026-03-01).
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("fhir.resources")

from rectoplan.kb.loader import default_knowledge
from rectoplan.service import hooks as hooks_module
from rectoplan.service.hooks import Hooks
from rectoplan.service.request import read_request
from rectoplan.service.settings import Settings
from tests.test_service_support import load_bundle, patient_view, prefetch_from

PATIENT = "omar-rectal-recurrence"
WHERE = {"label": "rectoplan test", "url": "http://127.0.0.1:9/"}
LATE = "after the case date 2026-03-01, on procedure SNOMED 447982008"


def chart() -> dict[str, Any]:
    bundle = copy.deepcopy(load_bundle("rectal_recurrent_after_folfox"))
    lar = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "lar")
    lar["performedDateTime"] = "2026-03-02"
    return bundle


@pytest.fixture(scope="module")
def hooks() -> Hooks:
    return Hooks(default_knowledge(), Settings(insecure_dev=True))


def detail_on(hooks: Hooks, day: date) -> str:
    hooks.today = lambda: day
    body, repeated = read_request(json.dumps(patient_view(PATIENT, prefetch_from(chart()))).encode())
    assert repeated is None
    answer = asyncio.run(hooks.answer("rectoplan-options", body, WHERE, None))
    return "\n".join(str(card.get("detail", "")) for card in answer["cards"])


def test_the_same_chart_on_another_day_is_read_as_of_that_day(hooks: Hooks) -> None:
    hooks.charts.items.clear()
    first = detail_on(hooks, date(2026, 3, 1))
    assert LATE in first  # the resection is dated after the case date: reported, not used
    later = detail_on(hooks, date(2026, 3, 2))
    assert "after the case date" not in later  # the next day it is read; before, yesterday's cards came back
    assert LATE in detail_on(hooks, date(2026, 3, 1))


def test_the_cache_still_answers_the_same_chart_on_the_same_day(hooks: Hooks) -> None:
    hooks.charts.items.clear()
    detail_on(hooks, date(2026, 3, 2))
    detail_on(hooks, date(2026, 3, 2))
    assert len(hooks.charts.items) == 1
    detail_on(hooks, date(2026, 3, 3))
    assert len(hooks.charts.items) == 2


def test_the_order_hooks_read_the_chart_as_of_the_same_date(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> None:
    """order-select is not cached, but maps the chart with the call's date too (not a date of its own)."""
    hooks.today = lambda: date(2026, 3, 1)
    request = patient_view(PATIENT, prefetch_from(chart())) | {"hook": "order-select"}
    request["context"] |= {
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {
                    "fullUrl": "MedicationRequest/draft-1",
                    "resource": {
                        "resourceType": "MedicationRequest",
                        "id": "draft-1",
                        "status": "draft",
                        "intent": "order",
                        "subject": {"reference": f"Patient/{PATIENT}"},
                        "medicationCodeableConcept": {"text": "a drug rectoplan does not read"},
                    },
                }
            ],
        },
    }
    body, repeated = read_request(json.dumps(request).encode())
    assert repeated is None
    seen: list[date | None] = []
    real = hooks_module.case_from_bundle

    def spy(bundle: dict[str, Any], patient_id: str | None = None, today: date | None = None, **kw: Any) -> Any:
        seen.append(today)
        return real(bundle, patient_id, today, **kw)

    monkeypatch.setattr(hooks_module, "case_from_bundle", spy)
    asyncio.run(hooks.answer("rectoplan-order-select", body, WHERE, None))
    assert seen == [date(2026, 3, 1)]
