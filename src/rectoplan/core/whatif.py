"""What would change the plan: for each unknown case field a rule reads, the effect of each value.

For every field of the case that is unknown (absent), each possible value is tried as a *probe*
(`rectoplan.core._probes`): the case with that value filled in. A probe's facts are the case's facts
with the one fact patched (fields that are exactly one fact) or with only the changed part of the case
re-derived (`rectoplan.core.facts.FACT_GROUPS`); the intent is re-decided only if an intent rule reads a
changed fact, and only the options whose settings or gates read a changed fact are re-decided, each by
its compiled decider (`rectoplan.core.plan.compile_deciders`); every other option keeps its outcome.
Each probe yields the options that would be added, removed or re-ranked (their own strength or priority
changes); fields are ordered by how much they change. Integer fields (age, ECOG, days since surgery,
metastasis counts) are probed once per range between the thresholds the rules use, and neighbouring
ranges with the same effect are merged.

Pure: standard library only, no I/O; the same case and knowledge always give the same list.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress
from operator import itemgetter, ne
from typing import TYPE_CHECKING, Any, NamedTuple

from rectoplan.core._parts import candidates as explain_candidates
from rectoplan.core._probes import Probe, probes, range_text
from rectoplan.core._whatif_index import WhatIfIndex, whatif_index
from rectoplan.core.facts import Facts, part_facts
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Change

if TYPE_CHECKING:
    from rectoplan.core.engine import Assessment
    from rectoplan.core.trace import Candidate

__all__ = ["Effect", "Probe", "effects", "probe_facts", "probes", "what_would_change"]


class Effect(NamedTuple):
    """What one probe does to the plan. A NamedTuple: one is made per probe."""

    intent: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    reranked: tuple[str, ...]
    top: str | None = None  # the new first option, when it is a different one
    top_words: str = ""  # its strength and phase, e.g. "preferred first-line"

    @property
    def size(self) -> int:
        return len(self.added) + len(self.removed) + len(self.reranked) + 2 * (self.top is not None)


def probe_facts(probe: Probe, base: Facts, intent: str, kb: KnowledgeBase) -> tuple[Facts, set[str]]:
    """The facts of a probe (with the base intent) and the names of the facts that differ from `base`."""
    facts = dict(base)
    facts["plan.intent"] = intent
    changed = _apply(probe, facts, base, kb)
    return facts, changed


def what_would_change(assessment: Assessment, kb: KnowledgeBase) -> tuple[Change, ...]:
    """'What would change the plan' for the unknown fields of an assessed case, biggest effect first."""
    intent = assessment.intent.intent
    entries = [
        (p, e)
        for p, e in effects(assessment, kb)
        if e.intent != intent or e.added or e.removed or e.reranked or e.top is not None  # `e.size`, inlined
    ]
    return _ordered(_merge(entries), whatif_index(kb), intent)


def effects(assessment: Assessment, kb: KnowledgeBase) -> list[tuple[Probe, Effect]]:
    """Every probe of the case with its effect on the plan (including probes that change nothing).

    The probes' facts are written into one working copy of the case's facts and undone after each probe
    (a copy per probe cost more than the rest of the probe)."""
    todo = probes(assessment.case, kb)
    if not todo:
        return []
    index = whatif_index(kb)
    base = assessment.facts
    intent = assessment.intent.intent
    candidates = assessment.candidates or explain_candidates(assessment.outcomes)
    before = [-1] * len(index.option_ids)  # not `assessment.outcomes`, which the compiled plan builds on demand
    for c in candidates:
        before[c.position] = c.offered
    ranking = sorted([c.position for c in candidates if c.offered >= 0], key=lambda i: index.rank[i][before[i]])
    movable = _Movable(candidates, index)
    deciders = index.deciders
    intent_reads = index.intent_reads
    one_fact = movable.options_one
    work = dict(base)
    entries: list[tuple[Probe, Effect]] = []
    unchanged = Effect(intent, (), (), ())  # most probes: one (immutable) Effect per intent
    for probe in todo:
        patch = probe.patch
        if patch is not None and patch[0] not in intent_reads:  # most probes: one fact, the intent stays
            fact = patch[0]
            work[fact] = patch[1]
            moved = {}
            for i in one_fact(fact):
                now = deciders[i](work)
                if now != before[i]:
                    moved[i] = now
            work[fact] = base[fact]
            entries.append((probe, _effect(before, moved, ranking, index, intent) if moved else unchanged))
            continue
        changed = _apply(probe, work, base, kb)
        new_intent = intent
        if not changed.isdisjoint(intent_reads):
            work["plan.intent"] = None  # intent rules run before the intent is known
            new_intent = index.intents[index.intent_of(work)]  # `engine.decide_intent`, compiled
            work["plan.intent"] = new_intent
            if new_intent != intent:
                changed.add("plan.intent")
        moved = {}
        for i in movable.options(changed):
            now = deciders[i](work)
            if now != before[i]:
                moved[i] = now
        if moved:
            effect = _effect(before, moved, ranking, index, new_intent)
        elif new_intent == intent:
            effect = unchanged
        else:
            effect = Effect(new_intent, (), (), ())
        entries.append((probe, effect))
        for fact in changed:
            work[fact] = base[fact]
    return entries


def _apply(probe: Probe, work: Facts, base: Facts, kb: KnowledgeBase) -> set[str]:
    """Write the probe's facts into `work` (a copy of `base`); return the names of those that differ."""
    if probe.patch is not None:
        fact, value = probe.patch
        work[fact] = value
        return {fact}
    assert probe.edit is not None
    part = part_facts(probe.origin, *probe.edit, kb.resistance_class, kb.drug_classes)
    names = tuple(part)
    read = _READERS.get(names)
    if read is None:
        read = itemgetter(*names) if len(names) > 1 else lambda f: (f[names[0]],)
        if len(_READERS) < 1000:  # bounded all the same
            _READERS[names] = read
    changed = set(compress(names, map(ne, read(base), part.values())))  # `{k for k, v in ... if base[k] != v}`,
    for k in changed:  # in C: a part has ~20-50 facts
        work[k] = part[k]
    return changed


# Per tuple of a part's fact names (a few shapes: one per part and its lesion sites), the getter of their values.
_READERS: dict[tuple[str, ...], Callable[[Facts], tuple[Any, ...]]] = {}


class _Movable:
    """Which options a change of facts can move, per set of changed facts (computed once per case).

    An option is re-decided when its settings read a changed fact, or when a setting applied and its gates
    read one. Of those, an option kept out by a gate that reads none of the changed facts stays out
    whichever setting applies (gates are the option's, not the setting's), so it is not re-decided."""

    def __init__(self, candidates: tuple[Candidate, ...], index: WhatIfIndex) -> None:
        self.applicable = frozenset([c.position for c in candidates])
        self.blockers = {c.position: c.blockers for c in candidates if c.blockers}
        self.blocked = frozenset(self.blockers)
        self.index = index
        self.known: dict[str | frozenset[str], tuple[int, ...]] = {}
        self.needs: dict[int, frozenset[str]] | None = None  # per option kept out: facts all its blockers read

    def options(self, changed: set[str]) -> tuple[int, ...]:
        if len(changed) == 1:  # most probes change one fact
            (fact,) = changed
            return self.options_one(fact)
        key = frozenset(changed)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self._find(changed)
        return found

    def options_one(self, fact: str) -> tuple[int, ...]:
        """`options({fact})`."""
        found = self.known.get(fact)
        if found is None:
            found = self.known[fact] = self._find_one(fact)
        return found

    def _find_one(self, fact: str) -> tuple[int, ...]:
        """`_find` for one changed fact, in one pass over the index's readers of it (in knowledge order): an
        option kept out is re-decided only if every gate keeping it out reads the fact."""
        needs = self.needs
        if needs is None:
            needs = self.needs = {i: frozenset.intersection(*reads) for i, reads in self.blockers.items()}
        applicable = self.applicable
        return tuple(
            [
                i
                for i, by_settings in self.index.readers.get(fact, ())
                if (by_settings or i in applicable) and (i not in needs or fact in needs[i])
            ]
        )

    def _find(self, changed: set[str]) -> tuple[int, ...]:
        """Set operations in C over the index's readers of each fact, then the few options kept out by a
        gate are checked one by one (knowledge order is index order, so sorting restores it)."""
        setting_readers, gate_readers, applicable = self.index.setting_readers, self.index.gate_readers, self.applicable
        touched: set[int] = set()
        for f in changed:
            touched |= setting_readers.get(f, _NONE)
            touched |= gate_readers.get(f, _NONE) & applicable
        kept_out = touched & self.blocked
        if kept_out:
            blockers = self.blockers
            touched -= {i for i in kept_out if any(changed.isdisjoint(reads) for reads in blockers[i])}
        return tuple(sorted(touched))


_NONE: frozenset[int] = frozenset()


def _effect(before: list[int], moved: dict[int, int], ranking: list[int], index: WhatIfIndex, intent: str) -> Effect:
    """How a change moves the plan (options added, removed, re-ranked; intent; top option). `moved` holds
    the options whose decision changed, in knowledge order; every other option is as before."""
    added: list[str] = []
    removed: list[str] = []
    reranked: list[str] = []
    ids, rank = index.option_ids, index.rank
    for i, now in moved.items():
        was = before[i]
        if now < 0:
            if was >= 0:
                removed.append(ids[i])
        elif was < 0:
            added.append(ids[i])
        elif rank[i][was] != rank[i][now]:
            reranked.append(ids[i])
    a, r, k = tuple(added), tuple(removed), tuple(reranked)
    if not (a or r or k):
        return Effect(intent, a, r, k)
    offered = [i for i, d in moved.items() if d >= 0]
    best_unmoved = next((i for i in ranking if i not in moved), None)  # the ranking of the rest is unchanged
    if best_unmoved is not None:
        offered.append(best_unmoved)
    if not offered:
        return Effect(intent, a, r, k)
    top = min(offered, key=lambda i: rank[i][moved.get(i, before[i])])
    if ranking and top == ranking[0]:
        return Effect(intent, a, r, k)
    return Effect(intent, a, r, k, ids[top], index.words[top][moved.get(top, before[top])])


def _merge(entries: list[tuple[Probe, Effect]]) -> list[tuple[Probe, Effect]]:
    """Merge neighbouring ranges of one integer field, and values of one other field, with the same effect."""
    out: list[tuple[Probe, Effect]] = []
    for probe, effect in entries:
        prev = out[-1][0] if out else None
        if (
            prev is not None
            and prev.span is not None
            and probe.span is not None
            and prev.fact == probe.fact
            and prev.span[1] + 1 == probe.span[0]
            and out[-1][1] == effect
        ):
            span = (prev.span[0], probe.span[1], probe.span[2])
            out[-1] = (prev._replace(condition=range_text(probe.fact, *span), span=span), effect)
            continue
        same = None
        if probe.span is None:  # other values of the same field with the same effect: one entry
            same = next(
                (i for i, (p, e) in enumerate(out) if p.fact == probe.fact and p.span is None and e == effect), None
            )
        if same is None:
            out.append((probe, effect))
        else:
            first = out[same][0]
            value = probe.condition.split(" = ", 1)[1]
            out[same] = (first._replace(condition=f"{first.condition} or {value}"), effect)
    return out


def _titles(ids: tuple[str, ...], index: WhatIfIndex, limit: int = 3) -> str:
    names = [index.titles[i] for i in ids[:limit]]
    if len(ids) > limit:
        names.append(f"{len(ids) - limit} more")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sentence(effect: Effect, index: WhatIfIndex, old_intent: str) -> str:
    parts = []
    if effect.intent != old_intent:
        parts.append(f"the treatment intent becomes {effect.intent}")
    added = effect.added
    if effect.top is not None:
        parts.append(f"{index.titles[effect.top]} becomes the {effect.top_words} option ranked first")
        added = tuple(a for a in added if a != effect.top)
    if added:
        parts.append(f"{_titles(added, index)} would {'also ' if effect.top else ''}be offered")
    if effect.removed:
        parts.append(f"{_titles(effect.removed, index)} would no longer be offered")
    if effect.reranked:
        parts.append(f"{_titles(effect.reranked, index)} would change rank")
    text = "; ".join(parts) or "the options stay the same"
    return text[0].upper() + text[1:] + "."


def _ordered(entries: list[tuple[Probe, Effect]], index: WhatIfIndex, intent: str) -> tuple[Change, ...]:
    """Fields with the biggest effect first; within a field, its values by effect."""
    weight: dict[str, int] = {}
    first: dict[str, int] = {}
    sizes = [effect.size for _, effect in entries]
    for i, (probe, effect) in enumerate(entries):
        weight[probe.fact] = max(weight.get(probe.fact, 0), sizes[i] + (effect.intent != intent))
        first.setdefault(probe.fact, i)
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (-weight[entries[i][0].fact], first[entries[i][0].fact], -sizes[i], i),
    )
    sentences = index.sentences
    out = []
    for i in ranked:
        probe, effect = entries[i]
        key = (effect, intent)
        then = sentences.get(key)
        if then is None:
            then = sentences.put(key, _sentence(effect, index, intent))
        out.append(Change(probe.condition, then, probe.fact, effect.added, effect.removed, effect.reranked))
    return tuple(out)
