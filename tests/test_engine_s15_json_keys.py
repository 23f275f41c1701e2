"""The fast proof that JSON text repeats no key (`json_text._no_repeated_key`, colons counted in C) agrees
with the full second parse (`duplicate_key`): it never passes text that repeats a key, and passes all other
text that spells no character as a \\u escape."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from rectoplan.adapters.json_text import _no_repeated_key, decode_json, duplicate_key
from rectoplan.core.errors import CaseError

KEYS = ("a", "b", "a:b", ":", "id", "x y")
STRINGS = ("", "k:v", "::", "plain", 'quo"te', "back\\slash", "é:ü", "\\u003a")


def _value(rng: random.Random, depth: int) -> object:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice((1, 2.5, True, None, *STRINGS))
    if roll < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _text(rng: random.Random) -> str:
    """JSON text of a random object, sometimes with one of its objects given a key twice."""
    text = json.dumps(_value(rng, 0), ensure_ascii=rng.random() < 0.3)
    if rng.random() < 0.5:
        at = [i for i, ch in enumerate(text) if ch == "{" and text[i + 1] != "}"]
        if at:
            i = rng.choice(at)
            key = rng.choice(KEYS)
            text = f'{text[: i + 1]}"{key}": 0, "{key}": {json.dumps(rng.choice(STRINGS))}, {text[i + 1 :]}'
    return text


def test_the_colon_count_never_passes_a_repeated_key_and_passes_the_rest() -> None:
    rng = random.Random(15)
    repeated = passed = 0
    for _ in range(3000):
        text = _text(rng)
        data = orjson.loads(text)
        fast = _no_repeated_key(text, data)
        slow = duplicate_key(text) is None
        assert not (fast and not slow), text  # never passes a repeated key
        if "\\u" not in text:
            assert fast == slow, text
        assert _no_repeated_key(text.encode(), data) == fast
        repeated += not slow
        passed += fast
    assert repeated > 500 and passed > 500  # both kinds were met


@pytest.mark.parametrize(
    "text",
    ['{"a": "k:v", "a": 1}', '{"x": {"b": "1:2", "b": ""}}', '{"x": "\\u003a", "x": 1}', b'{"a": 1, "a": 2}'],
)
def test_decode_json_still_refuses_a_key_given_twice(text: str | bytes) -> None:
    with pytest.raises(CaseError, match="twice in one object"):
        decode_json(text)


def test_deep_text_is_still_decoded() -> None:
    text = '{"a":' * 300 + "1" + "}" * 300  # deeper than orjson writes: the second parse decides
    assert isinstance(decode_json(text), dict)
