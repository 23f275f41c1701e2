"""The public Python API: the shipped knowledge base plus the pure engine, behind three functions.

This is the one place that loads the default knowledge (once per process); the core stays pure and
every adapter (CLI, service, cohort) calls through here or passes its own `KnowledgeBase`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rectoplan.adapters.case_json import decode_json, parse_case
from rectoplan.adapters.json_out import recommendation_json as recommendation_json
from rectoplan.core import engine
from rectoplan.core.case import Case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
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


def recommend_json(text: str | bytes, kb: KnowledgeBase | None = None, what_if: bool = True) -> str:
    """JSON text in (contract 1), JSON text out (contract 2). Raises `CaseError` on bad input."""
    kb = kb or default_knowledge()
    return recommendation_json(recommend(validate_case(decode_json(text), kb), kb, what_if))
