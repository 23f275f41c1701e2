"""Case JSON text to a value, strictly: orjson for speed, one located error per kind of bad text, and a key
given twice in one object refused (which of the two values a clinician meant cannot be known).

Split from `rectoplan.adapters.case_json` (which re-exports these functions): decoding the text is one job,
validating the case it holds another.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from rectoplan.core.errors import CaseError, Problem


class _Object(dict[str, Any]):
    """A decoded JSON object that remembers a key it was given twice."""

    repeated: str | None = None


def _repeated_key(value: object, path: str) -> tuple[str, str] | None:
    """(path of the object, key) of the first object with a repeated key."""
    if isinstance(value, _Object):
        if value.repeated is not None:
            return path, value.repeated
        for key, item in value.items():
            found = _repeated_key(item, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _repeated_key(item, f"{path}[{i}]")
            if found:
                return found
    return None


class _Repeated(Exception):
    """Raised on the first object with a repeated key (the common, clean case then costs one plain pass)."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Repeated
    return obj


_UNIQUE_KEYS = json.JSONDecoder(object_pairs_hook=_unique_pairs)


def _marked_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        obj.repeated = next(k for i, k in enumerate(keys) if k in keys[:i])
    return obj


_MARKING_KEYS = json.JSONDecoder(object_pairs_hook=_marked_pairs)


def decode_with_unique_keys(text: str) -> tuple[Any, tuple[str, str] | None]:
    """(the decoded value, (path of the object, key) of the first key given twice in one object, or None).

    For inputs read line by line with the standard library (cohort JSON lines): one pass when no key
    repeats. Raises what `json.loads` raises on text that is not JSON."""
    try:
        return _UNIQUE_KEYS.decode(text), None
    except _Repeated:
        value = _MARKING_KEYS.decode(text)
        return value, _repeated_key(value, "")


def duplicate_key(text: str) -> tuple[str, str] | None:
    """Where a key is given twice in one object, if anywhere (the text is already known to be valid JSON)."""
    return decode_with_unique_keys(text)[1]


def decode_json(text: str | bytes) -> object:
    """Decode JSON text (orjson: fast, strict UTF-8, bounded nesting) with a located `CaseError` on failure.

    A leading byte order mark is ignored (RFC 8259 allows it; some editors write one). A key given twice
    in one object is an error: parsers silently keep one of the two values, and which one a clinician
    meant cannot be known (a second, stdlib pass finds it, for a few microseconds)."""
    if isinstance(text, bytes) and text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    elif isinstance(text, str) and text.startswith("\ufeff"):
        text = text[1:]
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in exc.msg.lower() or "recursion" in exc.msg.lower():
            return _fail("", "nesting deeper than 1024 levels", "valid UTF-8 JSON of reasonable depth")
        if "utf-8" in exc.msg.lower():
            return _fail("", exc.msg, "valid UTF-8 JSON")
        return _fail(f"line {exc.lineno} column {exc.colno}", exc.msg, "valid JSON")
    if _no_repeated_key(text, data):
        return data
    try:
        repeated = duplicate_key(text.decode() if isinstance(text, bytes) else text)
    except RecursionError:  # the stdlib pass nests less deep than orjson (no case is near either limit)
        return _fail("", "nesting deeper than about 900 levels", "valid UTF-8 JSON of reasonable depth")
    if repeated is not None:
        path, key = repeated
        return _fail(path, f"the key {key!r} twice in one object", "each key once (which value is meant?)")
    return data


def _no_repeated_key(text: str | bytes, data: object) -> bool:
    """True when `text` (valid JSON, decoded as `data`) gives no key twice in one object, proved by counting
    colons in C instead of a second, Python-level parse (a few microseconds instead of ~15); False means
    "look" (`duplicate_key` then finds where, if anywhere).

    Outside strings, a colon in JSON text separates a key from its value; inside, it is the character itself,
    which orjson writes back unescaped. So, unless the text spells a character as a `\\u` escape (a colon
    could hide in one), the text and the compact text of the decoded value hold the same number of colons
    exactly when decoding dropped no key: a key given twice keeps one value, and the text loses the other
    key's colon (and any in its value)."""
    try:
        if isinstance(text, bytes):
            return b"\\u" not in text and text.count(b":") == orjson.dumps(data).count(b":")
        return "\\u" not in text and text.count(":") == orjson.dumps(data).count(b":")
    except orjson.JSONEncodeError:  # deeper than orjson writes (254 levels): the second parse decides
        return False


def _fail(path: str, found: str, expected: str) -> object:
    raise CaseError([Problem(path, found, expected)]) from None
