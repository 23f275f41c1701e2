"""Citations and cited sentences as the engine shares them: each list of citations one `Cites` per content,
each warning or note with its references one `CitedNote` per content (split from `rectoplan.core.explain`).

Why shared: what users read of a list of citations is computed once on its `Cites`, and every part that
cites the same references (an option's setting, an exclusion, a test needed, a warning) holds the same
object, so the collector walks fewer of them and the JSON writer serialises each once.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import is_

from rectoplan.core._cache import BY_CONTENT, CANONICAL, CITES, CITES_BY_ID, NOTES
from rectoplan.core.knowledge import Citation
from rectoplan.core.recommendation import CitedNote, Cites


def _unique(cites: Iterable[Citation]) -> Cites:
    """The citations, each once, as one shared `Cites` per content (so that what users read of them is
    computed once for every part that cites the same references)."""
    given = tuple(cites)
    ids = tuple(map(id, given))  # hashing citations (dataclasses of seven strings) costs more than the rest
    seen = CITES_BY_ID.get(ids)
    if seen is not None and all(map(is_, seen[0], given)):
        return seen[1]
    canonical = {id(c): c for c in map(_canonical, given)}  # each content once, in order: by identity
    key = tuple(canonical)
    found = CITES.get(key)
    if found is None:
        found = CITES.put(key, Cites(canonical.values()))
    CITES_BY_ID.put(ids, (given, found))
    return found


def _canonical(cite: Citation) -> Citation:
    """The first citation object met with the content of `cite` (`_cache.CANONICAL`): equal citations, one
    object, so a list of them is made unique by identity."""
    entry = CANONICAL.get(id(cite))
    if entry is not None and entry[0] is cite:
        return entry[1]
    found = BY_CONTENT.get(cite)
    if found is None:
        found = BY_CONTENT.put(cite, cite)
    CANONICAL.put(id(cite), (cite, found))
    return found


def _note(text: str, severity: str, cite: Iterable[Citation]) -> CitedNote:
    """One `CitedNote` per content, shared by every template that says it (`_cache.NOTES`)."""
    key = (text, severity, _unique(cite))
    found = NOTES.get(key)
    return found if found is not None else NOTES.put(key, CitedNote(*key))
