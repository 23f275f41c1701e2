"""The plan as HTML: viewport, case header, warnings first, grouped options, two exclusion lists, escaping.

These read the document as a tumour board would (in order), so a template that moves the warnings below
the options, merges excluded with held back, or stops escaping fails here.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.render_html import plan_view, render_html, source_view, warnings_by_severity
from rectoplan.api import recommend, validate_case
from rectoplan.cli import main
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "rectoplan" / "examples"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        self.scripts += tag == "script"


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_viewport_header_and_warnings_before_options(kb: KnowledgeBase) -> None:
    case = validate_case(_example("msi-high"), kb)
    rec = recommend(case, kb)
    html = render_html(rec, kb, case=case)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    lynch = html.index("Lynch syndrome")
    assert lynch < html.index("Options to discuss") < html.index(f"1. {rec.options[0].title}")
    assert "What was understood" in html and "dMMR/MSI-H" in html and "liver (6 unresectable)" in html
    assert html.count(rec.disclaimer.replace("'", "&#39;")) == 1
    assert "@media print" in html and "break-after:avoid" in html


def test_excluded_and_held_back_are_two_lists(kb: KnowledgeBase) -> None:
    rec = recommend(merge(BASE_CASE, {"biomarkers": {"mmr": None, "kras": "mutant"}}), kb)
    excluded = [x for x in rec.excluded if not x.held]
    held = [x for x in rec.excluded if x.held]
    assert excluded and held
    html = render_html(rec, kb)
    ex_at, held_at = html.index("Excluded: not safe"), html.index("Held back: waiting")
    assert ex_at < html.index(excluded[0].title, ex_at) < held_at < html.index(held[0].title, held_at)
    assert "Tests needed" in html and kb.vocabulary.display("mmr") in html  # by display name


def test_options_grouped_by_phase_and_kind_with_badges(kb: KnowledgeBase) -> None:
    data = recommend(BASE_CASE, kb).to_dict()
    groups = plan_view(data)["groups"]
    assert sum(len(g["options"]) for g in groups) == len(data["options"])
    headings = [g["heading"] for g in groups]
    assert len(headings) == len(set(headings)) and "First line: systemic therapy" in headings
    data["options"][0]["evidence"] = {"level": "1A", "label": "randomised phase 3"}
    html = render_html(data, kb)
    assert "evidence: randomised phase 3" in html and 'class="badge b-preferred"' in html


def test_sources_render_labels_links_and_fall_back_to_ref(kb: KnowledgeBase) -> None:
    assert source_view({"ref": "shared/knowledge/brief.md#S-47"})["label"] == "brief.md S-47"
    rich = {"id": "s1", "label": "ESMO 2023 mCRC guideline", "url": "https://example.org/esmo", "quote": "q"}
    assert source_view(rich) == {"label": "ESMO 2023 mCRC guideline", "url": "https://example.org/esmo", "quote": "q"}
    assert source_view({"id": "x", "label": "bad", "url": "javascript:alert(1)"})["url"] is None
    data = recommend(BASE_CASE, kb).to_dict()
    data["options"][0]["sources"] = [rich, {"id": "x", "label": "evil", "url": "javascript:alert(1)"}]
    tags = _Tags()
    tags.feed(render_html(data, kb))
    assert "https://example.org/esmo" in tags.hrefs and not any(h.startswith("javascript") for h in tags.hrefs)
    assert tags.scripts == 0


def test_trace_is_collapsed_and_everything_is_escaped(kb: KnowledgeBase) -> None:
    data = recommend(merge(BASE_CASE, {"id": "<script>x</script>"}), kb).to_dict()
    data["trace"] = [{"rule": "<img src=x>", "fired": True}, "step two"]
    data["warnings"] = [{"text": "minor", "severity": "info"}, {"text": "urgent <b>", "severity": "critical"}]
    html = render_html(data, kb)
    assert "<script>x" not in html and "&lt;script&gt;x" in html and "<img src=x>" not in html
    assert '<details class="trace">' in html and '<details class="trace" open' not in html
    assert html.index("urgent &lt;b&gt;") < html.index("minor")


def test_warnings_sorted_by_severity_and_deduplicated() -> None:
    items = ["a", {"text": "b", "severity": "critical"}, {"text": "c", "severity": "info"}, "a"]
    assert [w["text"] for w in warnings_by_severity(items)] == ["b", "a", "c"]


def test_cli_html_has_viewport(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE), encoding="utf-8")
    assert main(["recommend", str(case), "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!doctype html>") and 'name="viewport"' in out
