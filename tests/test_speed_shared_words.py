"""The words kept across cases for speed (an offered option's warnings and notes, kept per rule in
`CoreCaches.once["rule-parts"]`; what-if's sentences, `WhatIfIndex.sentences`) are keyed exactly: a case
answered after many others reads the same words as the case answered alone, with those caches emptied
before it."""

from __future__ import annotations

import json

from rectoplan.api import recommend_json, validate_case
from rectoplan.core._cache import caches_for
from rectoplan.core._probes import probes
from rectoplan.core._whatif_index import whatif_index
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.whatif import Effect, _ordered, _sentence
from rectoplan.examples import demo_cases
from rectoplan.synthetic import random_cases


def _cases() -> list[str]:
    return [json.dumps(c) for c in [*(case for _, case in demo_cases()), *random_cases(150, 97)]]


def test_words_kept_across_cases_equal_the_words_of_each_case_alone(kb: KnowledgeBase) -> None:
    texts = _cases()
    caches = caches_for(kb)
    caches.clear()
    shared = [recommend_json(t, kb) for t in texts]  # later cases read the words earlier ones left
    parts = caches.once["rule-parts"]
    assert len(parts) > 20 and len(whatif_index(kb).sentences) > 20  # so there is something to compare
    alone = []
    for t in reversed(texts):  # each case with those words (and the outcomes made of them) gone, other order
        caches.outcomes.clear()
        parts.clear()
        whatif_index(kb).sentences.clear()
        alone.append(recommend_json(t, kb))
    assert alone[::-1] == shared


def test_a_kept_sentence_is_the_sentence_for_the_case_intent(kb: KnowledgeBase) -> None:
    """The same effect reads differently when it changes the case's intent: the intent is part of the key."""
    index = whatif_index(kb)
    case = random_cases(1, 98)[0]
    probe = probes(validate_case(case, kb), kb)[0]
    effect = Effect(kb.intents[0].intent, (index.option_ids[0],), (), ())
    other = next(r.intent for r in kb.intents if r.intent != effect.intent)
    index.sentences.clear()
    for intent in (effect.intent, other, effect.intent, other):
        (change,) = _ordered([(probe, effect)], index, intent)
        assert change.then == _sentence(effect, index, intent)
    assert _sentence(effect, index, effect.intent) != _sentence(effect, index, other)
