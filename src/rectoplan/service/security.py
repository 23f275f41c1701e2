"""Verification of the EHR's JWT bearer token, as CDS Hooks 2.0 requires on every call.

Checks: an asymmetric algorithm (never `none`, never HMAC), a `kid`, an issuer on the allow-list, a
signature by a key of that issuer's JWKS (configured out of band as a file or an https URL; a `jku`
header is honoured only when it names that same URL), `aud` equal to the URL that was called, `exp`,
`iat` and `jti` present, and a `jti` never seen before (replay cache until the token expires). With
several worker processes the replay cache must be shared, or a token replayed to another worker would
pass: `SharedReplayCache` keeps it in a SQLite file that only this service's processes open.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("rectoplan.service")
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and claims of a compact JWS (cheap; used only to pick issuer and key)."""
    try:
        head, body, _ = token.split(".")
        parts = [json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in (head, body)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise AuthError("malformed bearer token (not a JWT)") from None
    if not all(isinstance(p, dict) for p in parts):
        raise AuthError("malformed bearer token (not a JWT)")
    return parts[0], parts[1]


class AuthError(Exception):
    """The request is not authenticated; the message says why (never echoing the token)."""


class ReplayCache(Protocol):
    def claim(self, key: str, until: float, now: float) -> bool:
        """Record `key` as used until `until`; False if it is already in use (a replay)."""
        ...


@dataclass
class MemoryReplayCache:
    """The replay cache of a single process."""

    _seen: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, key: str, until: float, now: float) -> bool:
        with self._lock:
            if len(self._seen) > 10_000:
                for old in [k for k, expiry in self._seen.items() if expiry < now]:
                    del self._seen[old]
            if self._seen.get(key, 0) >= now:
                return False
            self._seen[key] = until
            return True


class SharedReplayCache:
    """The replay cache of all worker processes of one service: a SQLite table (the primary key makes a
    second claim of the same jti fail in whichever process tries it). Not durable on purpose: it only has
    to outlive the tokens, and the service creates the file afresh in a private folder at start."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=OFF")
            con.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, until REAL NOT NULL)")
            self._local.con, self._local.claims = con, 0
        return con

    def claim(self, key: str, until: float, now: float) -> bool:
        con = self._connection()
        self._local.claims += 1
        if self._local.claims % 1000 == 0:
            con.execute("DELETE FROM seen WHERE until < ?", (now,))
        con.execute("DELETE FROM seen WHERE key = ? AND until < ?", (key, now))
        try:
            con.execute("INSERT INTO seen (key, until) VALUES (?, ?)", (key, until))
        except sqlite3.IntegrityError:
            return False
        return True


class _RemoteKeys:
    """The JWKS of one URL, fetched off the event loop: a cache, stale-while-revalidate, a bounded timeout.

    A JWKS fetched synchronously on the request path blocked every request of the worker (/healthz took
    2.7 s during a slow fetch, again whenever the cache expired). Here a fresh set is used as is; a stale
    one is used while one background refresh runs; only a service with no set at all, or a token naming
    an unknown `kid`, waits for a fetch (in a thread, with a timeout; an unknown kid refetches at most once
    per `cache_s / 10`, so forged kids cannot make the service hammer the EHR)."""

    def __init__(self, url: str, cache_s: float, timeout_s: float) -> None:
        self.url, self.cache_s, self.timeout_s = url, cache_s, timeout_s
        self.keys: dict[str, Any] = {}
        self.fetched = 0.0
        self.refreshing: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    def _fetch(self) -> dict[str, Any]:
        import httpx
        import jwt

        response = httpx.get(self.url, timeout=self.timeout_s, follow_redirects=False)
        response.raise_for_status()
        keyset = jwt.PyJWKSet.from_dict(response.json())
        return {k.key_id: k for k in keyset.keys if k.key_id}

    async def _refresh(self) -> None:
        async with self.lock:
            try:
                keys = await asyncio.wait_for(asyncio.to_thread(self._fetch), self.timeout_s + 1)
            except Exception as exc:  # the old keys stay in use; the log says why (no secret in it)
                log.warning(json.dumps({"event": "jwks fetch failed", "url": self.url, "error": type(exc).__name__}))
                self.fetched = max(self.fetched, time.monotonic() - self.cache_s + self.cache_s / 10)
                return
            self.keys, self.fetched = keys, time.monotonic()

    async def get(self, kid: str) -> Any:
        age = time.monotonic() - self.fetched
        if not self.keys or (kid not in self.keys and age > self.cache_s / 10):
            await self._refresh()
        elif age > self.cache_s and (self.refreshing is None or self.refreshing.done()):
            self.refreshing = asyncio.ensure_future(self._refresh())  # stale: serve it, refresh behind
        return self.keys.get(kid)


@dataclass
class TokenVerifier:
    """Verifies tokens against `issuers` (iss -> JWKS file path or https URL)."""

    issuers: dict[str, str]
    leeway_s: int = 30
    replay: ReplayCache = field(default_factory=MemoryReplayCache)
    max_lifetime_s: int = 300
    cache_s: float = 300.0
    fetch_timeout_s: float = 3.0
    _keys: dict[str, Any] = field(default_factory=dict, repr=False)

    def _file_key(self, issuer: str, kid: str) -> Any:
        import jwt

        source = self.issuers[issuer]
        keyset = self._keys.get(source)
        if keyset is None:
            keyset = self._keys.setdefault(source, jwt.PyJWKSet.from_dict(json.loads(Path(source).read_text())))
        for key in keyset.keys:
            if key.key_id == kid:
                return key
        raise AuthError(f"no key {kid!r} in the JWKS configured for issuer {issuer!r}")

    async def _key(self, issuer: str, kid: str) -> Any:
        source = self.issuers[issuer]
        if not source.startswith(("https://", "http://")):
            return self._file_key(issuer, kid)
        remote = self._keys.get(source)
        if remote is None:
            remote = self._keys.setdefault(source, _RemoteKeys(source, self.cache_s, self.fetch_timeout_s))
        key = await remote.get(kid)
        if key is None:
            raise AuthError(f"no key {kid!r} in the JWKS of issuer {issuer!r}")
        return key

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """The verified claims, or AuthError (synchronous: for keys from files; tests and tools)."""
        header, issuer, kid = self._choose(token)
        return self._decode(token, header, issuer, self._file_key(issuer, kid), audience)

    async def verify_async(self, token: str, audience: str) -> dict[str, Any]:
        """The verified claims, or AuthError; a JWKS URL is read without blocking the event loop."""
        header, issuer, kid = self._choose(token)
        return self._decode(token, header, issuer, await self._key(issuer, kid), audience)

    def _choose(self, token: str) -> tuple[dict[str, Any], str, str]:
        header, unverified = _peek(token)  # only to choose the key; jwt.decode below checks everything
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError(f"token algorithm {alg!r} is not accepted (an asymmetric algorithm such as ES384 or RS384)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token header has no 'kid'")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in self.issuers:
            raise AuthError(f"issuer {str(issuer)[:100]!r} is not on this service's allow-list")
        jku = header.get("jku")
        source = self.issuers[issuer]
        if jku is not None and source.startswith(("https://", "http://")) and jku != source:
            raise AuthError(f"jku {str(jku)[:200]!r} is not the JWKS URL allowed for issuer {issuer!r}")
        for claim in ("exp", "iat"):
            value = unverified.get(claim)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise AuthError(f"token claim {claim!r} is not a number (NumericDate)")
        return header, issuer, kid

    def _decode(self, token: str, header: dict[str, Any], issuer: str, key: Any, audience: str) -> dict[str, Any]:
        import jwt

        alg = str(header["alg"])
        family = {"R": "RSA", "P": "RSA", "E": "EC"}[alg[0]]
        if getattr(key, "key_type", family) != family:  # e.g. RS256 naming an EC key: a forgery attempt
            raise AuthError(f"token algorithm {alg} does not fit the {key.key_type} key {key.key_id!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self.leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"token audience is not this endpoint ({audience})") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"token lacks the required claim {exc.claim!r}") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"token rejected: {type(exc).__name__}") from None
        except (TypeError, ValueError, AttributeError) as exc:  # a key that cannot check this algorithm
            why = f"token rejected: algorithm {alg} cannot be checked with this key ({type(exc).__name__})"
            raise AuthError(why) from None
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self.max_lifetime_s:
            raise AuthError(
                f"token lifetime (exp - iat) is {lifetime:.0f} s, over the {self.max_lifetime_s} s allowed "
                "(CDS Hooks tokens are short-lived)"
            )
        self._check_replay(issuer, str(claims["jti"]), float(claims["exp"]))
        return claims

    def _check_replay(self, issuer: str, jti: str, exp: float) -> None:
        if not self.replay.claim(f"{issuer} {jti}", exp + self.leeway_s, time.time()):
            raise AuthError("token jti was already used (replay)")
