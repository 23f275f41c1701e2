"""The ASGI app: HL7 CDS Hooks 2.0 service, plain JSON `POST /recommend`, and a small page at `/`.

Built by `create_app(settings)` so the CLI, the tests and the benchmark start the same thing. Every API
call needs the EHR's JWT unless `insecure_dev` is set; bodies are capped (413); errors are FHIR
OperationOutcomes with the field that is wrong; logs carry method, path, status and time only, never a
body, a token or any patient data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rectoplan import api
from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.case_json import CaseIn, decode_json
from rectoplan.adapters.fhir_mcode import bundle_of, case_from_bundle
from rectoplan.adapters.json_out import recommendation_json_bytes
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import default_knowledge
from rectoplan.service.access_log import Direct, Guard, Receive, Scope, note
from rectoplan.service.hooks import SERVICES, Hooks
from rectoplan.service.models import (
    CdsRequest,
    Discovery,
    Feedback,
    OperationOutcome,
    OwnResponse,
    outcome,
)
from rectoplan.service.page import install_routes
from rectoplan.service.prefetch import PREFETCH
from rectoplan.service.request import expression as _expression
from rectoplan.service.request import read_request
from rectoplan.service.security import AuthError, MemoryReplayCache, SharedReplayCache, TokenVerifier
from rectoplan.service.settings import Settings

__all__ = ["SERVICES", "Settings", "create_app", "invalid_body"]

log = logging.getLogger("rectoplan.service")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": OperationOutcome, "description": why}
    for code, why in (
        (400, "the request is not valid (OperationOutcome names the field)"),
        (401, "missing or invalid JWT bearer token"),
        (408, "request body not received in time"),
        (413, "request body too large"),
    )
}


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app for these settings (the knowledge base is loaded once, here)."""
    kb = default_knowledge()
    _warm_up()
    replay = SharedReplayCache(settings.replay_file) if settings.replay_file else MemoryReplayCache()
    verifier = TokenVerifier(
        dict(settings.issuers),
        replay=replay,
        max_lifetime_s=settings.max_token_lifetime_s,
        cache_s=settings.jwks_cache_s,
        fetch_timeout_s=settings.jwks_timeout_s,
    )
    hooks = Hooks(kb, settings)
    authenticated = _authenticator(settings, verifier)
    hook_call = _hook_call(kb, settings, hooks, authenticated)
    app = FastAPI(
        title="rectoplan",
        version=kb.version,
        description="Decision support for stage 4 or recurrent rectal cancer: HL7 CDS Hooks 2.0 service and "
        "a plain JSON endpoint (contract 1 in, contract 2 out).",
    )
    # Guard first, CORS around it: a 413 or 408 from the guard still carries the CORS headers a browser
    # client needs to read it (otherwise it sees an opaque network error).
    # The guard answers hook calls itself (`_direct`): they skip the router, the only hot path of the service.
    direct = _direct(hook_call)
    app.add_middleware(Guard, limit=settings.max_body_bytes, timeout_s=settings.body_timeout_s, direct=direct)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    _error_handlers(app)
    _cds_routes(app, hook_call, authenticated)
    _recommend_route(app, kb, authenticated)
    install_routes(app, kb)  # the page at / and the plan at /plan (form post or a card's link): service/page.py

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "knowledge_version": kb.version}

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _error_handlers(app: FastAPI) -> None:
    """Every error as a FHIR OperationOutcome: invalid bodies name their fields, HTTP errors keep theirs."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_body(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _http_error(exc)


def _http_error(exc: StarletteHTTPException) -> JSONResponse:
    """An HTTP error as its OperationOutcome, with its reason in the access log (a 401 notes its own)."""
    detail = exc.detail if isinstance(exc.detail, dict) else outcome("processing", [("", str(exc.detail))])
    if exc.status_code != 401:
        note(reason=f"{exc.status_code}: {_reason_note(detail)}")
    return JSONResponse(
        detail,
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


Authenticated = Callable[[Request], Awaitable[str | None]]
_BASES: dict[tuple[Any, ...], str] = {}


def _base_url(request: Request) -> str:
    """`request.base_url` without its trailing slash, remembered per (scheme, server, root path, Host):
    Starlette builds and parses a URL for it, twice per hook call (the JWT audience, the cards' source)."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    root = scope.get("app_root_path", scope.get("root_path", ""))
    key = (scope.get("scheme"), tuple(server) if server is not None else None, root, host)
    base = _BASES.get(key)
    if base is None:
        if len(_BASES) >= 256:  # the Host header is the client's: bounded
            _BASES.clear()
        base = _BASES[key] = str(request.base_url).rstrip("/")
    return base


def _authenticator(settings: Settings, verifier: TokenVerifier) -> Authenticated:
    """The dependency that checks the EHR's JWT (audience: the URL the EHR called)."""

    def endpoint_url(request: Request) -> str:
        base = settings.public_url.rstrip("/") if settings.public_url else _base_url(request)
        return base + request.url.path

    async def authenticated(request: Request) -> str | None:
        """The verified issuer (None with --insecure-dev); 401 with the reason, logged, otherwise."""
        if settings.insecure_dev:
            return None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        audience = endpoint_url(request)
        try:
            if scheme.lower() != "bearer" or not token:
                raise AuthError("missing 'Authorization: Bearer <JWT>' header")
            claims = await verifier.verify_async(token.strip(), audience)
        except AuthError as exc:
            text = str(exc)
            if "audience" in text:
                text += (
                    f"; the service checks 'aud' against {audience}: behind a proxy, or when called by another "
                    "name (localhost...), start it with --public-url set to the base URL the EHR calls"
                )
            note(reason=f"401: {exc}")
            raise HTTPException(
                401,
                outcome("login", [("Authorization", text)]),
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        return str(claims["iss"])

    return authenticated


HookCall = Callable[[str, Request], Awaitable[Response]]


def _hook_call(kb: KnowledgeBase, settings: Settings, hooks: Hooks, authenticated: Authenticated) -> HookCall:
    """The hook call (`POST /cds-services/{id}`): the token first, then the body, then the answer."""

    def source(request: Request) -> dict[str, Any]:
        base = settings.public_url.rstrip("/") if settings.public_url else _base_url(request)
        return {"label": f"rectoplan knowledge base {kb.version} ({kb.date})", "url": base + "/"}

    async def call(service_id: str, request: Request) -> Response:
        issuer = await authenticated(request)
        raw = await request.body()
        try:
            body, repeated = read_request(raw)
        except ValidationError as exc:
            return invalid_body(exc.errors())
        if repeated is not None:
            note(reason=f"400: {repeated[0]}")
            return JSONResponse(outcome("invalid", [repeated]), status_code=400)
        return _Cards(await hooks.answer(service_id, body, source(request), issuer))

    return call


class _Cards(JSONResponse):
    """A JSON response encoded by orjson: the same bytes as the standard library's compact, non-ASCII
    form for the strings, lists and dicts of a hook's answer, in a fraction of the time."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # e.g. an integer beyond 64 bits: the standard library's answer
            return super().render(content)


_HOOK_PATH = "/cds-services/"


def _direct(call: HookCall) -> Direct:
    """The guard's shortcut for `POST /cds-services/{id}`: the same handler and error answers as the
    route, without the router and FastAPI's per-request machinery (a third of a hook call's CPU).

    Any other request, and any app mounted under a root path, goes through the app as before."""

    async def direct(scope: Scope, receive: Receive) -> Response | None:
        path = str(scope["path"])
        if scope["method"] != "POST" or scope.get("root_path") or not path.startswith(_HOOK_PATH):
            return None
        service_id = path[len(_HOOK_PATH) :]
        if not service_id or "/" in service_id:
            return None
        try:
            return await call(service_id, Request(scope, receive))
        except StarletteHTTPException as exc:
            return _http_error(exc)

    return direct


def _cds_routes(app: FastAPI, hook_call: HookCall, authenticated: Authenticated) -> None:
    """Discovery, the hook call and feedback (HL7 CDS Hooks 2.0).

    Long by design: three routes, mostly their OpenAPI declarations. The hook call is answered by the
    guard's shortcut (`_direct`); its route stays, for the OpenAPI document and as the same handler."""

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
            403: {"model": OperationOutcome, "description": "fhirServer is not on the allow-list"},
            404: {"model": OperationOutcome, "description": "no such service"},
            412: {"model": OperationOutcome, "description": "no prefetch key could be read at all"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CdsRequest"}}},
            }
        },
    )
    async def call(service_id: str, request: Request) -> Response:
        return await hook_call(service_id, request)

    @app.post(
        "/cds-services/{service_id}/feedback",
        dependencies=[Depends(authenticated)],
        tags=["CDS Hooks"],
        responses=ERRORS | {404: {"model": OperationOutcome, "description": "no such service"}},
    )
    def feedback(service_id: str, body: Feedback) -> dict[str, Any]:
        if service_id not in SERVICES:
            raise HTTPException(404, outcome("not-found", [("", f"no CDS service {service_id!r}")]))
        return {}


def _recommend_route(app: FastAPI, kb: KnowledgeBase, authenticated: Authenticated) -> None:
    """`POST /recommend`: contract 1 in, contract 2 out."""

    @app.post(
        "/recommend",
        dependencies=[Depends(authenticated)],
        tags=["rectoplan"],
        responses=ERRORS | {200: {"description": "the recommendation (contract 2)"}},
        # the body is read as text, so that the CLI's JSON checks (duplicate keys, depth) apply here too
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
    )
    async def recommend(request: Request) -> Response:
        try:
            rec = api.recommend(api.validate_case(decode_json(await request.body()), kb), kb)
        except CaseError as exc:
            issues = [(p.path or "(root)", p.message()) for p in exc.problems]
            note(reason="400: " + ", ".join(dict.fromkeys(where for where, _ in issues[:5])))
            return JSONResponse(outcome("invalid", issues), status_code=400)
        # the API's JSON writer: the same JSON as the encoders of the framework, many times faster
        return Response(recommendation_json_bytes(rec), media_type="application/json")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI schema with the case and CDS Hooks request models as named components (built once)."""
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


def invalid_body(errors: Sequence[Any]) -> JSONResponse:
    """400 with an OperationOutcome naming each invalid field of the request."""
    issues = [(_expression(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, ")) for e in errors]
    note(reason="400: " + ", ".join(dict.fromkeys(where for where, _ in issues[:5])))
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


def _reason_note(detail: dict[str, Any]) -> str:
    """The fields an OperationOutcome names, for the access log (never its diagnostics: they quote input)."""
    issues = detail.get("issue") or []
    named = ", ".join(dict.fromkeys(e for i in issues for e in i.get("expression") or []))
    return named or str((issues[0] if issues else {}).get("code", ""))
