"""A `Recommendation` as CDS Hooks cards: the preferred plan, each important exclusion, missing tests.

Cards are built through the `Card` model, so a card the EHR receives has already passed the same checks
the tests run (summary under 140 characters, a source with a label, a known indicator). Details are
GitHub-flavoured Markdown; the knowledge base's citations go in the detail, its version in `source`.
"""

from __future__ import annotations

import uuid
from typing import Any

from rectoplan.core.errors import Problem
from rectoplan.core.recommendation import Recommendation
from rectoplan.service.models import OwnCard

MAX_SUMMARY = 139


def _summary(text: str) -> str:
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


_ESCAPES = str.maketrans({ch: "\\" + ch for ch in "\\<>*_`[]#|"})


def escape_md(text: str) -> str:
    """Neutralise Markdown/HTML control characters in free text placed into a card detail."""
    return text.translate(_ESCAPES)


def _sources(sources: list[dict[str, str]]) -> list[str]:
    lines = []
    for s in sources:
        quote = f' — "{escape_md(s["quote"])}"' if s.get("quote") else ""
        lines.append(f"  - source: {escape_md(s['ref'])}{quote}")
    return lines


def make_card(summary: str, indicator: str, detail: str, source: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "indicator": indicator,
        "detail": detail,
    }
    card = OwnCard.model_validate(fields | {"source": source})
    return card.model_dump(exclude_none=True)


def cards_for(rec: Recommendation, source: dict[str, Any], issues: list[Problem] | None = None) -> list[dict[str, Any]]:
    """Cards: the preferred plan, one per (non-held) exclusion, the tests needed, data issues."""
    data = rec.to_dict()
    cards: list[dict[str, Any]] = []
    options = data["options"]
    preferred = [o for o in options if o["strength"] == "preferred"] or options[:1]
    if preferred:
        lines = [f"**{escape_md(data['summary'])}**", ""]
        for opt in preferred:
            lines.append(f"- **{escape_md(opt['title'])}** ({opt['phase'].replace('_', ' ')}, {opt['intent']})")
            lines += [f"  - {escape_md(r)}" for r in opt["rationale"]]
            lines += [f"  - caution: {escape_md(w)}" for w in opt.get("warnings", [])]
            lines += _sources(opt["sources"])
        others = [o for o in options if o not in preferred]
        if others:
            lines += [
                "",
                "Other options, in rank order: "
                + "; ".join(f"{escape_md(o['title'])} ({o['strength']})" for o in others),
            ]
        lines += ["", f"_{escape_md(data['disclaimer'])}_"]
        titles = ", ".join(o["title"] for o in preferred)
        cards.append(make_card(f"rectoplan preferred: {titles}", "info", "\n".join(lines), source))
    else:
        detail = f"**{escape_md(data['summary'])}**\n\n_{escape_md(data['disclaimer'])}_"
        cards.append(
            make_card(
                "rectoplan: no treatment option can be offered on the recorded facts",
                "warning",
                detail,
                source,
            )
        )
    for ex in data["excluded"]:
        if ex["held"]:
            continue
        lines = [f"**{escape_md(ex['title'])}** is not recommended for this patient:", ""]
        lines += [f"- {escape_md(r)}" for r in ex["reasons"]] + _sources(ex["sources"])
        cards.append(make_card(f"Not recommended: {ex['title']}", "warning", "\n".join(lines), source))
    tests = data["tests_needed"]
    if tests:
        held = [ex["title"] for ex in data["excluded"] if ex["held"]]
        lines = [f"- **{escape_md(t['test'])}**: {escape_md(t['why'])}" for t in tests]
        if held:
            lines += ["", "Held back until these results are known: " + "; ".join(escape_md(h) for h in held)]
        names = ", ".join(t["test"] for t in tests)
        cards.append(
            make_card(f"Tests still needed before choosing treatment: {names}", "warning", "\n".join(lines), source)
        )
    if issues:
        lines = [
            f"- `{escape_md(p.path)}`: found {escape_md(p.found)}; expected {escape_md(p.expected)}"
            for p in issues[:20]
        ]
        more = f"\n\n…and {len(issues) - 20} more." if len(issues) > 20 else ""
        summary = f"rectoplan could not use {len(issues)} record(s) of this chart; check them"
        cards.append(make_card(summary, "info", "\n".join(lines) + more, source))
    return cards


def problem_card(problems: list[Problem], source: dict[str, Any]) -> dict[str, Any]:
    """A card saying rectoplan cannot assess the patient, and why (never a guess)."""
    lines = [
        f"- `{escape_md(p.path)}`: found {escape_md(p.found)}; expected {escape_md(p.expected)}" for p in problems[:20]
    ]
    return make_card("rectoplan cannot assess this patient from the chart data", "info", "\n".join(lines), source)
