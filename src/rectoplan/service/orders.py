"""order-select / order-sign: which drugs the draft orders name, and which resources name them.

The cards about them are built in one place, `cards.order_cards`, for both hooks; this module only reads.

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
from collections.abc import Mapping
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.core.knowledge import Vocabulary

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


def draft_notes(draft_orders: Mapping[str, Any]) -> list[str]:
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


def drafted_drugs(draft_orders: Mapping[str, Any], vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Each drug the draft orders name, in the order drafted, with the references (`Type/id`) of the orders
    that name it: what a remove suggestion deletes. An order without an id names its drug but cannot be
    referenced (no reference for it)."""
    found: dict[str, list[str]] = {}
    for entry in draft_orders.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        ident = resource.get("id")
        ref = (
            f"{resource.get('resourceType') or 'MedicationRequest'}/{ident}"
            if isinstance(ident, str) and ident
            else None
        )
        for drug in sorted(drugs_of(resource, vocabulary)):
            refs = found.setdefault(drug, [])
            if ref is not None and ref not in refs:
                refs.append(ref)
    return found
