"""The core's caches change speed only: the same recommendation with empty, warm or tiny caches.

They are owned by the core (`rectoplan.core._cache`), bounded, and kept per knowledge base outside it.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from rectoplan.api import recommend, recommend_json
from rectoplan.core import _cache, _parts
from rectoplan.core._cache import Bounded, Made, caches_for, forget
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import random_cases


def test_bounded_cache_keeps_its_size_and_the_newest_entries() -> None:
    cache: Bounded[int, int] = Bounded(10)
    for i in range(95):
        cache.put(i, i * i)
        assert len(cache) <= 10
    assert cache.get(94) == 94 * 94
    assert cache.get(0) is None
    with pytest.raises(ValueError):
        Bounded(1)


def test_results_do_not_depend_on_the_caches(kb: KnowledgeBase) -> None:
    cases = random_cases(120, 51)
    warm = [recommend_json(_text(c), kb) for c in cases]
    again = [recommend_json(_text(c), kb) for c in cases]  # every part from the caches
    forget(kb)
    cold = [recommend_json(_text(c), kb) for c in reversed(cases)][::-1]  # filled in another order
    assert warm == again == cold


def test_tiny_caches_give_the_same_results(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = random_cases(60, 52)
    expected = [recommend(c, kb).to_dict() for c in cases]
    forget(kb)
    tiny = caches_for(kb)
    tiny.outcomes, tiny.parts = Made(2), Bounded(2)
    tiny.facts_used, tiny.tests = Bounded(2), Bounded(2)
    monkeypatch.setattr(_parts, "CITES", Bounded(2))  # where it is read
    assert [recommend(c, kb).to_dict() for c in cases] == expected
    forget(kb)


def test_each_knowledge_base_has_its_own_caches_and_the_registry_is_bounded() -> None:
    first = load_knowledge()
    recommend(random_cases(1, 53)[0], first)
    assert len(caches_for(first).outcomes) > 0
    others = [load_knowledge() for _ in range(_cache.KNOWLEDGE_BASES)]
    for other in others:
        assert len(caches_for(other).outcomes) == 0  # nothing shared with another knowledge base
    assert len(_cache._REGISTRY) <= _cache.KNOWLEDGE_BASES
    assert all(entry[0] is not first for entry in _cache._REGISTRY.values())  # the oldest went first


def test_the_knowledge_base_holds_no_cache_of_the_core(kb: KnowledgeBase) -> None:
    assert "memo" not in {f.name for f in dataclasses.fields(kb)}
    recommend(random_cases(1, 54)[0], kb)
    for f in dataclasses.fields(kb):
        value = getattr(kb, f.name)
        if isinstance(value, dict):  # a candidate key is a tuple that starts with an option index
            assert not [k for k in value if isinstance(k, tuple) and k and isinstance(k[0], int)], f.name


def _text(data: object) -> str:
    return json.dumps(data)


def test_the_tests_needed_are_cached_even_when_one_gate_id_has_several_texts(kb: KnowledgeBase) -> None:
    """Stop 17's fitness gates share one id with different words per operation; a cache keyed by ids had to
    switch itself off for such a knowledge base (every case then rebuilt its tests needed). Keyed by the
    rules' and gates' identities, it serves the shipped knowledge base, and gives what is computed afresh."""
    texts: dict[str, set[str | None]] = {}
    for option in kb.options:
        for gate in option.gates:
            texts.setdefault(gate.id, set()).add(gate.unknown)
    assert any(len(t) > 1 for t in texts.values()), "no gate id with several texts: this test proves nothing"
    cases = random_cases(80, 54)
    forget(kb)
    cached = [recommend(c, kb).tests_needed for c in cases]
    assert len(caches_for(kb).tests) > 0
    forget(kb)
    caches_for(kb).tests = Bounded(2)  # nearly no reuse
    assert [recommend(c, kb).tests_needed for c in cases] == cached
    forget(kb)
