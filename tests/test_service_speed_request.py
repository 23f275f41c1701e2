"""The hook call's fast body reader gives exactly what the exact path gives, on every body we can think of.

`rectoplan.service.request.read_request` decodes a body once with orjson and detects a repeated key by
counting colons; anything unusual takes the exact path (pydantic's JSON parser, then a stdlib pass for
repeated keys). These tests hold the two to the same answer: the same request, or the same errors, and
the same repeated key, on the sandbox's requests and on bodies built to break the shortcut.
"""

from __future__ import annotations

import contextvars
import json
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rectoplan.adapters.fhir.parse import _SAME_REQUEST
from rectoplan.adapters.fhir_mcode import parse_resource, shared_parses
from rectoplan.service.models import CdsRequest
from rectoplan.service.request import read_request, repeated_key

SANDBOX = Path(__file__).parent / "fixtures" / "cds-sandbox"
INES = (SANDBOX / "ines-request.json").read_bytes()


def exact(raw: bytes) -> Any:
    """What the exact path answers: the request's data and the repeated key, or the errors (as their
    repr, so that a NaN equals a NaN)."""
    try:
        body = CdsRequest.model_validate_json(raw)
    except ValidationError as exc:
        return repr(("errors", [(e["loc"], e["msg"]) for e in exc.errors()]))
    return repr(("request", body.model_dump(), repeated_key(raw)))


def fast(raw: bytes) -> Any:
    try:
        body, repeated = read_request(raw)
    except ValidationError as exc:
        return repr(("errors", [(e["loc"], e["msg"]) for e in exc.errors()]))
    return repr(("request", body.model_dump(), repeated))


def with_extension(value: bytes) -> bytes:
    return INES.replace(b'"hook": "patient-view"', b'"hook": "patient-view", "extension": {"x": ' + value + b"}", 1)


def in_patient(extra: bytes) -> bytes:
    return INES.replace(b'"resourceType": "Patient"', extra + b'"resourceType": "Patient"', 1)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


EDGES = {
    "repeated top-level key": INES.replace(
        b'"hook": "patient-view"', b'"hook": "order-sign", "hook": "patient-view"', 1
    ),
    "repeated key in a resource": INES.replace(
        b'"resourceType": "Patient"', b'"id": "x", "resourceType": "Patient"', 1
    ),
    "repeated key, same value": INES.replace(
        b'"resourceType": "Patient"', b'"resourceType": "Patient", "resourceType": "Patient"', 1
    ),
    "repeated key hidden by a colon escape": with_extension(b'{"a": "x", "a": "\\u003a"}'),
    "colon written as an escape, no repetition": with_extension(b'{"a": "\\u003a\\u003A"}'),
    "escaped quote and backslash": with_extension(b'{"a\\"b": "c\\\\", "d": "e\\":f"}'),
    "backslash then u in a string": with_extension(b'"C:\\\\users"'),
    "lone surrogate": with_extension(b'"\\ud83d"'),
    "NaN": with_extension(b"NaN"),
    "Infinity": with_extension(b"-Infinity"),
    "integer beyond 64 bits": with_extension(b"123456789012345678901234567890"),
    "huge exponent": with_extension(b"1e400"),
    "tiny exponent": with_extension(b"1e-400"),
    "negative zero": with_extension(b"-0"),
    "floats hard to round": with_extension(
        b"[0.1, 1.7976931348623157e308, 5e-324, 2.2250738585072011e-308, 1E5, 1e+5, -2.5e-3, "
        b"1.00000000000000011102230246251565404236316680908203125, 9007199254740993, 123456789012345678]"
    ),
    "leading zero": with_extension(b"01"),
    "nesting 140": with_extension(nested(140)),
    "nesting 148": with_extension(nested(148)),
    "nesting 152": with_extension(nested(152)),
    "nesting 198": with_extension(nested(198)),
    "nesting 199": with_extension(nested(199)),
    "nesting 200": with_extension(nested(200)),
    "nesting 500": with_extension(nested(500)),
    "nesting 1000": with_extension(nested(1000)),
    "nesting 5000": with_extension(nested(5000)),
    "deep objects": with_extension(b'{"a": ' * 199 + b"1" + b"}" * 199),
    "empty containers": with_extension(b'[{}, [], {"": ""}, [[[]]]]'),
    "byte order mark": b"\xef\xbb\xbf" + INES,
    "surrounding whitespace": b" \n\t\r" + INES + b" \n",
    "form feed": b"\x0c" + INES,
    "trailing garbage": INES + b"x",
    "trailing comma": INES[: INES.rindex(b"}")] + b",}",
    "control character in a string": with_extension(b'"a\tb"'),
    "invalid UTF-8": with_extension(b'"\xff"'),
    "overlong UTF-8": with_extension(b'"\xc0\xaf"'),
    "encoded surrogate": with_extension(b'"\xed\xa0\x80"'),
    "non-characters": with_extension('"\ufffe\uffff\U0010ffff"'.encode()),
    "a list": b"[]",
    "a string": b'"x"',
    "empty": b"",
    "null": b"null",
    "expires_in as true": INES.replace(
        b'"hook": "patient-view"',
        b'"hook": "patient-view", "fhirAuthorization": {"access_token": "a", "token_type": "Bearer", '
        b'"expires_in": true, "scope": "s", "subject": "x"}',
        1,
    ),
    "expires_in as text": INES.replace(
        b'"hook": "patient-view"',
        b'"hook": "patient-view", "fhirAuthorization": {"access_token": "a", "token_type": "Bearer", '
        b'"expires_in": "5", "scope": "s", "subject": "x"}',
        1,
    ),
    "expires_in as a float": INES.replace(
        b'"hook": "patient-view"',
        b'"hook": "patient-view", "fhirAuthorization": {"access_token": "a", "token_type": "Bearer", '
        b'"expires_in": 5.0, "scope": "s", "subject": "x"}',
        1,
    ),
    "hook as a number": INES.replace(b'"hook": "patient-view"', b'"hook": 3', 1),
    "prefetch as a list": INES.replace(b'"prefetch": {', b'"prefetch": [{', 1).replace(b"}}\n", b"}]}\n"),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_an_unusual_body_gets_the_exact_answer(name: str) -> None:
    raw = EDGES[name]
    assert fast(raw) == exact(raw)


@pytest.mark.parametrize("path", sorted(SANDBOX.glob("*-request.json")), ids=lambda p: p.stem)
def test_the_sandbox_requests_read_the_same(path: Path) -> None:
    raw = path.read_bytes()
    assert fast(raw) == exact(raw)
    compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert fast(compact) == exact(compact)


def test_a_repeated_key_is_found_wherever_it_is() -> None:
    """Every object of the request, given one of its keys twice: always refused, naming the same place."""
    data = json.loads(INES)
    text = json.dumps(data)
    seen = 0
    for start in range(len(text)):
        if text[start] != "{" or text[start + 1] != '"':
            continue
        key_end = text.index('"', start + 2)
        key = text[start + 1 : key_end + 1]
        raw = (text[: start + 1] + f"{key}: 0, " + text[start + 1 :]).encode()
        answer = fast(raw)
        assert answer == exact(raw)
        assert answer.startswith("('errors'") or not answer.endswith(", None)")
        seen += 1
    assert seen > 20


def test_random_damage_gets_the_exact_answer() -> None:
    """Bytes deleted, doubled or replaced at random places (seeded): the same answer either way."""
    rng = random.Random(13)
    alphabet = b'{}[]:,"\\ u0123456789eE.-+abcnrtf\xff'
    for _ in range(400):
        raw = bytearray(INES)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(raw))
            kind = rng.random()
            if kind < 0.3:
                del raw[at]
            elif kind < 0.6:
                raw[at:at] = raw[at : at + rng.randint(1, 40)]
            else:
                raw[at] = rng.choice(alphabet)
        assert fast(bytes(raw)) == exact(bytes(raw)), bytes(raw)


def test_a_context_copied_during_a_request_does_not_keep_the_chart() -> None:
    """A timer or task made during a request keeps a copy of its context (asyncio keeps a cancelled
    timer's until it leaves the loop's heap): the parse memo in it must be empty once the request ends,
    or every chart's resources and models stay alive for the garbage collector to walk."""
    resource = json.loads(INES)["prefetch"]["patient"]
    with shared_parses():
        parse_resource(resource)
        copied = contextvars.copy_context()
        assert len(copied[_SAME_REQUEST] or {}) == 1
    assert copied[_SAME_REQUEST] == {}
