"""Reading FHIR values the same way everywhere: dates, codings, profiles and reason references.

Every reader of the package recognises codes through `_lookup` against the cited table in `fhir_codes`
(never by display text) and turns FHIR dates into comparable UTC datetimes through `_when`, so that one
resource type is never read by rules different from another's. Package-internal: the leading underscores
are kept from the single module this package was split from.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from rectoplan.adapters import fhir_codes as fc


def _when(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant (or a partial date string) as a comparable UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parts = [int(p) for p in re.findall(r"\d+", str(value))[:3]]
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(1)
    try:
        return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
    except ValueError:
        return None


def _local_day(value: Any) -> date | None:
    """The calendar day of a FHIR date/dateTime/instant as written (in its own time zone): a result taken at
    23:30 in New York was taken that day, though in UTC it is the next. None for no (readable) date."""
    if isinstance(value, datetime):
        return value.date()
    when = _when(value)
    return when.date() if when else None


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when else "undated"


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _describe(coding: Any) -> str:
    system = fc.SYSTEM_NAMES.get(coding.system or "", coding.system or "no system")
    shown = f" '{coding.display}'" if coding.display else ""
    return f"{system} {coding.code}{shown}"


def _lookup(concept: Any, table: dict[tuple[str, str], fc.Code]) -> fc.Code | None:
    for coding in _codings(concept):
        hit = table.get((coding.system or "", coding.code or ""))
        if hit is not None:
            return hit
    return None


def _first_code(concept: Any) -> str:
    codings = _codings(concept)
    return _describe(codings[0]) if codings else f"text {getattr(concept, 'text', None)!r}"


def _profiles(resource: Any) -> set[str]:
    meta = getattr(resource, "meta", None)
    return {p.rsplit("/", 1)[-1] for p in (getattr(meta, "profile", None) or [])}


def _reasons(resource: Any) -> list[str]:
    return [r.reference for r in getattr(resource, "reasonReference", None) or [] if r.reference]
