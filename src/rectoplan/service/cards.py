"""A `Recommendation` as CDS Hooks cards people act on.

EHR clients sort cards by indicator, so an orange card per excluded option buries the plan: patient-view
therefore gives ONE `info` plan card (the preferred options, what is not recommended and why, what is held
back and the tests that would settle it, a link to the full plan page), and a `warning`/`critical` card only
for a case-level safety warning (Lynch referral, de-intensify for poor performance status). Order hooks
(order-select and order-sign alike, through `order_cards`, their one definition) get one card per drug being
ordered that rectoplan would not offer: excluded (a warning with `overrideReasons` and a suggestion to remove
the order), held back for a missing result, or in no option; and one warning card per warning of the offered
options about a drug being ordered
(`caution_cards`, the drug read from the rule by `order_cautions`); nothing about drugs nobody ordered, no
notes, and silence when the order fits the plan and no warning concerns it.

Cards are built through the `OwnCard` model, so a card the EHR receives has already passed the same checks
the tests run. Details are GitHub-flavoured Markdown with every free text escaped; texts use titles and
display names, never ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rectoplan.adapters.handout import likely_options, warnings_once
from rectoplan.adapters.render_html import source_view, warnings_by_severity
from rectoplan.core.errors import Problem
from rectoplan.core.knowledge import Citation, KnowledgeBase, Vocabulary
from rectoplan.core.recommendation import OptionResult, Recommendation, first_treatment, shown_sources
from rectoplan.service import orders
from rectoplan.service.models import OwnCard
from rectoplan.service.order_cautions import OrderCaution, knowledge_of, order_cautions

MAX_SUMMARY = 139
PREFERRED_SHOWN = 4
OVERRIDE_SYSTEM = "urn:rectoplan:override-reason"
# Why a clinician goes ahead anyway: the reasons an EHR offers when a card is dismissed (CDS Hooks feedback).
OVERRIDE_REASONS = (
    ("tumour-board-decision", "Decided by the tumour board for this patient"),
    ("information-not-in-record", "Information not in the record changes the assessment"),
    ("patient-informed-choice", "Patient's informed choice after discussion"),
)
NOT_READ = (
    "rectoplan does not read the order's dose or timing: if the order already follows this caution, give that as"
    " the override reason."
)
# A caution on an offered drug is mostly followed, not overridden: the order may already carry the lower dose.
CAUTION_OVERRIDES = (
    ("caution-already-followed", "The order already follows this caution (dose or timing adjusted)"),
    *OVERRIDE_REASONS,
)


def _summary(text: str) -> str:
    """At most 139 characters (the spec's limit), cut at a word so no half word is left."""
    if len(text) <= MAX_SUMMARY:
        return text
    cut = text[: MAX_SUMMARY - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


_SPECIAL = "\\<>*_`[]#|"  # the backslash first, so that the escapes added after it are not escaped again


def escape_md(text: str) -> str:
    """Neutralise Markdown/HTML control characters in free text placed into a card detail.

    One `in` and at most one `replace` per character (C loops): `str.translate` with a table that maps
    a character to two is a per-character lookup, and cost a tenth of a hook call's service CPU."""
    for ch in _SPECIAL:
        if ch in text:
            text = text.replace(ch, "\\" + ch)
    return text


def _strip_rule(text: str) -> str:
    """A rationale without its trailing '[rule-id]' (ids are for the full plan, not for a card)."""
    head, sep, tail = text.rpartition(" [")
    return head if sep and tail.endswith("]") and " " not in tail else text


def make_card(summary: str, indicator: str, detail: str, source: dict[str, Any], **extra: Any) -> dict[str, Any]:
    fields = {"uuid": str(uuid.uuid4()), "summary": _summary(summary), "indicator": indicator, "detail": detail}
    card = OwnCard.model_validate(fields | {"source": source} | extra)
    return card.model_dump(exclude_none=True)


def primary_source(data: Mapping[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    """The card's source: the top option's first reference with a link (else with a real label), else the
    knowledge base itself (a bare file name is no source a clinician can follow)."""
    sources = [source_view(s) for o in data["options"][:1] for s in o.get("sources", []) if s.get("label")]
    linked = [s for s in sources if s["url"]]  # a reference the clinician can open comes first
    for view in linked[:1] or sources[:1]:
        return {"label": view["label"]} | ({"url": view["url"]} if view["url"] else {})
    return fallback


_TOP_SOURCES: dict[tuple[Citation, ...], dict[str, Any] | None] = {}


def _top_source(rec: Recommendation, fallback: dict[str, Any]) -> dict[str, Any]:
    """`primary_source` of the recommendation, remembered per citation list (the knowledge base's own,
    so a bounded set): the same answer without building every citation's dict on every call."""
    if not rec.options:
        return fallback
    cites = rec.options[0].sources
    if cites not in _TOP_SOURCES:
        if len(_TOP_SOURCES) >= 1024:
            _TOP_SOURCES.clear()
        found = primary_source({"options": [{"sources": shown_sources(cites)}]}, {})
        _TOP_SOURCES[cites] = found or None
    known = _TOP_SOURCES[cites]
    return dict(known) if known is not None else fallback


def _plan_lines(rec: Recommendation, display: Callable[[str], str]) -> list[str]:
    """The card's Markdown lines. Branchy by design: each part of the plan is optional.

    Read from the Recommendation itself, not from `to_dict()`: the card needs a few texts, and the full
    JSON form (every option's sources and trace) was a fifth of a hook call's CPU with a new chart."""
    options = rec.options
    preferred = likely_options(list(options), PREFERRED_SHOWN)
    lines = [f"**{escape_md(rec.summary)}**", ""]
    for opt in preferred:
        lines.append(f"- **{escape_md(opt.title)}** ({opt.phase.replace('_', ' ')}, {opt.intent})")
        if opt.rationale:
            lines.append(f"  - {escape_md(_strip_rule(opt.rationale[0]))}")
        lines += [f"  - caution: {escape_md(w)}" for w in opt.warnings]
    others = [o for o in options if o not in preferred]
    if others:
        lines += ["", "Also to discuss: " + "; ".join(f"{escape_md(o.title)} ({o.strength})" for o in others)]
        lines += _other_cautions(others)
    if not options:
        lines.append("No option can be offered on the facts recorded.")
    excluded = [x for x in rec.excluded if not x.held]
    if excluded:
        lines += ["", "**Not recommended for this patient**"]
        by_reason: dict[tuple[str, ...], list[str]] = {}
        for x in excluded:
            by_reason.setdefault(tuple(dict.fromkeys(x.reasons)), []).append(x.title)
        for reasons, titles in by_reason.items():
            why = " ".join(escape_md(_strip_rule(r)) for r in reasons)
            lines.append(f"- {escape_md(', '.join(titles))}: {why}")
    held = [x.title for x in rec.excluded if x.held]
    tests = rec.tests_needed
    if tests or held:
        lines += ["", "**Tests needed**"]
        lines += [f"- {escape_md(display(t.test))}: {escape_md(_strip_rule(t.why))}" for t in tests]
        if held:
            lines.append("- Held back until the results are known: " + escape_md(", ".join(held)))
    return lines


def _other_cautions(others: list[OptionResult]) -> list[str]:
    """The warnings of the options named only in 'Also to discuss', each once with the options it concerns:
    a safety warning reaches the card whichever option it is on (stop 17, K8's check of every output)."""
    return [f"- caution ({escape_md(', '.join(t))}): {escape_md(w)}" for w, t in warnings_once(others).items()]


def cards_for(
    rec: Recommendation,
    source: dict[str, Any],
    issues: list[Problem] | None = None,
    plan_url: str | None = None,
    display: Callable[[str], str] = lambda ident: ident.replace("_", " "),
) -> list[dict[str, Any]]:
    """patient-view: the plan card (info) first, then one card per case-level safety warning."""
    lines = _plan_lines(rec, display)
    if issues:
        lines += ["", f"{len(issues)} record(s) of this chart could not be used:"]
        lines += [f"- {escape_md(p.path)}: {escape_md(p.message())}" for p in issues[:10]]
    lines += ["", f"_{escape_md(rec.disclaimer)}_"]
    preferred = [o.title for o in rec.options if o.strength == "preferred"]
    lead = first_treatment(rec.options)
    summary = (
        f"rectoplan preferred: {', '.join(preferred)}"
        if preferred and (lead is None or lead.strength == "preferred")
        else (
            f"rectoplan: {(lead or rec.options[0]).title} and other options to discuss"
            if rec.options
            else "rectoplan: no option yet on the recorded facts; tests needed"
        )
    )
    links = [{"label": "Full plan in rectoplan", "url": plan_url, "type": "absolute"}] if plan_url else None
    cards = [make_card(summary, "info", "\n".join(lines), _top_source(rec, source), links=links)]
    for warning in warnings_by_severity(rec.warnings):
        indicator = "critical" if warning["severity"] == "critical" else "warning"
        cards.append(make_card(warning["text"], indicator, escape_md(warning["text"]), source))
    return cards


def order_cards(
    rec: Recommendation,
    draft_orders: Mapping[str, Any],
    source: dict[str, Any],
    display: Callable[[str], str] | None = None,
    knowledge: KnowledgeBase | Vocabulary | None = None,
) -> list[dict[str, Any]]:
    """order-select and order-sign (the one definition; `hooks.py` calls it for both). For each drafted drug
    that no offered option contains, in the order drafted: a warning when it is part only of options rectoplan
    excludes (`_excluded_order_card`), an info card when it is only in options held back until missing facts
    are known, an info card when it is in no option at all; then one warning card per warning of the offered
    options about a drafted drug (`caution_cards`). What the client sent that is not valid FHIR but was not
    read ends each detail. `knowledge`: the knowledge base or its vocabulary (then the shipped base behind it,
    `order_cautions.knowledge_of`); None: the shipped one. `display`: names of drugs (default: the vocabulary's).
    """
    vocabulary = _vocabulary_of(knowledge)
    name_of = display or vocabulary.display
    notes = orders.draft_notes(draft_orders)
    tail = "\n\nNot read, tolerated (not valid FHIR): " + "; ".join(escape_md(n) for n in notes) + "." if notes else ""
    offered = {c for o in rec.options for c in o.components}
    drafted = orders.drafted_drugs(draft_orders, vocabulary)
    cards = []
    for drug, refs in drafted.items():
        if drug not in offered:
            cards.append(_not_offered_card(rec, drug, name_of(drug), refs, source, tail))
    cautions = order_cautions(rec, [d for d in drafted if d in offered], knowledge)
    return cards + caution_cards(cautions, source, name_of, tail)


def _vocabulary_of(knowledge: KnowledgeBase | Vocabulary | None) -> Vocabulary:
    """The vocabulary drafted drugs are read with: the given one, else that of the knowledge base behind
    `knowledge` (`order_cautions.knowledge_of`: itself, or the shipped one when none is given)."""
    if isinstance(knowledge, Vocabulary):
        return knowledge
    kb = knowledge_of(knowledge)
    assert kb is not None  # a knowledge base, or None (the shipped one): never unknown
    return kb.vocabulary


def _not_offered_card(
    rec: Recommendation, drug: str, name: str, refs: list[str], source: dict[str, Any], tail: str
) -> dict[str, Any]:
    """The card of a drafted drug no offered option contains: part only of excluded options (warning), only of
    options held back until missing facts are known (info), or of no option rectoplan lists (info)."""
    against = [e for e in rec.excluded if drug in e.components and not e.held]
    waiting = [e for e in rec.excluded if drug in e.components and e.held]
    if against:
        return _excluded_order_card(name, refs, against, source, tail)
    if waiting:
        reasons = _unique(_strip_rule(r) for e in waiting for r in e.reasons)
        detail = f"**{escape_md(name)}** is held back until missing facts are known:\n\n" + "\n".join(
            f"- {escape_md(r)}" for r in reasons
        )
        return make_card(f"{name}: results needed before this order", "info", detail + tail, source)
    titles = "; ".join(escape_md(o.title) for o in rec.options[:8]) or "none"
    detail = (
        f"**{escape_md(name)}** is in none of the options rectoplan lists for this patient "
        f"at this point (options, in rank order: {titles})."
    )
    return make_card(f"Order: {name} is not among rectoplan's options for this patient", "info", detail + tail, source)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _excluded_order_card(
    name: str, refs: list[str], against: list[Any], source: dict[str, Any], tail: str
) -> dict[str, Any]:
    """Each reason once (without rule ids), the options concerned, override reasons, and a suggestion to remove
    the drafted orders of the drug (when the client gave them ids: an action must name its resource)."""
    reasons = _unique(_strip_rule(r) for e in against for r in e.reasons)
    titles = _unique(e.title for e in against)
    detail = "\n".join(
        [f"**{escape_md(name)}** is part only of options rectoplan does not recommend for this patient:", ""]
        + [f"- {escape_md(r)}" for r in reasons]
        + ["", "Options concerned: " + escape_md(", ".join(titles))]
    )
    actions = [{"type": "delete", "description": f"Remove the draft {name} order", "resourceId": ref} for ref in refs]
    suggestion = {"label": f"Remove the {name} order", "uuid": str(uuid.uuid4()), "actions": actions}
    return make_card(
        f"{name} is not recommended for this patient",
        "warning",
        detail + tail,
        source,
        suggestions=[suggestion] if actions else None,
        selectionBehavior="at-most-one" if actions else None,
        overrideReasons=[{"system": OVERRIDE_SYSTEM, "code": c, "display": d} for c, d in OVERRIDE_REASONS],
    )


def caution_cards(
    cautions: Iterable[OrderCaution],
    source: dict[str, Any],
    display: Callable[[str], str] = lambda ident: ident.replace("_", " "),
    tail: str = "",
) -> list[dict[str, Any]]:
    """order-select/-sign: one warning card per warning of the offered options about a drafted drug
    (`order_cautions.order_cautions`), its text as the knowledge base words it, with its own references;
    `tail` ends each detail (what the order hooks tolerated)."""
    return [_caution_card(c, source, display, tail) for c in cautions]


def _caution_card(
    caution: OrderCaution, source: dict[str, Any], display: Callable[[str], str], tail: str
) -> dict[str, Any]:
    """The caution as written, which drug (or the whole regimen) it concerns, the options that carry it, its
    references (as links too); no suggestion (the drug is offered), override reasons for a caution followed."""
    names = ", ".join(display(d) for d in caution.drugs)
    refs = [source_view(s) for s in shown_sources(caution.sources)]
    about = (
        f"It concerns the whole regimen, not one drug of it; the drafted order ({escape_md(names)}) is part of it."
        if caution.regimen
        else f"It concerns the drafted **{escape_md(names)}** order."
    )
    lines = [
        f"**{escape_md(caution.text)}**",
        "",
        about,
        "",
        "Options concerned: " + escape_md(", ".join(caution.options)),
    ]
    if refs:
        lines += ["", "References:"]
        lines += [f"- {escape_md(r['label'])}" + (f": “{escape_md(r['quote'])}”" if r["quote"] else "") for r in refs]
    lines += ["", NOT_READ]
    links = [{"label": r["label"], "url": r["url"], "type": "absolute"} for r in refs if r["url"]]
    first = links[0] if links else None
    return make_card(
        f"{names[:1].upper()}{names[1:]} order: {caution.text}",
        "warning",
        "\n".join(lines) + tail,
        {"label": first["label"], "url": first["url"]} if first else source,
        links=list({link["url"]: link for link in links}.values()) or None,
        overrideReasons=[{"system": OVERRIDE_SYSTEM, "code": c, "display": d} for c, d in CAUTION_OVERRIDES],
    )


def problem_card(problems: list[Problem], source: dict[str, Any]) -> dict[str, Any]:
    """A card saying rectoplan cannot assess the patient, and why (never a guess)."""
    lines = [
        f"- `{escape_md(p.path)}`: found {escape_md(p.found)}; expected {escape_md(p.expected)}" for p in problems[:20]
    ]
    return make_card("rectoplan cannot assess this patient from the chart data", "info", "\n".join(lines), source)
