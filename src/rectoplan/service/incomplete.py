"""The warning card of a chart that could not be read completely, and the note on the other cards.

Absence of data is not evidence of absence: when a prefetch key could not be read (see `prefetch.py`),
the facts it stands for are unknown, and the clinician must be told so, in the answer itself, next to
the options computed without them. The card names each unknown fact and why it is unknown (never a
token, never patient data: only what the FHIR server or the EHR said about the failure).
"""

from __future__ import annotations

from typing import Any

from rectoplan.service import cards as card_maker
from rectoplan.service.prefetch import KEY_FACTS


def unknown_facts(unknown: dict[str, str]) -> list[str]:
    """The facts behind the unknown keys, each once, in the order of the prefetch keys."""
    return list(dict.fromkeys(KEY_FACTS[key] for key in KEY_FACTS if key in unknown))


def incomplete_card(unknown: dict[str, str], source: dict[str, Any], *, assessed: bool = True) -> dict[str, Any]:
    """A warning card: which facts are unknown and why; `assessed` False when no assessment was possible."""
    facts = unknown_facts(unknown)
    lines = ["**These facts could not be read from the chart and are unknown (not absent):**", ""]
    lines += [f"- {card_maker.escape_md(fact)}" for fact in facts]
    lines += ["", "Why:"]
    lines += [f"- `{key}`: {card_maker.escape_md(why)}" for key, why in unknown.items()]
    if assessed:
        lines += [
            "",
            "The other cards were computed without these facts. Check them in the chart before acting on any "
            "option (for example, a treatment line already given would change the options).",
        ]
        summary = "Incomplete chart: unknown " + ", ".join(f.split(" (")[0] for f in facts)
    else:
        lines += ["", "rectoplan makes no recommendation without the cancer diagnosis."]
        summary = "rectoplan cannot assess this patient: the conditions could not be read"
    return card_maker.make_card(summary, "warning", "\n".join(lines), source)


def with_note(cards: list[dict[str, Any]], unknown: dict[str, str]) -> list[dict[str, Any]]:
    """The cards with a first line in each detail saying which facts they were computed without."""
    if not unknown:
        return cards
    note = (
        "**Computed with incomplete data** — unknown: "
        + "; ".join(card_maker.escape_md(f) for f in unknown_facts(unknown))
        + ".\n\n"
    )
    return [card | {"detail": note + str(card.get("detail", ""))} for card in cards]
