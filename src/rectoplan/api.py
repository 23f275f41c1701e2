"""The public Python API: the shipped knowledge base plus the pure engine, behind three functions.

This is the one place that loads the default knowledge (once per process); the core stays pure and
every adapter (CLI, service, cohort) calls through here or passes its own `KnowledgeBase`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson

from rectoplan.adapters.case_json import decode_json, parse_case
from rectoplan.core import engine
from rectoplan.core._cache import Bounded
from rectoplan.core.case import Case
from rectoplan.core.knowledge import Citation, KnowledgeBase
from rectoplan.core.recommendation import Cites, Exclusion, Recommendation, TestNeeded, shown_sources
from rectoplan.kb.loader import default_knowledge


def validate_case(data: object, kb: KnowledgeBase | None = None) -> Case:
    """Contract 1 (decoded JSON) -> `Case`; raises `CaseError` naming every problem."""
    kb = kb or default_knowledge()
    return parse_case(data, kb.vocabulary.drugs, kb.vocabulary.procedures)


def recommend(case: Case | Mapping[str, Any], kb: KnowledgeBase | None = None, what_if: bool = True) -> Recommendation:
    """The ranked, explained, cited recommendation for a case (a `Case` or a contract 1 mapping)."""
    kb = kb or default_knowledge()
    if not isinstance(case, Case):
        case = validate_case(case, kb)
    return engine.recommend(case, kb, what_if)


Part = Exclusion | TestNeeded


def recommend_json(text: str | bytes, kb: KnowledgeBase | None = None, what_if: bool = True) -> str:
    """JSON text in (contract 1), JSON text out (contract 2). Raises `CaseError` on bad input."""
    kb = kb or default_knowledge()
    return recommendation_json(recommend(validate_case(decode_json(text), kb), kb, what_if))


def recommendation_json(rec: Recommendation) -> str:
    """`rec` as JSON text: the same text as `orjson.dumps(rec.to_dict())`, written faster: the parts that
    many cases share (exclusions, tests needed, lists of sources) are serialised once and kept
    (`tests/test_engine_speed_json.py` compares)."""
    data = rec._replace(excluded=(), tests_needed=()).to_dict(_sources_json)
    data["excluded"] = [_part_json(e) for e in rec.excluded]
    data["tests_needed"] = [_part_json(t) for t in rec.tests_needed]
    return orjson.dumps(data).decode()


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
