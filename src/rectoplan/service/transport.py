"""The HTTP layer's limits, before any authentication: header size and count, slow clients, connections.

uvicorn's fast parser (httptools) puts no bound on a request head: one connection sending a 100 MB header
held a worker's event loop for 7.5 s and its memory for good, and uvicorn has no timeout for a request
head that trickles in (its keep-alive timer is reset by every byte), so slowloris connections stayed
open. `GuardedHttpTools` is uvicorn's own httptools protocol with three additions: a head larger than
`max_header_bytes` or with more than `max_headers` fields is answered 431 and the connection closed; a
head not complete within `header_timeout_s` of the connection (or of the previous response) is answered
408 and closed. Body size and time are limited by `access_log.Guard`; concurrent connections by uvicorn's
`limit_concurrency` (503 beyond). `uvicorn_options` gives the one set of options `serve` and tests use.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from rectoplan.service.settings import Settings


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head (see the module docstring)."""

    limits: ClassVar[dict[str, float]] = {"max_header_bytes": 32_768, "max_headers": 100, "header_timeout_s": 10.0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._head_fields = 0
        self._too_many = False
        self._head_timer: asyncio.TimerHandle | None = None

    @classmethod
    def configure(cls, settings: Settings) -> None:
        cls.limits = {
            "max_header_bytes": settings.max_header_bytes,
            "max_headers": settings.max_headers,
            "header_timeout_s": settings.header_timeout_s,
        }

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits["header_timeout_s"], self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            self._arm()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._too_many:
                self._refuse(431, "Request Header Fields Too Large")
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:  # no WebSocket here: uvicorn's own answer
            self._unsupported_upgrade_warning()
        if self._in_head and self._head_bytes > self.limits["max_header_bytes"]:
            self._refuse(431, "Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_fields = True, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += 1
        if self._head_fields > self.limits["max_headers"]:
            self._too_many = True
            raise ValueError("too many header fields")  # the parser stops; data_received answers 431
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._in_head = True
            self._head_bytes = 0
            self._arm()

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "Request Timeout")

    def _refuse(self, status: int, reason: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        body = f"{status} {reason}: see rectoplan's limits in docs/service.md".encode()
        head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {len(body)}\r\n"
        self.transport.write(head.encode() + b"connection: close\r\n\r\n" + body)
        self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options of these settings (the protocol class is configured for this process too)."""
    GuardedHttpTools.configure(settings)
    return {
        "http": GuardedHttpTools,
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
