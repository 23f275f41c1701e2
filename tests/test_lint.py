"""The knowledge linter passes on the shipped knowledge and catches each kind of planted fault."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from rectoplan.kb.lint import lint

KNOWLEDGE = Path(str(resources.files("rectoplan") / "knowledge"))


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def run(root: Path | None, shared: Path, samples: int = 4000) -> list[str]:
    return lint(root, shared / "seeds", shared / "knowledge" / "brief.md", samples=samples).errors


def test_shipped_knowledge_is_clean(shared_dir: Path) -> None:
    report = lint(None, shared_dir / "seeds", shared_dir / "knowledge" / "brief.md", samples=4000)
    assert report.errors == []
    assert report.stats["options"] >= 60
    assert report.stats["citations"] > report.stats["options"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_misquoted_seed_is_caught(kb_copy: Path, shared_dir: Path) -> None:
    _edit(
        kb_copy / "glossary.yaml",
        "relieve symptoms but do not cure disease.",
        "relieve symptoms and cure disease.",
    )
    errors = run(kb_copy, shared_dir, samples=50)
    assert any("quote not found verbatim in 000_6a4d1eecaefc1eb5.txt" in e for e in errors), errors


def test_an_unknown_brief_entry_is_caught(kb_copy: Path, shared_dir: Path) -> None:
    _edit(kb_copy / "gates.yaml", "{brief: C-21}", "{brief: C-999}")
    errors = run(kb_copy, shared_dir, samples=50)
    assert any("brief entry 'C-999' not found" in e for e in errors), errors


def test_missing_citation_and_unknown_source_are_caught(kb_copy: Path, shared_dir: Path) -> None:
    _edit(kb_copy / "gates.yaml", "  cite: [{brief: C-21}]", "  cite: [{nejm: C-21}]")
    errors = run(kb_copy, shared_dir, samples=50)
    assert any("found 'nejm'; expected a source id" in e for e in errors), errors


def test_a_misspelt_fact_in_a_rule_is_caught_with_a_suggestion(kb_copy: Path, shared_dir: Path) -> None:
    _edit(
        kb_copy / "gates.yaml",
        "{fact: health.bleeding_risk, is: true}",
        "{fact: health.bleding_risk, is: true}",
    )
    errors = run(kb_copy, shared_dir, samples=50)
    assert any("did you mean 'health.bleeding_risk'?" in e for e in errors), errors


def test_duplicate_ids_are_caught(kb_copy: Path, shared_dir: Path) -> None:
    _edit(kb_copy / "tests.yaml", "- id: test-braf", "- id: test-ras")
    errors = run(kb_copy, shared_dir, samples=50)
    assert any("duplicate id 'test-ras'" in e for e in errors), errors


def test_an_unreachable_option_is_caught(kb_copy: Path, shared_dir: Path) -> None:
    extra = kb_copy / "options" / "99_unreachable.yaml"
    extra.write_text(
        "- id: never-offered\n  title: Never offered\n  kind: supportive\n  components: [best_supportive_care]\n"
        "  patient: A test option that no case can reach.\n  cite: [{brief: C-74}]\n  settings:\n"
        "    - when: {all: [{fact: ecog, ge: 3}, {fact: ecog, le: 1}]}\n      phase: any\n"
        "      strength: consider\n      because: impossible on purpose\n      cite: [{brief: C-74}]\n",
        encoding="utf-8",
    )
    errors = run(kb_copy, shared_dir, samples=200)
    assert any(e.startswith("never-offered: not offered for any of 200 synthetic cases") for e in errors), errors


def test_anti_egfr_with_capecitabine_is_rejected(kb_copy: Path, shared_dir: Path) -> None:
    extra = kb_copy / "options" / "99_capecitabine_cetuximab.yaml"
    extra.write_text(
        "- id: capox-cetuximab\n  title: CAPOX + cetuximab\n  kind: systemic\n"
        "  components: [capecitabine, oxaliplatin, cetuximab]\n  patient: Not a real option.\n"
        "  cite: [{brief: C-112}]\n  settings:\n    - when: true\n      phase: any\n      strength: consider\n"
        "      because: planted\n      cite: [{brief: C-112}]\n",
        encoding="utf-8",
    )
    errors = run(kb_copy, shared_dir, samples=50)
    assert "capox-cetuximab: pairs an anti-EGFR antibody with capecitabine (brief C-112)" in errors
