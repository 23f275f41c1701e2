"""The words behind the ids of a cohort result, rendered once per id (not once per row).

Every id that a result row can hold (a setting, an option/gate exclusion or hold, a test rule, a caution,
an intent rule) gets one row here with the knowledge base's own text and citations, exactly the text
the per-case renderer (`rectoplan.core.explain`) uses for that id. Joining a result row to this table
gives its reasons without storing a sentence per case.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rectoplan.compile.plan import SEP
from rectoplan.core.knowledge import Citation, KnowledgeBase
from rectoplan.core.recommendation import shown_sources

SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("id", pa.string()),
        ("option", pa.string()),
        ("title", pa.string()),
        ("strength", pa.string()),
        ("phase", pa.string()),
        ("intent", pa.string()),
        ("test", pa.string()),
        ("text", pa.string()),
        ("sources", pa.list_(pa.string())),
    ]
)


def _refs(cites: tuple[Citation, ...]) -> list[str]:
    """The references users read (as in the recommendation's `sources`: no internal provenance)."""
    return list(
        dict.fromkeys(
            s["label"] + (f" <{s['url']}>" if s.get("url") else "") + (f": {s['quote']}" if s.get("quote") else "")
            for s in shown_sources(cites)
        )
    )


def explanations(kb: KnowledgeBase) -> pa.Table:
    """One row per id of the result columns (kind: option, setting, exclusion, hold, test, test_rule,
    caution, intent)."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, ident: str, text: str, cites: tuple[Citation, ...] = (), **extra: Any) -> None:
        rows.append({"kind": kind, "id": ident, "text": text, "sources": _refs(cites), **extra})

    for rule in kb.intents:
        add("intent", rule.id, rule.because, rule.cite, intent=rule.intent)
    for o in kb.options:
        add("option", o.id, o.patient, o.cite, option=o.id, title=o.title)
        for s in o.settings:
            add(
                "setting",
                s.id,
                s.because,
                (*o.cite, *s.cite),
                option=o.id,
                title=o.title,
                strength=s.strength,
                phase=s.phase,
                intent=s.intent,
            )
        for g in o.gates:
            if g.effect == "excludes":
                add("exclusion", f"{o.id}{SEP}{g.id}", g.reason, g.cite, option=o.id, title=o.title)
            if g.on_unknown == "hold":
                add(
                    "hold", f"{o.id}{SEP}{g.id}", g.unknown or g.reason, g.cite, option=o.id, title=o.title, test=g.test
                )
    for test, term in kb.vocabulary.tests.items():
        add("test", test, term.display, term.cite, test=test)
    for test_rule in kb.test_rules:
        add("test_rule", test_rule.id, test_rule.why, test_rule.cite, test=test_rule.test)
    for c in kb.global_cautions:
        add("caution", c.id, c.text, c.cite)
        if c.unknown:
            add("caution_unknown", c.id, c.unknown, c.cite)
    return pa.Table.from_pylist(rows, schema=SCHEMA)
