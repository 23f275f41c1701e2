"""The counts the docs give of the shipped knowledge (options, gates, invariants, declared fields) are the
counts of the loaded knowledge. Each is written with a marker after the number, `80<!-- count: options -->`,
which renders as the number alone; a count of those things written without a marker fails too, so no
figure can silently go stale. After a knowledge change:

    .venv/bin/python -m tests.test_docs_counts      # rewrites every marked count
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rectoplan.core.fields import DECLARED
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import load_invariants

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKED = re.compile(r"(\d[\d,]*)<!-- count: ([a-z_]+) -->")
# a number of these things in prose, without a marker (code blocks, which show one case's output, aside)
UNMARKED = re.compile(r"\b(\d[\d,]*) (options|option gates|gates|invariants|declared fields|cautions)\b")

COUNTS: dict[str, Callable[[KnowledgeBase], int]] = {
    "options": lambda kb: len(kb.options),
    "option_gates": lambda kb: sum(len(o.gates) for o in kb.options),  # class-wide gates counted per option
    "class_gates": lambda kb: len(kb.raw_gates),  # the entries of gates.yaml
    "invariants": lambda kb: len(load_invariants(kb)),
    "declared_fields": lambda kb: len(DECLARED),
}


def _prose(text: str) -> str:
    return re.sub(r"```.*?```", "", text, flags=re.DOTALL)


def _write(number: int, name: str) -> str:
    return f"{number:,}<!-- count: {name} -->"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_marked_counts_are_the_knowledge(doc: Path, kb: KnowledgeBase) -> None:
    for number, name in MARKED.findall(doc.read_text(encoding="utf-8")):
        assert name in COUNTS, f"{doc.name}: unknown count {name!r}; one of {sorted(COUNTS)}"
        assert int(number.replace(",", "")) == COUNTS[name](kb), (
            f"{doc.name}: {number} {name}, but the knowledge has {COUNTS[name](kb)}: python -m tests.test_docs_counts"
        )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_counts_of_the_knowledge_are_marked(doc: Path) -> None:
    prose = MARKED.sub("", _prose(doc.read_text(encoding="utf-8")))
    assert UNMARKED.findall(prose) == [], f"{doc.name}: mark these counts (see this test's docstring)"


def test_the_counts_are_used() -> None:
    used = {name for doc in DOCS for _, name in MARKED.findall(doc.read_text(encoding="utf-8"))}
    assert {"options", "invariants"} <= used


if __name__ == "__main__":
    from rectoplan.kb.loader import default_knowledge

    knowledge = default_knowledge()
    for path in DOCS:
        old = path.read_text(encoding="utf-8")
        new = MARKED.sub(lambda m: _write(COUNTS[m[2]](knowledge), m[2]), old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            sys.stdout.write(f"rewrote the counts of {path}\n")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_knowledge_versions_are_the_shipped_one(doc: Path, kb: KnowledgeBase) -> None:
    if doc.name == "benchmarks.md":  # each run records the knowledge it ran with
        return
    assert set(re.findall(r"\b20\d\d\.\d+\.\d+\b", doc.read_text(encoding="utf-8"))) <= {kb.version}
