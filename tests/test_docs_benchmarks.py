"""Benchmark timings live in one place, docs/benchmarks.md, written by the runs (`bench/_docs.py`): every
bench script has its section there, a run replaces its own section and no other, and the pages and
docstrings kept here carry targets (`p99 < 1 ms`) but no measured figure that would go stale."""

from __future__ import annotations

import ast
import datetime
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import _docs  # noqa: E402

SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
# Pages that must not carry measured timings (docs/cohort.md and docs/service.md belong to other work and
# still explain choices with figures; they are not checked here yet).
PAGES = [
    ROOT / "README.md",
    *(ROOT / "docs" / n for n in ("verify.md", "knowledge.md", "architecture.md", "contracts.md")),
]
# a time with its unit, unless it is a target or a limit ("< 1 ms", "under 50 ms")
FIGURE = re.compile(
    r"(?<![\d.,])(?<![<≤] )(?<!under )(?<!within )\b\d[\d.,]*(?:-\d[\d.,]*)? ?(?:µs|ms|s)\b(?! (?:timeout|limit))"
)


def _sections(text: str) -> list[str]:
    return re.findall(r"<!-- bench:([\w.-]+):start -->", text)


def test_every_bench_script_has_its_section() -> None:
    names = _sections(_docs.DOC.read_text(encoding="utf-8"))
    for script in SCRIPTS:
        assert any(n == script.stem or n.startswith(script.stem + "-") for n in names), script.name


def test_a_run_replaces_its_own_section_only(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    _docs.record("recommend", ".venv/bin/python bench/recommend.py 10", "p50 1 µs\n", doc)
    _docs.record("service-in-process", "cmd", "second\n", doc)
    _docs.record("recommend", ".venv/bin/python bench/recommend.py 10", "p50 2 µs\n", doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(_docs.HEAD)
    assert _sections(text) == ["recommend", "service-in-process"]
    assert "p50 2 µs" in text and "p50 1 µs" not in text and "second" in text


def test_a_section_says_how_and_where_it_ran() -> None:
    when = datetime.datetime(2026, 12, 6, 5, 30, tzinfo=datetime.UTC)
    text = _docs.section("cohort", ".venv/bin/python bench/cohort.py", "figures\n", when)
    assert "`.venv/bin/python bench/cohort.py`: 2026-12-06 05:30 UTC, commit " in text
    assert "cores, Python " in text and "load average" in text and "```text\nfigures\n```" in text


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bench_docstrings_hold_targets_not_figures(script: Path) -> None:
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    assert FIGURE.findall(doc) == [], f"{script.name}: measured figures belong in docs/benchmarks.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_hold_targets_not_figures(page: Path) -> None:
    assert FIGURE.findall(page.read_text(encoding="utf-8")) == [], f"{page.name}: move to docs/benchmarks.md"


def test_the_figure_pattern_tells_targets_from_figures() -> None:
    assert FIGURE.findall("p50 151 µs, p99 1.5 ms, 0.99 s best, 1.8-3.1 ms") == [
        "151 µs",
        "1.5 ms",
        "0.99 s",
        "1.8-3.1 ms",
    ]
    assert FIGURE.findall("p50 < 100 µs, p99 < 1 ms, under 50 ms, a 3 s timeout") == []
