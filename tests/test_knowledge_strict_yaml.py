"""Knowledge files refuse a repeated key, and the duration notes cite the trials of the drugs they are on.

Found this stop: dropping one `- id:` line while editing cautions.yaml merged two warnings into one entry
with two `applies_to` keys; PyYAML kept the second without a word and a note moved to another option.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from rectoplan.core.errors import KnowledgeError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb import strict_yaml
from rectoplan.kb.loader import load_knowledge
from tests.test_knowledge_lowering import KNOWLEDGE


def test_a_repeated_key_is_an_error_with_its_line() -> None:
    with pytest.raises(yaml.YAMLError) as err:
        strict_yaml.load("- id: a\n  when: true\n  when: false\n")
    assert "found the key 'when' twice (first 2, again)" in str(err.value)
    assert "line 3" in str(err.value)


def test_distinct_keys_and_aliases_load_as_plain_yaml() -> None:
    text = "- id: a\n  when: &w {fact: x, is: true}\n- id: b\n  when: *w\n"
    assert strict_yaml.load(text) == [
        {"id": "a", "when": {"fact": "x", "is": True}},
        {"id": "b", "when": {"fact": "x", "is": True}},
    ]


def test_the_loader_reports_a_merged_entry(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    path = root / "cautions.yaml"
    text = path.read_text(encoding="utf-8")
    merged = text.replace("- id: regorafenib-liver\n", "", 1)
    assert merged != text
    path.write_text(merged, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    assert "cautions.yaml" in str(err.value) and "twice" in str(err.value)


def _duration_refs(kb: KnowledgeBase, option_id: str) -> set[str]:
    (option,) = (o for o in kb.options if o.id == option_id)
    (note,) = (c for c in option.cautions if c.id.startswith("duration-continuous"))
    return {c.source for c in note.cite}


@pytest.mark.parametrize(
    ("option_id", "cited", "not_cited"),
    [
        ("trifluridine-tipiracil-bevacizumab", {"sunlight"}, {"breakwater", "cricket", "correct"}),
        ("regorafenib", {"correct"}, {"breakwater", "cricket", "sunlight"}),
        ("encorafenib-cetuximab", {"breakwater"}, {"cricket", "correct", "sunlight"}),
        ("irinotecan-cetuximab-rechallenge", {"cricket"}, {"breakwater", "correct", "sunlight"}),
        ("fruquintinib", {"fda-fruquintinib"}, {"breakwater", "cricket", "correct", "sunlight"}),
    ],
)
def test_each_duration_note_cites_its_own_trials(
    kb: KnowledgeBase, option_id: str, cited: set[str], not_cited: set[str]
) -> None:
    refs = _duration_refs(kb, option_id)
    assert cited <= refs
    assert not refs & not_cited
