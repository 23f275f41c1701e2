"""The answer to a hook call: gather the chart (prefetch, then the allowed fallback fetch), then cards.

Split from the routes so the safety logic reads in one place: a prefetch key that could not be read
makes its facts unknown and adds a warning card naming them (and a note on every other card); the
conditions unknown means no assessment at all (a warning card says so, never silence); 412 only when
nothing at all could be read.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
from fastapi import HTTPException

from rectoplan import api
from rectoplan.adapters.fhir_mcode import FhirImport, bundle_of, case_from_bundle
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.service import cards as card_maker
from rectoplan.service.access_log import note
from rectoplan.service.fetch import AllowList, FetchLimits, FhirServerRefused, fetch_missing
from rectoplan.service.incomplete import incomplete_card, with_note
from rectoplan.service.models import CdsRequest, outcome
from rectoplan.service.page import plan_link
from rectoplan.service.prefetch import (
    OPTIONAL_KEYS,
    Gathered,
    PrefetchError,
    check_nothing_usable,
    drop_unneeded_optional,
    set_aside_optional,
    sort_prefetch,
)
from rectoplan.service.settings import Settings

log = logging.getLogger("rectoplan.service")

SERVICES: dict[str, tuple[str, str, str]] = {
    "rectoplan-options": (
        "patient-view",
        "rectoplan: options for stage 4 or recurrent rectal cancer",
        "Ranked, explained and cited treatment options for stage 4 or recurrent rectal cancer, with the "
        "options "
        "that are not recommended and the tests still needed. Silent for patients without rectal cancer.",
    ),
    "rectoplan-order-select": (
        "order-select",
        "rectoplan: check a selected cancer drug",
        "Warns when a selected drug order belongs only to options rectoplan excludes for this patient.",
    ),
    "rectoplan-order-sign": (
        "order-sign",
        "rectoplan: check cancer drug orders before signing",
        "Warns when a drug order to be signed belongs only to options rectoplan excludes for this patient.",
    ),
}


class Hooks:
    """Answers hook calls for one knowledge base and one set of settings."""

    def __init__(self, kb: KnowledgeBase, settings: Settings) -> None:
        self.kb, self.settings = kb, settings
        self.allow = AllowList.of(settings.fhir_servers)
        self.limits = FetchLimits(
            settings.fhir_timeout_s, settings.fhir_max_pages, settings.fhir_max_resources, settings.fhir_max_bytes
        )
        self.charts = _Memo(1024)
        # The case date of a hook call: the day it is answered (CDS Hooks sends no date). An attribute, so that
        # tests can move it; the cards' cache key holds it (see `answer`).
        self.today: Callable[[], date] = date.today

    async def gather(self, body: CdsRequest, issuer: str | None) -> Gathered:
        """The chart as read, with the unknown keys; raises HTTPException 403 / 412 (see module doc)."""
        got = sort_prefetch(body.prefetch, body.context)
        drop_unneeded_optional(got)
        if got.to_fetch and body.fhirServer is not None and self._may_fetch(got, body.fhirServer, issuer):
            token = body.fhirAuthorization.access_token if body.fhirAuthorization else None
            await fetch_missing(got, body.fhirServer, body.fhirServer, token, self.limits)
        elif got.to_fetch and body.fhirServer is None:
            for key in got.to_fetch:
                got.unknown[key] += "; no fhirServer was given to fetch it from"
        try:
            check_nothing_usable(got)
        except PrefetchError as exc:
            raise HTTPException(
                412, outcome("not-found", [(f"CDSHooksRequest.prefetch.{exc.key}", str(exc))])
            ) from None
        set_aside_optional(got)
        if got.unknown:
            note(unknown=sorted(got.unknown))
        return got

    def _may_fetch(self, got: Gathered, url: str, issuer: str | None) -> bool:
        """True when `url` is allowed; else 403, unless only optional keys were to be fetched: those stay
        unread (`got.unknown` says why), and the facts that depend on them unknown, as with no fhirServer."""
        try:
            self._check_server(url, issuer)
        except FhirServerRefused as exc:
            note(reason=f"fhirServer refused: {exc}")
            log.warning(json.dumps({"event": "fhirServer refused", "issuer": issuer, "why": str(exc)}))
            if set(got.to_fetch) <= OPTIONAL_KEYS:
                for key in got.to_fetch:
                    got.unknown[key] += "; fhirServer is not on this service's allow-list (not fetched)"
                got.to_fetch.clear()
                return False
            issue = [("CDSHooksRequest.fhirServer", str(exc))]
            raise HTTPException(403, outcome("forbidden", issue)) from None
        return True

    def _check_server(self, url: str, issuer: str | None) -> None:
        insecure = self.settings.insecure_dev
        if not url.startswith("https://") and not (self.settings.allow_http_fhir or insecure):
            raise FhirServerRefused("fhirServer is not https (plain http is refused outside --insecure-dev)")
        if not self.allow.allows(None if insecure else issuer, url):
            who = "any issuer" if insecure or issuer is None else f"issuer {issuer!r}"
            raise FhirServerRefused(
                f"fhirServer {url[:200]!r} is not on this service's allow-list of FHIR servers for {who} "
                "(rectoplan serve --fhir-server); the missing prefetch was not fetched"
            )

    async def answer(self, service_id: str, body: CdsRequest, where: dict[str, Any], issuer: str | None) -> Any:
        if service_id not in SERVICES:
            raise HTTPException(404, outcome("not-found", [("", f"no CDS service {service_id!r}")]))
        hook = SERVICES[service_id][0]
        note(hook=body.hook)
        if body.hook != hook:
            issue = ("CDSHooksRequest.hook", f"hook {body.hook!r} is not served by {service_id} (expected {hook!r})")
            raise HTTPException(400, outcome("invalid", [issue]))
        got = await self.gather(body, issuer)
        patient_id, today = body.context["patientId"], self.today()
        if "conditions" in got.unknown:  # no diagnosis: nothing can be assessed, and silence would mislead
            return {"cards": [incomplete_card(got.unknown, where, assessed=False)]}
        if hook == "patient-view":
            # The same chart (same content, same unknowns) on the same case date gives the same cards: the mapper
            # and engine are pure. The date is part of the key: a chart's reading changes with it (age, days
            # since surgery, what is dated after the case date), and a service runs past midnight.
            unread = sorted(got.unread_optional.items())
            chart = _chart_key([patient_id, today.isoformat(), got.values, sorted(got.unknown.items()), unread, where])
            cards = self.charts.get(chart)
            if cards is None:
                cards = self.charts.put(chart, self._patient_view(patient_id, got, where, today))
            return {"cards": [card | {"uuid": str(uuid.uuid4())} for card in cards]}
        try:
            bundle = bundle_of(got.values, bundle_id=body.hookInstance)
            imported = _import(bundle, patient_id, got, today)
            rec = api.recommend(imported.case, self.kb, what_if=False)
        except CaseError as exc:
            if not exc.problems or _quiet(exc):
                return {"cards": []}
            return {"cards": self._with_unknown([card_maker.problem_card(exc.problems, where)], got, where)}
        found = card_maker.order_cards(rec, body.context["draftOrders"], where, knowledge=self.kb)
        return {"cards": self._with_unknown(found, got, where)}

    def _patient_view(self, patient_id: str, got: Gathered, where: dict[str, Any], today: date) -> tuple[Any, ...]:
        try:
            imported = _import(bundle_of(got.values), patient_id, got, today)
        except CaseError:
            return ()  # no rectal cancer here (or unreadable): say nothing rather than guess
        try:
            rec = api.recommend(imported.case, self.kb, what_if=False)  # cards do not show what-if
        except CaseError as exc:
            if _out_of_scope(exc):
                return ()
            return tuple(self._with_unknown([card_maker.problem_card(exc.problems, where)], got, where))
        link = plan_link(where["url"], imported.case)  # the full plan page for this patient
        cards = card_maker.cards_for(rec, where, imported.issues, link, self.kb.vocabulary.display)
        return tuple(self._with_unknown(cards, got, where))

    @staticmethod
    def _with_unknown(cards: list[dict[str, Any]], got: Gathered, where: dict[str, Any]) -> list[dict[str, Any]]:
        if not got.unknown:
            return cards
        return [incomplete_card(got.unknown, where), *with_note(cards, got.unknown)]


def _import(bundle: dict[str, Any], patient_id: str, got: Gathered, today: date) -> FhirImport:
    """The chart mapped to a case as of `today`; RAS results naming a Specimen are not used when the Specimens
    could not be read (`prefetch.OPTIONAL_KEYS`)."""
    specimens = got.unread_optional.get("specimens")
    return case_from_bundle(bundle, patient_id, today, trusted_shell=True, unread_specimens=specimens)


def _chart_key(parts: list[Any]) -> bytes:
    """The chart's content as bytes, the key of the cards' cache.

    orjson: with a new chart on every call the key is made every time, and the stdlib encoder cost a tenth
    of the call. A number orjson cannot hold (beyond 64 bits, valid JSON) falls back to the stdlib."""
    try:
        return orjson.dumps(parts)
    except TypeError:
        return json.dumps(parts, separators=(",", ":")).encode()


class _Memo:
    """A small LRU map (in-process, bounded): chart content -> cards."""

    def __init__(self, size: int) -> None:
        self.size, self.items = size, OrderedDict[bytes, tuple[Any, ...]]()

    def get(self, key: bytes) -> tuple[Any, ...] | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: bytes, value: tuple[Any, ...]) -> tuple[Any, ...]:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


def _quiet(exc: CaseError) -> bool:
    """No card: not rectal cancer at all, or rectal cancer that is neither stage 4 nor recurrent."""
    return exc.problems[0].path == "Condition" or _out_of_scope(exc)


def _out_of_scope(exc: CaseError) -> bool:
    """Rectal cancer, but neither stage 4 nor recurrent: outside rectoplan's scope, so no card at all."""
    return len(exc.problems) == 1 and exc.problems[0].path == "metastases"
