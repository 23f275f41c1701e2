"""Text for people: the recommendation grouped, aligned, with the reason for every option and exclusion.

Layout follows how a tumour board reads: the one-line summary, the intent, the case-level warnings, the
ranked options with their reasons and warnings, what is excluded and why, what is held back, the missing
tests, what would change the plan, then the patient's version in plain words and the disclaimer.
"""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from rectoplan.adapters.render_html import source_view, warnings_by_severity
from rectoplan.core.knowledge import Citation, KnowledgeBase
from rectoplan.core.recommendation import CitedNote, Exclusion, OptionResult, Recommendation, shown_sources

WIDTH = 100
BRIEF_OPTIONS = 6
NOT_READ_SHOWN = 8  # a chart holds many resources rectoplan does not read: the text shows a few
_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def style(self, text: str, *names: str) -> str:
        names = tuple(n for n in names if n)  # "" = no style (a KeyError under a real terminal, issue 13)
        if not self.color or not names:
            return text
        codes = ";".join(_STYLES[n] for n in names)
        return f"\033[{codes}m{text}\033[0m"

    def head(self, text: str) -> None:
        self.lines += ["", self.style(text, "bold")]

    def wrap(self, text: str, indent: int, first: str = "", *names: str) -> None:
        prefix = " " * indent + first
        hang = " " * (len(prefix) if len(first) <= 12 else indent + 4)
        body = textwrap.wrap(text, WIDTH - len(prefix), break_on_hyphens=False) or [""]
        self.lines.append(prefix + self.style(body[0], *names))
        rest = textwrap.wrap(" ".join(body[1:]), WIDTH - len(hang), break_on_hyphens=False)
        self.lines += [hang + self.style(b, *names) for b in rest]


def _cite(source: dict[str, Any]) -> str:
    # Through the JSON form, so the text shows what the HTML shows whichever shape a source takes.
    view = source_view(source)
    label = view["label"] + (f" <{view['url']}>" if view["url"] else "")
    return f'{label} "{view["quote"]}"' if view["quote"] else label


def _trace_text(trace: dict[str, Any]) -> str:
    """One line per option for reviewers: what decided it, in rectoplan's own ids."""
    facts = ", ".join(f"{k} = {v}" for k, v in (trace.get("facts_used") or {}).items())
    parts = [
        f"row {trace.get('setting')} (priority {trace.get('priority')})",
        "rules " + ", ".join(trace.get("rules") or []),
        f"facts used: {facts}" if facts else "",
        "provenance " + ", ".join(trace.get("provenance") or []),
    ]
    return "; ".join(p for p in parts if p and not p.endswith(" "))


def _cites(cites: tuple[Citation, ...]) -> str:
    """The references users read (the JSON's `sources`: no internal provenance), each once."""
    return "; ".join(_cite(s) for s in shown_sources(cites))


def render_text(
    rec: Recommendation,
    kb: KnowledgeBase,
    provenance: dict[str, Any] | None = None,
    color: bool | None = None,
    brief: bool = False,
    full_command: str = "rectoplan demo --full",
    trace: bool = False,
) -> str:
    """`full_command`: the command that prints every option, named when `brief` leaves some out. `trace`
    adds, for reviewers, each option's decision-table row, priority, rule ids, facts used and provenance."""
    out = _Out(sys.stdout.isatty() if color is None else color)
    out.lines.append(out.style(f"rectoplan — case {rec.case_id} — knowledge {rec.knowledge_version}", "dim"))
    out.wrap(rec.summary, 0, "", "bold")
    out.wrap(rec.intent_rationale, 0, f"Intent: {rec.intent}. ")
    if rec.warnings:  # case-level warnings come before the options: a board reads them first
        out.head("WARNINGS")
        cites = {c.text: c.sources for c in rec.case_cautions}
        for warning in warnings_by_severity(rec.warnings):
            out.wrap(warning["text"], 2, "! ", "red" if warning["severity"] == "critical" else "yellow")
            if not brief and cites.get(warning["text"]):
                out.wrap(_cites(cites[warning["text"]]), 4, "per: ", "dim")
    _options(out, rec, brief, full_command, trace)
    _excluded(out, rec, brief)
    _tests_and_changes(out, rec, kb)
    if provenance:
        _provenance(out, provenance)
    _for_the_patient(out, rec, brief)
    return "\n".join(out.lines)


def _options(out: _Out, rec: Recommendation, brief: bool, full_command: str, trace: bool) -> None:
    out.head(f"OPTIONS to discuss with the care team ({len(rec.options)})")
    if not rec.options:
        out.wrap("No option is offered for this case as recorded; see what is held back and the tests needed.", 2)
    shown = rec.options[:BRIEF_OPTIONS] if brief else rec.options
    title_w = min(44, max((len(o.title) for o in shown), default=10))
    for o in shown:
        phase = o.phase.replace("_", " ")
        strength = out.style(f"{o.strength:<11}", "green" if o.strength == "preferred" else "")
        out.lines.append(f"  {o.rank:>2}. {strength} {o.title:<{title_w}}  {o.kind}, {phase}, {o.intent}")
        why = o.rationale if not brief else o.rationale[:1]
        for line in why:
            out.wrap(line, 7, "why: " if line is o.rationale[0] else "     ")
        _cautions(out, o, brief)
        if not brief:
            out.wrap(_cites(o.sources), 7, "sources: ", "dim")
        if trace and o.trace:
            out.wrap(_trace_text(o.trace), 7, "trace: ", "dim")

    if len(shown) < len(rec.options):
        out.wrap(
            f"... and {len(rec.options) - len(shown)} more options (full list: {full_command})",
            2,
        )


def _cautions(out: _Out, o: OptionResult, brief: bool) -> None:
    """An option's warnings (and, unless brief, its notes), each followed by the references behind it."""
    cited = o.cautions or tuple(CitedNote(w, "warning", ()) for w in o.warnings)
    for c in cited:
        if c.severity == "warning":
            out.wrap(c.text, 7, "! ", "yellow")
        elif not brief:
            out.wrap(c.text, 7, "note: ")
        else:
            continue
        if not brief and c.sources:
            out.wrap(_cites(c.sources), 9, "per: ", "dim")


def _excluded(out: _Out, rec: Recommendation, brief: bool) -> None:
    excluded = [e for e in rec.excluded if not e.held]
    held = [e for e in rec.excluded if e.held]
    if excluded:
        out.head(f"EXCLUDED — not safe or not suitable ({len(excluded)})")
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Exclusion]] = {}
        for e in excluded:  # one reason shown once, with every option it keeps out
            groups.setdefault((e.reasons, e.rules), []).append(e)
        for (reasons, _rules), items in groups.items():
            titles = ", ".join(e.title for e in items)
            out.wrap(out.style(titles, "red"), 2, "✗ ")
            for r in reasons:
                out.wrap(r, 6)
            if not brief:
                out.wrap(_cites(items[0].sources), 6, "sources: ", "dim")
    if held:
        out.head(f"HELD BACK — waiting for a missing fact ({len(held)})")
        for e in held:
            out.lines.append(f"  … {e.title}")
            for r in dict.fromkeys(e.reasons):
                out.wrap(r, 6)


def _tests_and_changes(out: _Out, rec: Recommendation, kb: KnowledgeBase) -> None:
    if rec.tests_needed:
        out.head(f"TESTS NEEDED ({len(rec.tests_needed)})")
        width = max(len(t.test) for t in rec.tests_needed)
        for t in rec.tests_needed:
            display = kb.vocabulary.tests[t.test].display if t.test in kb.vocabulary.tests else t.test
            out.wrap(f"{display}. {t.why}", 2, f"{t.test:<{width}}  ")
    if rec.what_would_change:
        out.head("WHAT WOULD CHANGE THE PLAN")
        for ch in rec.what_would_change:
            out.wrap(ch.then, 4, f"if {ch.condition}: ")


def _provenance(out: _Out, provenance: dict[str, Any]) -> None:
    out.head("FROM THE FHIR RECORD")
    for field, ref in provenance.get("provenance", {}).items():
        out.wrap(ref, 2, f"{field}: ")
    for issue in provenance.get("issues", []):
        out.wrap(issue, 2, "not used: ", "yellow")
    not_read = list(provenance.get("not_read", {}).items())
    for ref, why in not_read[:NOT_READ_SHOWN]:
        out.wrap(f"{ref} ({why})", 2, "not read: ")
    if len(not_read) > NOT_READ_SHOWN:
        out.wrap(f"and {len(not_read) - NOT_READ_SHOWN} more resources (all listed by --format json)", 2)


def _for_the_patient(out: _Out, rec: Recommendation, brief: bool) -> None:
    out.head("FOR THE PATIENT")
    out.wrap(rec.patient_summary, 2)
    for o in rec.options[: 3 if brief else len(rec.options)]:
        out.wrap(o.patient_explanation, 4, f"{o.rank}. {o.title}: ")
    if rec.glossary and not brief:
        out.lines.append("  Words used:")
        for term, definition in rec.glossary:
            out.wrap(definition, 4, f"{term}: ")
    out.lines.append("")
    out.wrap(rec.disclaimer, 0, "", "bold")
