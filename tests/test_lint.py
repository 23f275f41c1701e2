"""The knowledge linter passes on the shipped knowledge and catches each kind of planted fault."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from rectoplan.kb.lint import lint

KNOWLEDGE = Path(str(resources.files("rectoplan") / "knowledge"))
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture()
def seeds_dir() -> Path:
    """The seed and brief files, present in CI beside the project; quote checks are skipped without them."""
    if not (SHARED / "seeds").is_dir() or not (SHARED / "knowledge" / "brief.md").is_file():
        pytest.skip("../shared (seed pages and brief) not present: quote and brief-entry checks skipped")
    return SHARED


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def run(root: Path | None, shared: Path, samples: int = 4000) -> list[str]:
    return lint(root, shared / "seeds", shared / "knowledge" / "brief.md", samples=samples).errors


def test_shipped_knowledge_is_clean(seeds_dir: Path) -> None:
    report = lint(None, seeds_dir / "seeds", seeds_dir / "knowledge" / "brief.md", samples=4000)
    assert report.errors == []
    assert report.stats["options"] >= 60
    assert report.stats["citations"] > report.stats["options"]
    assert report.skipped == []


def test_shipped_knowledge_is_clean_without_the_shared_files() -> None:
    """A user's clone has no ../shared: lint still checks everything but the quotes, and says so."""
    report = lint(None, None, None, samples=300)
    assert report.errors == []
    assert report.skipped == ["seed quotes (seed files not found)", "brief entries (brief not found)"]
    assert report.stats["sources"] >= 40
    assert any(u.startswith("reirradiation-series: ") for u in report.unconfirmed)  # a series of studies, no one id


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_misquoted_seed_is_caught(kb_copy: Path, seeds_dir: Path) -> None:
    _edit(
        kb_copy / "glossary.yaml",
        "relieve symptoms but do not cure disease.",
        "relieve symptoms and cure disease.",
    )
    errors = run(kb_copy, seeds_dir, samples=50)
    assert any("quote not found verbatim in 000_6a4d1eecaefc1eb5.txt" in e for e in errors), errors


def test_an_unknown_brief_entry_is_caught(kb_copy: Path, seeds_dir: Path) -> None:
    _edit(kb_copy / "gates.yaml", "{brief: C-21}", "{brief: C-999}")
    errors = run(kb_copy, seeds_dir, samples=50)
    assert any("brief entry 'C-999' not found" in e for e in errors), errors


def test_missing_citation_and_unknown_source_are_caught(kb_copy: Path) -> None:
    _edit(kb_copy / "gates.yaml", "  cite: [{brief: C-21}, ", "  cite: [{nejm: C-21}, ")
    errors = lint(kb_copy, None, None, samples=50).errors
    assert any("found 'nejm'; expected a source id" in e for e in errors), errors


def test_a_gate_without_a_primary_reference_is_caught(kb_copy: Path) -> None:
    _edit(
        kb_copy / "gates.yaml",
        "  cite: [{brief: C-21}, {ref: ncbi-panitumumab-ras-braf}, {ref: beacon}]",
        "  cite: [{brief: C-21}]",
    )
    errors = lint(kb_copy, None, None, samples=50).errors
    assert "anti-egfr-braf-v600e: no primary reference (a trial, label, guideline or review of sources.yaml)" in errors


def test_a_setting_without_a_primary_reference_is_caught(kb_copy: Path) -> None:
    """A row whose option and own citations are only the patient page and the brief fails lint."""
    extra = kb_copy / "options" / "99_seed_only.yaml"
    extra.write_text(
        "- id: seed-only\n  title: Seed only\n  kind: supportive\n  evidence: guideline_consensus\n"
        "  components: [best_supportive_care]\n  patient: A planted option.\n  cite: [{brief: C-74}]\n"
        "  settings:\n    - id: seed-only-row\n      when: true\n      phase: any\n      strength: consider\n"
        "      because: planted\n      cite: [{brief: C-74}]\n",
        encoding="utf-8",
    )
    errors = lint(kb_copy, None, None, samples=50).errors
    assert "seed-only-row: no primary reference (a trial, label, guideline or review of sources.yaml)" in errors


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('  pmid: "37071094"', '  pmid: "PMID37071094"', "paradigm.pmid"),
        ("  doi: 10.1001/jama.2023.4428", "  doi: 10.1001-jama", "paradigm.doi"),
        ("  nct: NCT02394795", "  nct: NCT0239479", "paradigm.nct"),
    ],
)
def test_malformed_identifiers_are_caught(kb_copy: Path, old: str, new: str, message: str) -> None:
    _edit(kb_copy / "sources.yaml", old, new)
    errors = lint(kb_copy, None, None, samples=50).errors
    assert any(message in e and "expected a" in e for e in errors), errors


def test_an_option_without_an_evidence_level_is_caught(kb_copy: Path) -> None:
    _edit(kb_copy / "options" / "30_biomarker_directed.yaml", "  evidence: phase2_or_single_arm\n", "")
    errors = lint(kb_copy, None, None, samples=50).errors
    assert any(".evidence: found None; expected an evidence level (phase3_rct" in e for e in errors), errors


def test_a_misspelt_fact_in_a_rule_is_caught_with_a_suggestion(kb_copy: Path) -> None:
    _edit(
        kb_copy / "gates.yaml",
        "{fact: health.bleeding_risk, is: true}",
        "{fact: health.bleding_risk, is: true}",
    )
    errors = lint(kb_copy, None, None, samples=50).errors
    assert any("did you mean 'health.bleeding_risk'?" in e for e in errors), errors


def test_duplicate_ids_are_caught(kb_copy: Path) -> None:
    _edit(kb_copy / "tests.yaml", "- id: test-braf", "- id: test-ras")
    errors = lint(kb_copy, None, None, samples=50).errors
    assert any("duplicate id 'test-ras'" in e for e in errors), errors


def test_an_unreachable_option_is_caught(kb_copy: Path) -> None:
    extra = kb_copy / "options" / "99_unreachable.yaml"
    extra.write_text(
        "- id: never-offered\n  title: Never offered\n  kind: supportive\n  evidence: guideline_consensus\n"
        "  components: [best_supportive_care]\n"
        "  patient: A test option that no case can reach.\n  cite: [{brief: C-74}]\n  settings:\n"
        "    - when: {all: [{fact: ecog, ge: 3}, {fact: ecog, le: 1}]}\n      phase: any\n"
        "      strength: consider\n      because: impossible on purpose\n      cite: [{ref: tribe}]\n",
        encoding="utf-8",
    )
    errors = lint(kb_copy, None, None, samples=200).errors
    assert any(e.startswith("never-offered: not offered for any of 200 synthetic cases") for e in errors), errors


def test_anti_egfr_with_capecitabine_is_rejected(kb_copy: Path) -> None:
    extra = kb_copy / "options" / "99_capecitabine_cetuximab.yaml"
    extra.write_text(
        "- id: capox-cetuximab\n  title: CAPOX + cetuximab\n  kind: systemic\n  evidence: phase3_rct\n"
        "  components: [capecitabine, oxaliplatin, cetuximab]\n  patient: Not a real option.\n"
        "  cite: [{brief: C-112}]\n  settings:\n    - when: true\n      phase: any\n      strength: consider\n"
        "      because: planted\n      cite: [{ref: coin}]\n",
        encoding="utf-8",
    )
    errors = lint(kb_copy, None, None, samples=50).errors
    assert "capox-cetuximab: pairs an anti-EGFR antibody with capecitabine (brief C-112)" in errors
