"""The outermost app layer of the service: body size and time limits, and one JSON access-log line per request.

One line per request (`rectoplan.access` logger): time, method, route, hook, status, latency, and for a
4xx the reason (a 401's reason, the fields a 400 names, a refused fhirServer), never a token, a body,
a query string or patient data. Handlers add to the line through `note()` (a context variable holding
the current request's record). Internal errors are caught here, logged by type only, and answered 500
with an OperationOutcome, so no server log ever prints an exception's message (it may hold patient data).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from rectoplan.adapters.fhir_mcode import shared_parses
from rectoplan.service.models import outcome

log = logging.getLogger("rectoplan.access")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGIApp = Callable[[Scope, Receive, Callable[[Message], Awaitable[None]]], Awaitable[None]]
# A shortcut for the hot route: the response (an ASGI app) for a request it serves, None for any other.
Direct = Callable[[Scope, Receive], Awaitable[ASGIApp | None]]

_RECORD: ContextVar[dict[str, Any] | None] = ContextVar("access_record", default=None)


def note(**fields: Any) -> None:
    """Add fields (hook, reason, unknown keys...) to the current request's access-log line."""
    record = _RECORD.get()
    if record is not None:
        record.update({k: (str(v)[:300] if isinstance(v, str) else v) for k, v in fields.items()})


async def _respond(send: Any, status: int, body: dict[str, Any]) -> None:
    text = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def _write(record: dict[str, Any], now: datetime, start: float) -> None:
    """The access-log line of a request, formatted only when the log takes it (a hook call's CPU counts)."""
    level = logging.ERROR if record["status"] >= 500 else logging.WARNING if record["status"] >= 400 else logging.INFO
    if not log.isEnabledFor(level):
        return
    record["time"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record["ms"] = round((time.perf_counter() - start) * 1000, 1)
    log.log(level, json.dumps(record, separators=(",", ":")))


class Guard:
    """Pure ASGI middleware: body limits (413 over `limit` bytes, 408 when slower than `timeout_s`),
    internal errors (500), and the access log; `direct` answers the requests it serves (after the body
    limits, inside the access log) without going through `app`."""

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float = 15.0, direct: Direct | None = None) -> None:
        self.app, self.limit, self.timeout_s, self.direct = app, limit, timeout_s, direct

    async def __call__(self, scope: Scope, receive: Receive, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        now = datetime.now(UTC)
        record: dict[str, Any] = {"time": "", "method": scope["method"], "route": str(scope["path"])[:120], "status": 0}
        token = _RECORD.set(record)

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            await send(message)

        try:
            with shared_parses():  # the request check and the mapper share FHIR parses
                await self._limited(scope, receive, logged)
        except Exception as exc:  # caught here so no server log ever prints its message or traceback
            record["error"] = type(exc).__name__
            if not record["status"]:
                text = "internal error; nothing about the patient was logged"
                await _respond(logged, 500, outcome("exception", [("", text)]))
        finally:
            _RECORD.reset(token)
            _write(record, now, start)

    async def _limited(self, scope: Scope, receive: Receive, send: Any) -> None:
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._too_large(send)
            return
        try:
            async with asyncio.timeout(self.timeout_s):  # no task of its own, unlike wait_for
                body = await self._read(receive)
        except TimeoutError:
            note(reason=f"body not received within {self.timeout_s:g} s")
            text = f"request body not received within {self.timeout_s:g} s"
            await _respond(send, 408, outcome("timeout", [("", text)]))
            return
        if body is None:
            await self._too_large(send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        response = await self.direct(scope, replay) if self.direct is not None else None
        await (response or self.app)(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        return b"".join(chunks)

    async def _too_large(self, send: Any) -> None:
        note(reason=f"body over {self.limit} bytes")
        await _respond(send, 413, outcome("too-costly", [("", f"request body over {self.limit} bytes")]))
