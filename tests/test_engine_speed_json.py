"""The fast JSON writer writes exactly what `orjson.dumps(rec.to_dict())` writes, and `to_dict` hands out
fresh data even though the words of shared parts are computed once."""

from __future__ import annotations

import json

import orjson

from rectoplan.api import recommend, recommendation_json
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases, registry_cases


def test_json_writer_equals_serialising_to_dict(kb: KnowledgeBase) -> None:
    for data in [*random_cases(150, 61), *registry_cases(80, 62)]:
        for what_if in (True, False):
            rec = recommend(data, kb, what_if)
            assert recommendation_json(rec) == orjson.dumps(rec.to_dict()).decode()


def test_to_dict_can_be_changed_by_its_caller(kb: KnowledgeBase) -> None:
    data = random_cases(1, 63)[0]
    first = recommend(data, kb).to_dict()
    text = json.dumps(first)
    for part in (*first["options"], *first["excluded"], *first["tests_needed"]):
        for source in part["sources"]:
            source["label"] = "changed"
        part["sources"].append({"id": "x"})
    assert json.dumps(recommend(data, kb).to_dict()) == text
