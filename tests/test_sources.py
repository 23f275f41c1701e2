"""The reference registry as users meet it: citations as people write them, links they can open, and no
internal pointer (seed file, brief entry, rule id) outside the trace."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases

INTERNAL = re.compile(r"\.txt\b|\bbrief\b|\bseed [AB]\b|\b[CSQ]-\d{2,3}\b|\bG-\d\b|\(priority \d+\)|Facts used", re.I)


def without_trace(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: without_trace(v) for k, v in data.items() if k != "trace"}
    if isinstance(data, list):
        return [without_trace(v) for v in data]
    return data


@pytest.fixture(scope="module")
def examples(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [recommend(validate_case(case, kb), kb).to_dict() for _, case in demo_cases()]


def test_no_internal_pointer_outside_the_trace(examples: list[dict[str, Any]]) -> None:
    for data in examples:
        text = json.dumps(without_trace(data), ensure_ascii=False)
        found = INTERNAL.findall(text)
        assert not found, (data["case_id"], found[:5])
        rule_ids = {o["setting"] for o in data["options"]} | {data["trace"]["intent_rule"]}
        shown = " ".join([data["intent_rationale"], *(r for o in data["options"] for r in o["rationale"])])
        assert not [r for r in rule_ids if f"[{r}]" in shown or r in shown.split()]


def test_sources_are_citations_with_links(examples: list[dict[str, Any]]) -> None:
    for data in examples:
        for item in [*data["options"], *data["excluded"]]:
            assert item["sources"], item["id"]
            for source in item["sources"]:
                assert {"id", "label", "url"} <= set(source) <= {"id", "label", "url", "quote", "ref"}
                assert source["id"] != "brief"
                assert source["url"] is None or source["url"].startswith("https://")
            primary = [s for s in item["sources"] if not s["id"].startswith("seed-")]
            assert primary, item["id"]  # a clinician can open at least one primary reference


def test_labels_read_as_people_cite_them(kb: KnowledgeBase) -> None:
    assert kb.sources["keynote-177"].label == "KEYNOTE-177 (André et al., N Engl J Med 2020)"
    assert kb.sources["keynote-177"].url == "https://doi.org/10.1056/NEJMoa2017699"
    assert kb.sources["paradigm"].url == "https://pubmed.ncbi.nlm.nih.gov/37071094/"
    assert kb.sources["seed-a"].label.startswith("Canadian Cancer Society: ")
    assert not kb.sources["brief"].primary


def test_every_offered_option_has_an_evidence_level(examples: list[dict[str, Any]], kb: KnowledgeBase) -> None:
    for data in examples:
        assert [e["level"] for e in data["evidence_scheme"]] == list(kb.evidence_levels)
        for option in data["options"]:
            assert option["evidence"]["level"] in kb.evidence_levels, option["id"]
            assert option["evidence"]["label"] == kb.evidence_levels[option["evidence"]["level"]]
            assert "regulatory" in option


def test_trace_keeps_what_reviewers_need(examples: list[dict[str, Any]]) -> None:
    for data in examples:
        for option in data["options"]:
            trace = option["trace"]
            assert trace["setting"] == option["setting"] and trace["rank"] == option["rank"]
            assert {"priority", "rules", "checks_passed", "facts_used", "provenance"} <= set(trace)
        for exclusion in data["excluded"]:
            assert exclusion["trace"]["rules"] and "rules" not in exclusion
