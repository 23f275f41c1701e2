"""Which warnings of the offered options concern a drafted drug (order-select / order-sign, review 15 F2).

An order for a drug rectoplan offers is not silent when the offer carries a warning about that drug: a
full-dose capecitabine order for a DPYD intermediate metaboliser meets the option's "start at 50%" caution
at the moment the dose is written, not only on the plan card the prescriber may never open.

Which drug a warning concerns is read from the rule that wrote it, never guessed from its words: the
`applies_to` of the caution (or of the gate whose facts are unknown) is bound to the option with its drugs
one at a time. A rule that names drugs (`option.components`, `option.classes`, `option.resistance_classes`)
concerns the drugs of the option for which it still holds alone (`dpyd-intermediate` concerns capecitabine
and fluorouracil, not bevacizumab); a rule that names none (the option's kind, tags or id, an option's own
requirement) concerns the whole regimen, and so does a warning whose rule cannot be found (unknown is never
read as "not about this drug"). Notes (severity `note`) are not warnings and never reach an order card.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from rectoplan.adapters.handout import warnings_once
from rectoplan.core.conditions import Condition, Const, bind, facts_read
from rectoplan.core.facts import option_facts
from rectoplan.core.knowledge import Citation, KnowledgeBase, Option, Vocabulary
from rectoplan.core.recommendation import OptionResult, Recommendation

DRUG_FACTS = frozenset({"option.components", "option.classes", "option.resistance_classes"})


class OrderCaution(NamedTuple):
    """One warning of the offered options about drafted drugs, once, with everything its card says."""

    text: str
    sources: tuple[Citation, ...]
    drugs: tuple[str, ...]  # the drafted drugs it concerns, in the order drafted
    options: tuple[str, ...]  # titles of the offered options that carry it with one of those drugs
    regimen: bool  # True: the rule is about the whole regimen, not about one of its drugs


class _Index(NamedTuple):
    """Per knowledge base: each warning sentence with the `applies_to` of the rules that can say it."""

    rules: dict[str, tuple[Condition, ...]]
    options: dict[str, Option]


_INDEX: dict[int, tuple[KnowledgeBase, _Index]] = {}


def knowledge_of(knowledge: KnowledgeBase | Vocabulary | None) -> KnowledgeBase | None:
    """The knowledge base behind what the hook passes: itself; the shipped one when none is given or the
    vocabulary is the shipped one's (the service runs the shipped knowledge base, and `hooks.py` passes its
    vocabulary); None when it cannot be known (every warning is then read as about the whole regimen)."""
    if isinstance(knowledge, KnowledgeBase):
        return knowledge
    from rectoplan.kb.loader import default_knowledge  # the shipped base, loaded once per process

    shipped = default_knowledge()
    if knowledge is None or shipped.vocabulary is knowledge or shipped.vocabulary == knowledge:
        return shipped
    return None


def _index(kb: KnowledgeBase) -> _Index:
    """The warning sentences of the class-wide rules (a gate's `unknown` text when it warns, a caution's text
    and `unknown` text), each with its `applies_to`; built once per knowledge base."""
    found = _INDEX.get(id(kb))
    if found is not None and found[0] is kb:
        return found[1]
    rules: dict[str, list[Condition]] = {}
    for applies, gate in kb.raw_gates:
        if gate.on_unknown == "warn" and gate.unknown:
            rules.setdefault(gate.unknown, []).append(applies)
    for applies, caution in kb.raw_cautions:
        for text in (caution.text, caution.unknown):
            if text:
                rules.setdefault(text, []).append(applies)
    made = _Index({t: tuple(a) for t, a in rules.items()}, {o.id: o for o in kb.options})
    if len(_INDEX) >= 8:
        _INDEX.clear()
    _INDEX[id(kb)] = (kb, made)
    return made


def concerned_drugs(kb: KnowledgeBase | None, option: OptionResult, text: str) -> frozenset[str] | None:
    """The drugs of `option` a warning sentence concerns; None for the whole regimen (the rule names no drug,
    holds for no single drug, or cannot be found)."""
    if kb is None:
        return None
    index = _index(kb)
    known = index.options.get(option.id)
    if known is None:
        return None
    drugs = kb.vocabulary.drugs
    whole = option_facts(known.id, known.kind, known.components, known.tags, drugs)
    here = [a for a in index.rules.get(text, ()) if bind(a, whole) == Const(True)]
    if not here or any(not (facts_read(a) & DRUG_FACTS) for a in here):
        return None  # an option's own requirement, or a rule about the option as a whole
    concerned = frozenset(
        d
        for d in known.components
        if d in drugs
        and any(bind(a, option_facts(known.id, known.kind, (d,), known.tags, drugs)) == Const(True) for a in here)
    )
    return concerned or None


def order_cautions(
    rec: Recommendation, drafted: Iterable[str], knowledge: KnowledgeBase | Vocabulary | None = None
) -> list[OrderCaution]:
    """Each warning of the offered options that concerns a drafted drug, once (`handout.warnings_once`), in the
    order of the options; a drafted drug no offered option contains brings none (it has its own card)."""
    order = list(dict.fromkeys(drafted))
    kb = knowledge_of(knowledge)
    kept: list[OptionResult] = []
    concerns: dict[str, tuple[list[str], bool, tuple[Citation, ...]]] = {}
    for option in rec.options:
        ordered = [d for d in order if d in option.components]
        if not ordered:
            continue
        texts = []
        for note in option.cautions:
            if note.severity != "warning":
                continue
            drugs = concerned_drugs(kb, option, note.text)
            named = ordered if drugs is None else [d for d in ordered if d in drugs]
            if named:
                texts.append(note.text)
                were, regimen, _ = concerns.get(note.text, ([], False, ()))
                concerns[note.text] = (were + named, regimen or drugs is None, note.sources)
        kept.append(option._replace(warnings=tuple(texts)))
    out = []
    for text, titles in warnings_once(kept).items():
        named_all, regimen, sources = concerns[text]
        out.append(OrderCaution(text, sources, tuple(d for d in order if d in named_all), tuple(titles), regimen))
    return out
