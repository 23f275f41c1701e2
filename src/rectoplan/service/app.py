"""The ASGI app: HL7 CDS Hooks 2.0 service, plain JSON `POST /recommend`, and a small page at `/`.

Built by `create_app(settings)` so the CLI, the tests and the benchmark start the same thing. Every API
call needs the EHR's JWT unless `insecure_dev` is set; bodies are capped (413); errors are FHIR
OperationOutcomes with the field that is wrong; logs carry method, path, status and time only, never a
body, a token or any patient data.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rectoplan import api
from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.case_json import CaseIn, decode_json, duplicate_key
from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle, shared_parses
from rectoplan.core.errors import CaseError
from rectoplan.kb.loader import default_knowledge
from rectoplan.service import cards as card_maker
from rectoplan.service.models import (
    CdsRequest,
    Discovery,
    Feedback,
    OperationOutcome,
    OwnResponse,
    outcome,
)
from rectoplan.service.page import PAGE
from rectoplan.service.prefetch import PREFETCH, PrefetchError, gather
from rectoplan.service.security import AuthError, MemoryReplayCache, SharedReplayCache, TokenVerifier

log = logging.getLogger("rectoplan.service")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

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
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": OperationOutcome, "description": why}
    for code, why in (
        (400, "the request is not valid (OperationOutcome names the field)"),
        (401, "missing or invalid JWT bearer token"),
        (413, "request body too large"),
    )
}


@dataclass(frozen=True)
class Settings:
    """How the service runs. `issuers` maps each trusted JWT `iss` to a JWKS file path or URL."""

    insecure_dev: bool = False
    issuers: dict[str, str] = field(default_factory=dict)
    # The base URL the EHR calls, for the JWT `aud`. None (tests only) takes it from the request's Host header,
    # which the caller controls; the `serve` command always sets it.
    public_url: str | None = None
    max_body_bytes: int = 2_000_000
    cors_origins: tuple[str, ...] = ("*",)
    fhir_timeout_s: float = 5.0
    allow_http_fhir: bool = False
    # With several worker processes: the SQLite file they share as the JWT replay cache (see security.py).
    replay_file: str | None = None


class BodyLimit:
    """Pure ASGI middleware: refuse bodies over `limit` bytes with 413 before the app reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [0]

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            with shared_parses():  # the request check and the mapper share FHIR parses
                await self._limited(scope, receive, logged)
        except Exception as exc:  # caught here so no server log ever prints its message or traceback
            log.error("%s %s failed: %s", scope["method"], scope["path"], type(exc).__name__)
            if not status[0]:
                text = json.dumps(outcome("exception", [("", "internal error; nothing about the patient was logged")]))
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode())]
                await send({"type": "http.response.start", "status": 500, "headers": headers})
                await send({"type": "http.response.body", "body": text.encode()})
                status[0] = 500
        finally:  # method, path, status and time only: never a body, a header or a query string
            ms = (time.perf_counter() - start) * 1000
            log.info("%s %s %s %.1fms", scope["method"], scope["path"], status[0], ms)

    async def _limited(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = bool(message.get("more_body"))
            if len(body) > self.limit:
                await self._refuse(send)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        text = json.dumps(outcome("too-costly", [("", f"request body over {self.limit} bytes")])).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": text})


def _repeated_key(raw: bytes) -> tuple[str, str] | None:
    """(expression, message) for a key given twice in one object of a request body, if any.

    Parsers keep one of the two values without a word (FHIR JSON forbids repeated keys): a prefetched
    Patient with two birth dates must be refused, not read as one of them. The body already parsed, so
    it is valid UTF-8 JSON; a second, stdlib pass finds the repetition (about a millisecond for 100 kB)."""
    try:
        found = duplicate_key(raw.decode())
    except RecursionError:
        return "CDSHooksRequest", "the request nests deeper than about 900 levels; expected a CDS Hooks request"
    if found is None:
        return None
    path, key = found
    return _expression(tuple(path.replace("[", ".").replace("]", "").split("."))) if path else "CDSHooksRequest", (
        f"the key {key!r} is given twice in one object; expected each key once (which value is meant?)"
    )


def _expression(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return "CDSHooksRequest." + ".".join(parts) if parts else "CDSHooksRequest"


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app for these settings (the knowledge base is loaded once, here)."""
    kb = default_knowledge()
    _warm_up()
    replay = SharedReplayCache(settings.replay_file) if settings.replay_file else MemoryReplayCache()
    verifier = TokenVerifier(dict(settings.issuers), replay=replay)
    charts = _Memo(1024)
    feedback_count: dict[str, int] = {}
    app = FastAPI(
        title="rectoplan",
        version=kb.version,
        description="Decision support for stage 4 or recurrent rectal cancer: HL7 CDS Hooks 2.0 service and "
        "a plain JSON endpoint (contract 1 in, contract 2 out).",
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_body(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else outcome("processing", [("", str(exc.detail))])
        return JSONResponse(
            detail,
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    def endpoint_url(request: Request) -> str:
        base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
        return base + request.url.path

    async def authenticated(request: Request) -> None:
        if settings.insecure_dev:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise AuthError("missing 'Authorization: Bearer <JWT>' header")
            verifier.verify(token.strip(), endpoint_url(request))
        except AuthError as exc:
            raise HTTPException(
                401,
                outcome("login", [("Authorization", str(exc))]),
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None

    def source(request: Request) -> dict[str, Any]:
        base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
        return {"label": f"rectoplan knowledge base {kb.version} ({kb.date})", "url": base + "/"}

    @app.get(
        "/cds-services",
        response_model=Discovery,
        response_model_exclude_none=True,
        dependencies=[Depends(authenticated)],
        responses=ERRORS,
        tags=["CDS Hooks"],
    )
    def discovery() -> dict[str, Any]:
        return {
            "services": [
                {"hook": hook, "id": ident, "title": title, "description": text, "prefetch": PREFETCH}
                for ident, (hook, title, text) in SERVICES.items()
            ]
        }

    @app.post(
        "/cds-services/{service_id}",
        tags=["CDS Hooks"],
        responses=ERRORS
        | {
            200: {"model": OwnResponse, "description": "cards (built through the card model already)"},
            404: {"model": OperationOutcome, "description": "no such service"},
            412: {"model": OperationOutcome, "description": "data could not be had"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CdsRequest"}}},
            }
        },
    )
    async def call(service_id: str, request: Request) -> JSONResponse:
        # The body is validated here, straight from its bytes (pydantic's JSON parser), and the token first:
        # the hot path of every chart opening, so it skips the generic dependency machinery.
        await authenticated(request)
        raw = await request.body()
        try:
            body = CdsRequest.model_validate_json(raw)
        except ValidationError as exc:
            return invalid_body(exc.errors())
        repeated = _repeated_key(raw)
        if repeated is not None:
            return JSONResponse(outcome("invalid", [repeated]), status_code=400)
        return JSONResponse(await answer(service_id, request, body))

    async def answer(service_id: str, request: Request, body: CdsRequest) -> dict[str, Any]:
        if service_id not in SERVICES:
            raise HTTPException(404, outcome("not-found", [("", f"no CDS service {service_id!r}")]))
        hook = SERVICES[service_id][0]
        if body.hook != hook:
            raise HTTPException(
                400,
                outcome(
                    "invalid",
                    [
                        (
                            "CDSHooksRequest.hook",
                            f"hook {body.hook!r} is not served by {service_id} (expected {hook!r})",
                        )
                    ],
                ),
            )
        token = body.fhirAuthorization.access_token if body.fhirAuthorization else None
        try:
            values = await gather(
                body.prefetch,
                body.context,
                body.fhirServer,
                token,
                settings.allow_http_fhir or settings.insecure_dev,
                settings.fhir_timeout_s,
            )
        except PrefetchError as exc:
            raise HTTPException(
                412, outcome("not-found", [(f"CDSHooksRequest.prefetch.{exc.key}", str(exc))])
            ) from None
        where = source(request)
        if hook == "patient-view":
            # The same chart (same prefetch content) gives the same cards: the mapper and the engine are pure.
            chart = json.dumps([body.context["patientId"], values, where], separators=(",", ":"))
            cards = charts.get(chart)
            if cards is None:
                cards = charts.put(chart, patient_view_cards(body.context["patientId"], values, where))
            return {"cards": [card | {"uuid": str(uuid.uuid4())} for card in cards]}
        bundle = bundle_of(values, bundle_id=body.hookInstance)
        try:
            imported = case_from_bundle(bundle, patient_id=body.context["patientId"], trusted_shell=True)
            rec = api.recommend(imported.case, kb, what_if=False)
        except CaseError as exc:
            return {"cards": [] if not exc.problems or _quiet(exc) else [card_maker.problem_card(exc.problems, where)]}
        return {"cards": _order_cards(rec, body.context["draftOrders"], where)}

    def patient_view_cards(patient_id: str, values: list[dict[str, Any]], where: dict[str, Any]) -> tuple[Any, ...]:
        try:
            imported = case_from_bundle(bundle_of(values), patient_id=patient_id, trusted_shell=True)
        except CaseError:
            return ()  # no rectal cancer here (or unreadable): say nothing rather than guess
        try:
            rec = api.recommend(imported.case, kb, what_if=False)  # cards do not show what-if
        except CaseError as exc:
            return () if _out_of_scope(exc) else (card_maker.problem_card(exc.problems, where),)
        return tuple(card_maker.cards_for(rec, where, imported.issues))

    @app.post(
        "/cds-services/{service_id}/feedback",
        dependencies=[Depends(authenticated)],
        tags=["CDS Hooks"],
        responses=ERRORS | {404: {"model": OperationOutcome, "description": "no such service"}},
    )
    def feedback(service_id: str, body: Feedback) -> dict[str, Any]:
        if service_id not in SERVICES:
            raise HTTPException(404, outcome("not-found", [("", f"no CDS service {service_id!r}")]))
        for item in body.feedback:
            feedback_count[item.outcome] = feedback_count.get(item.outcome, 0) + 1
        return {}

    @app.post(
        "/recommend",
        dependencies=[Depends(authenticated)],
        tags=["rectoplan"],
        responses=ERRORS | {200: {"description": "the recommendation (contract 2)"}},
        # the body is read as text, so that the CLI's JSON checks (duplicate keys, depth) apply here too
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
    )
    async def recommend(request: Request) -> JSONResponse:
        try:
            rec = api.recommend(api.validate_case(decode_json(await request.body()), kb), kb)
        except CaseError as exc:
            issues = [(p.path or "(root)", p.message()) for p in exc.problems]
            return JSONResponse(outcome("invalid", issues), status_code=400)
        return JSONResponse(jsonable_encoder(rec.to_dict()))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return PAGE.replace("{{version}}", kb.version).replace("{{disclaimer}}", _html(kb.disclaimer))

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "knowledge_version": kb.version}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        case_schema = CaseIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(case_schema.pop("$defs", {}))
        components["Case"] = case_schema
        request_schema = CdsRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(request_schema.pop("$defs", {}))
        components["CdsRequest"] = request_schema
        body = schema["paths"]["/recommend"]["post"]["requestBody"]["content"]["application/json"]
        body["schema"] = {"$ref": "#/components/schemas/Case"}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class _Memo:
    """A small LRU map (in-process, bounded): chart content -> cards."""

    def __init__(self, size: int) -> None:
        self.size, self.items = size, OrderedDict[str, tuple[Any, ...]]()

    def get(self, key: str) -> tuple[Any, ...] | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: tuple[Any, ...]) -> tuple[Any, ...]:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


def _quiet(exc: CaseError) -> bool:
    """No card: not rectal cancer at all, or rectal cancer that is neither stage 4 nor recurrent."""
    return exc.problems[0].path == "Condition" or _out_of_scope(exc)


def invalid_body(errors: Sequence[Any]) -> JSONResponse:
    """400 with an OperationOutcome naming each invalid field of the request."""
    issues = [(_expression(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, ")) for e in errors]
    return JSONResponse(outcome("invalid", issues[:20]), status_code=400)


def _warm_up() -> None:
    """Import the FHIR models and run the mapper once, so the first EHR call is not the slow one."""
    condition = {
        "resourceType": "Condition",
        "id": "warm-up",
        "subject": {"reference": "Patient/warm-up"},
        "code": {"coding": [{"system": fc.SNOMED, "code": "363351006"}]},
    }
    observation = {
        "resourceType": "Observation",
        "id": "warm-up",
        "status": "final",
        "subject": {"reference": "Patient/warm-up"},
        "code": {"coding": [{"system": fc.LOINC, "code": "89247-1"}]},
        "valueInteger": 1,
    }
    procedure = {
        "resourceType": "Procedure",
        "id": "warm-up",
        "status": "completed",
        "subject": {"reference": "Patient/warm-up"},
        "code": {"text": "warm-up"},
    }
    case_from_bundle(bundle_of([{"resourceType": "Patient", "id": "warm-up"}, condition, observation, procedure]))


def _out_of_scope(exc: CaseError) -> bool:
    """Rectal cancer, but neither stage 4 nor recurrent: outside rectoplan's scope, so no card at all."""
    return len(exc.problems) == 1 and exc.problems[0].path == "metastases"


def _html(text: str) -> str:
    import html

    return html.escape(text)


def _order_cards(rec: Any, draft_orders: dict[str, Any], source: dict[str, Any]) -> list[dict[str, Any]]:
    """A warning per drafted drug that only excluded (not held) options contain."""
    offered = {c for o in rec.options for c in o.components}
    cards = []
    for entry in draft_orders.get("entry") or []:
        resource = entry.get("resource") or {}
        concept = resource.get("medicationCodeableConcept") or {}
        drugs = {
            fc.DRUGS[key].meaning
            for c in concept.get("coding") or []
            if (key := (c.get("system", ""), c.get("code", ""))) in fc.DRUGS
        }
        for drug in sorted(drugs - offered):
            against = [e for e in rec.excluded if drug in e.components and not e.held]
            if against:
                reasons = [f"- {card_maker.escape_md(r)}" for e in against for r in e.reasons]
                detail = (
                    f"**{card_maker.escape_md(drug)}** appears only in options rectoplan excludes:\n\n"
                    + "\n".join(reasons)
                )
                cards.append(
                    card_maker.make_card(
                        f"Check order: {drug} is not recommended for this patient", "warning", detail, source
                    )
                )
    return cards
