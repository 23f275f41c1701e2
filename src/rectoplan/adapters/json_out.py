"""A recommendation as JSON text (contract 2), fast: the same text as `orjson.dumps(rec.to_dict())`.

The parts that many cases share (exclusions, tests needed, lists of citations) are serialised once and kept
(`tests/test_engine_speed_json.py` compares). The JSON API and the service's `/recommend` write through here.
Tried and left out (stop 17): caching each offered option's JSON around its rank, intent and trace cost more
per option (3.9 µs) than building its dictionary (3.4 µs), and escaping the text to ASCII (so that decoding it
is a copy) needs every per-case string escaped too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from rectoplan.core._cache import Bounded
from rectoplan.core.knowledge import Citation
from rectoplan.core.recommendation import Cites, Exclusion, Recommendation, TestNeeded, shown_sources

__all__ = ["recommendation_json", "recommendation_json_bytes"]

Part = Exclusion | TestNeeded


def recommendation_json(rec: Recommendation) -> str:
    """`rec` as JSON text."""
    return recommendation_json_bytes(rec).decode()


def recommendation_json_bytes(rec: Recommendation) -> bytes:
    """`rec` as UTF-8 JSON text: what an HTTP response sends."""
    data = rec._replace(excluded=(), tests_needed=()).to_dict(_sources_json)
    data["excluded"] = [_part_json(e) for e in rec.excluded]
    data["tests_needed"] = [_part_json(t) for t in rec.tests_needed]
    return orjson.dumps(data)


# The engine keeps the exclusions and tests needed it renders and hands the same object to every case that
# shows it (`rectoplan.core.explain`), so they are kept here by identity (hashing one costs more than the
# lookup). Each entry holds its part, alive while its entry is: its id names no other object meanwhile.
_PARTS: Bounded[int, tuple[Part, orjson.Fragment]] = Bounded(30_000)


def _part_json(part: Part) -> orjson.Fragment:
    """One shared part, serialised once."""
    found = _PARTS.get(id(part))
    if found is not None and found[0] is part:
        return found[1]
    fragment = orjson.Fragment(orjson.dumps(part.to_dict(_sources_json)))
    _PARTS.put(id(part), (part, fragment))
    return fragment


def _sources_json(cites: tuple[Citation, ...]) -> Any:
    if type(cites) is Cites:
        return _cites_json(cites)
    return shown_sources(cites)


@lru_cache(maxsize=8192)
def _cites_json(cites: Cites) -> orjson.Fragment:
    """The serialised `sources` of one shared tuple of citations (bounded: least recently used go first)."""
    return orjson.Fragment(orjson.dumps(shown_sources(cites)))
