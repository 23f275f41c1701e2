"""A hook call's body: decoded once, checked for a repeated key, validated as a CDS Hooks request.

Why a module: with a new chart on every call, reading the body was a third of the service's own CPU. It
was parsed twice (pydantic's JSON parser to validate, then the standard library with a hook per object,
in Python, to find a key given twice). Now the common case costs one `orjson.loads`, one `orjson.dumps`
and two byte counts, and every other case takes the old, exact path, so answers do not change:

- A key given twice in one object drops a `"key":` from the decoded value, so the re-encoded value has
  fewer colons outside strings than the body. The colons inside strings are the same on both sides unless
  the body writes a colon as a `\\u` escape, so a body holding `\\u` takes the exact path.
- pydantic's JSON parser refuses nesting deeper than about 200 levels (orjson allows 1024): the value is
  re-encoded indented, and a line indented 2 x 150 spaces or more sends the body to the exact path.
- orjson reads an integer beyond 64 bits as a float: a body with a run of 19 digits takes the exact path.
- Anything orjson refuses (not JSON, NaN, bad UTF-8) or that fails validation takes the exact path too,
  so every 400 keeps its wording.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from rectoplan.adapters.case_json import duplicate_key
from rectoplan.service.models import CdsRequest

_TOO_DEEP = b"\n" + b" " * (2 * 150)  # in orjson's indented output: a value nested 150 levels deep
_DIGITS = bytes.maketrans(b"123456789", b"000000000")  # every digit a 0: a run of digits, a run of 0s
_LONG_NUMBER = b"0" * 19  # 2**63 has 19 digits


def _plain(raw: bytes) -> dict[str, Any] | None:
    """The decoded body when it is plainly valid JSON with no repeated key and shallow; None otherwise."""
    if b"\\u" in raw or _LONG_NUMBER in raw.translate(_DIGITS):
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        again = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    except TypeError:  # nested deeper than orjson writes (254 levels)
        return None
    if again.count(b":") != raw.count(b":") or _TOO_DEEP in again:
        return None
    return data


def read_request(raw: bytes) -> tuple[CdsRequest, tuple[str, str] | None]:
    """(the validated request, (expression, message) of a key given twice, if any).

    Raises pydantic's ValidationError, from its JSON parser, for a body that is not a valid request."""
    data = _plain(raw)
    if data is not None:
        try:
            return CdsRequest.model_validate(data), None
        except ValidationError:
            pass  # the exact path below gives the error as pydantic's JSON mode words it
    body = CdsRequest.model_validate_json(raw)
    return body, repeated_key(raw)


def repeated_key(raw: bytes) -> tuple[str, str] | None:
    """(expression, message) for a key given twice in one object of a request body, if any.

    Parsers keep one of the two values without a word (FHIR JSON forbids repeated keys): a prefetched
    Patient with two birth dates must be refused, not read as one of them. The body already parsed, so
    it is valid UTF-8 JSON; a second, stdlib pass finds the repetition."""
    try:
        found = duplicate_key(raw.decode())
    except RecursionError:
        return "CDSHooksRequest", "the request nests deeper than about 900 levels; expected a CDS Hooks request"
    if found is None:
        return None
    path, key = found
    return expression(tuple(path.replace("[", ".").replace("]", "").split("."))) if path else "CDSHooksRequest", (
        f"the key {key!r} is given twice in one object; expected each key once (which value is meant?)"
    )


def expression(loc: tuple[Any, ...]) -> str:
    """A FHIRPath-like expression of a request field, for an OperationOutcome: CDSHooksRequest.a.b."""
    parts = [str(p) for p in loc if p != "body"]
    return "CDSHooksRequest." + ".".join(parts) if parts else "CDSHooksRequest"
