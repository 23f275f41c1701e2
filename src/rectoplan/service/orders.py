"""order-select / order-sign: which drugs a draft order names, and the cards about them.

A drafted drug is recognised by its RxNorm code (the terminology table of the FHIR adapter) or, failing
that, by the name of a drug of rectoplan's vocabulary appearing as whole words in the order's text or a
coding's display (the sandbox's medication list and many EHRs send product names such as "cetuximab
2 MG/ML Injectable Solution"). A name only ever maps to a drug of the vocabulary: nothing is invented.
Orders rectoplan does not read (non-drug orders, unknown drugs) are left alone; what the client sent that
is not valid FHIR but not read either (no Bundle `type`, no `fullUrl`, `category` as an object) is
tolerated and listed in the card's detail.
"""

from __future__ import annotations

import re
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.core.knowledge import KnowledgeBase, Vocabulary
from rectoplan.service import cards as card_maker
from rectoplan.service.order_cautions import order_cautions

_PATTERNS: dict[int, tuple[Vocabulary, tuple[tuple[re.Pattern[str], str], ...]]] = {}


def _name_patterns(vocabulary: Vocabulary) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(whole-word pattern, drug id) for each drug id and display name (and its parts in brackets)."""
    cached = _PATTERNS.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    out = []
    for drug in vocabulary.drugs.values():
        names = {drug.id.replace("_", " "), drug.id.replace("_", "-")}
        display = drug.display.lower()
        names |= {display, re.sub(r"\s*\(.*?\)", "", display).strip()}
        names |= {inner.strip() for inner in re.findall(r"\((.*?)\)", display)}
        for name in sorted(n for n in names if len(n) >= 4):
            out.append((re.compile(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])"), drug.id))
    _PATTERNS[id(vocabulary)] = (vocabulary, tuple(out))
    return tuple(out)


def drugs_of(resource: dict[str, Any], vocabulary: Vocabulary) -> set[str]:
    """Vocabulary drug ids a draft order names: by RxNorm code, else by name in its text or displays.

    Branchy by design: the places a FHIR order may name its medication (inline, contained, by code, by text)."""
    concept = resource.get("medicationCodeableConcept")
    if not isinstance(concept, dict):
        contained = [
            c for c in resource.get("contained") or [] if isinstance(c, dict) and c.get("resourceType") == "Medication"
        ]
        ref = (resource.get("medicationReference") or {}).get("reference", "")
        concept = next((c.get("code") for c in contained if f"#{c.get('id')}" == ref), None)
    if not isinstance(concept, dict):
        return set()
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    by_code = {fc.DRUGS[key].meaning for c in codings if (key := (c.get("system", ""), c.get("code", ""))) in fc.DRUGS}
    if by_code:
        return {d for meaning in by_code for d in meaning.split("+")}
    texts = [concept.get("text")] + [c.get("display") for c in codings]
    words = " ".join(t.lower() for t in texts if isinstance(t, str))
    return {drug for pattern, drug in _name_patterns(vocabulary) if pattern.search(words)}


def draft_notes(draft_orders: dict[str, Any]) -> list[str]:
    """What the client sent that is not valid FHIR but was not read either (tolerated, reported)."""
    notes = []
    if "type" not in draft_orders:
        notes.append("the draftOrders Bundle has no `type`")
    for i, entry in enumerate(draft_orders.get("entry") or []):
        if isinstance(entry, dict) and not entry.get("fullUrl"):
            notes.append(f"draftOrders entry {i} has no `fullUrl`")
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("category"), dict):
            notes.append(f"draftOrders entry {i}: `category` is an object, not a list")
    return notes


def order_cards(
    rec: Any, draft_orders: dict[str, Any], source: dict[str, Any], knowledge: Vocabulary | KnowledgeBase
) -> list[dict[str, Any]]:
    """A warning per drafted drug that only excluded (not held) options contain; an info card for a known
    cancer drug that is in no option rectoplan lists for this patient at this point; a warning per warning
    of the offered options about a drafted drug they contain (`card_maker.caution_cards`, review 15 F2).
    `knowledge`: the knowledge base, or its vocabulary (then the shipped base is the one behind it).

    Branchy by design: one branch per kind of drafted order and exclusion state."""
    vocabulary = knowledge.vocabulary if isinstance(knowledge, KnowledgeBase) else knowledge
    offered = {c for o in rec.options for c in o.components}
    notes = draft_notes(draft_orders)
    tolerated = (
        "\n\nNot read, tolerated (not valid FHIR): " + "; ".join(card_maker.escape_md(n) for n in notes) + "."
        if notes
        else ""
    )
    cards = []
    drafted: set[str] = set()
    for entry in draft_orders.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            drafted |= drugs_of(resource, vocabulary)
    for drug in sorted(drafted - offered):
        name = vocabulary.drugs[drug].display if drug in vocabulary.drugs else drug
        against = [e for e in rec.excluded if drug in e.components and not e.held]
        if against:
            reasons: dict[str, list[str]] = {}
            for e in against:
                for r in e.reasons:
                    reasons.setdefault(r, []).append(e.title)
            lines = [
                f"- {card_maker.escape_md(r)} ({card_maker.escape_md(', '.join(dict.fromkeys(titles)))})"
                for r, titles in reasons.items()
            ]
            detail = f"**{card_maker.escape_md(name)}** appears only in options rectoplan excludes:\n\n" + "\n".join(
                lines
            )
            summary = f"Check order: {name} is not recommended for this patient"
            cards.append(card_maker.make_card(summary, "warning", detail + tolerated, source))
        elif not any(drug in e.components for e in rec.excluded):
            titles = "; ".join(card_maker.escape_md(o.title) for o in rec.options[:8]) or "none"
            detail = (
                f"**{card_maker.escape_md(name)}** is in none of the options rectoplan lists for this patient "
                f"at this point (options, in rank order: {titles})."
            )
            summary = f"Order: {name} is not among rectoplan's options for this patient"
            cards.append(card_maker.make_card(summary, "info", detail + tolerated, source))
    cautions = order_cautions(rec, sorted(drafted & offered), knowledge)
    return cards + card_maker.caution_cards(cautions, source, vocabulary.display, tolerated)
