"""What 'what would change the plan' needs to know of a knowledge base, built once and cached.

Which options read which facts (so a probe re-decides only the options it can move), the thresholds of
integer facts (so a range of values is probed once), the ranking key of every setting, and one compiled
`decide(facts)` per option (`rectoplan.core.plan.compile_deciders`). Pure functions of the knowledge
base; kept in the core's caches (`rectoplan.core._cache`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rectoplan.core._cache import Bounded, caches_for
from rectoplan.core.case import SITES
from rectoplan.core.conditions import Condition, facts_read, literals
from rectoplan.core.fields import DECLARED, DeclaredField
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.plan import compile_deciders, compile_first_true
from rectoplan.core.schema import STRENGTHS

INT_RANGE = {"age": (18, 120), "ecog": (0, 4), "health.days_since_major_surgery": (0, 36500)}
# A HER2 test result also sets HER2 status: probing HER2 status itself covers it. The patient's wishes and
# comorbidities are what the team records when present; their absence is "not recorded", and listing
# "if the patient declined chemotherapy" under every plan would bury the tests and waits that matter.
# The treatment history is the past, not a test to order: of its facts only the time on an ongoing line
# (a wait: maintenance after 4-6 months of induction) is probed.
NOT_PROBED = frozenset({"biomarkers.her2_result"})
ON_LINE = "prior.months_on_current_line"
# Growth since the last line stopped is learnt by restaging, as a test result is (tenth review, v01): probed
# when the last line stopped without progression (`_probes._declared_probes`).
SINCE_LAST = "prior.progressed_since_last_line"

_PHASE_WORDS = {"first_line": "first-line", "second_line": "second-line", "later_line": "later-line", "any": ""}

Rank = tuple[int, int, int]  # (strength, priority, option order): lower ranks first


@dataclass(frozen=True, slots=True)
class WhatIfIndex:
    """Per knowledge base. Options are named by their index in `kb.options`."""

    option_ids: tuple[str, ...]
    titles: Mapping[str, str]
    by_settings: Mapping[str, tuple[int, ...]]  # fact -> options whose settings read it
    by_gates_only: Mapping[str, tuple[int, ...]]  # fact -> options whose gates, and not settings, read it
    readers: Mapping[str, tuple[tuple[int, bool], ...]]  # fact -> (option, read by its settings), in order
    setting_readers: Mapping[str, frozenset[int]]  # `by_settings` as sets (what-if's `_Movable` intersects them)
    gate_readers: Mapping[str, frozenset[int]]  # `by_gates_only` as sets
    intent_reads: frozenset[str]
    thresholds: Mapping[str, frozenset[int]]
    surgeries_named: tuple[str, ...]  # procedures a setting or gate names for prior.surgeries, sorted
    declared: tuple[DeclaredField, ...]  # the declared fields worth probing (biomarkers; time on a line)
    rank: tuple[tuple[Rank, ...], ...]  # per option, per setting
    words: tuple[tuple[str, ...], ...]  # per option, per setting: "preferred first-line" (what-if's words)
    deciders: tuple[Callable[[Mapping[str, Any]], int], ...]  # per option: offered setting index or -1
    intent_of: Callable[[Mapping[str, Any]], int]  # the index in `intents` of the intent rule that decides
    intents: tuple[str, ...]  # per intent rule, the intent it gives
    # What-if's sentence of an effect met with a case's intent (`whatif._ordered`): a few hundred effects
    # recur across cases, so each text is written once. Filled as cases come; bounded.
    sentences: Bounded[tuple[Any, str], str] = field(default_factory=lambda: Bounded(20_000), compare=False)


def whatif_index(kb: KnowledgeBase) -> WhatIfIndex:
    """The index of `kb`, built on first use."""
    once = caches_for(kb).once
    index: WhatIfIndex | None = once.get("whatif-index")
    if index is None:
        index = once["whatif-index"] = _build(kb)
    return index


def _build(kb: KnowledgeBase) -> WhatIfIndex:
    by_settings: dict[str, list[int]] = {}
    by_gates_only: dict[str, list[int]] = {}
    for i, option in enumerate(kb.options):
        seen: set[str] = set()
        for s in option.settings:
            seen.update(s.reads)
        for fact in sorted(seen):
            by_settings.setdefault(fact, []).append(i)
        gate_facts = {fact for g in option.gates for fact in g.reads if fact not in seen}
        for fact in sorted(gate_facts):
            by_gates_only.setdefault(fact, []).append(i)
    intent_reads = frozenset(f for rule in kb.intents for f in facts_read(rule.when))
    read = {*by_settings, *by_gates_only, *intent_reads}
    strength = {s: i for i, s in enumerate(STRENGTHS)}
    rules = tuple(
        (
            tuple(s.when for s in o.settings),
            tuple((g.when, g.effect == "requires", g.on_unknown == "hold") for g in o.gates),
        )
        for o in kb.options
    )
    return WhatIfIndex(
        option_ids=tuple(o.id for o in kb.options),
        titles={o.id: o.title for o in kb.options},
        by_settings={f: tuple(v) for f, v in by_settings.items()},
        by_gates_only={f: tuple(v) for f, v in by_gates_only.items()},
        readers={
            f: tuple(
                sorted([(i, True) for i in by_settings.get(f, ())] + [(i, False) for i in by_gates_only.get(f, ())])
            )
            for f in {*by_settings, *by_gates_only}
        },
        setting_readers={f: frozenset(v) for f, v in by_settings.items()},
        gate_readers={f: frozenset(v) for f, v in by_gates_only.items()},
        intent_reads=intent_reads,
        thresholds=_all_thresholds(kb),
        surgeries_named=_surgeries_named(kb),
        declared=tuple(
            f
            for f in DECLARED
            if (f.fact.startswith("biomarkers.") or f.fact in (ON_LINE, SINCE_LAST))
            and f.fact not in NOT_PROBED
            and f.fact in read
        ),
        rank=tuple(tuple((strength[s.strength], s.priority, o.order) for s in o.settings) for o in kb.options),
        words=tuple(tuple(_words(s.strength, s.phase) for s in o.settings) for o in kb.options),
        deciders=compile_deciders(rules),
        intent_of=compile_first_true(tuple(rule.when for rule in kb.intents)),
        intents=tuple(rule.intent for rule in kb.intents),
    )


def _thresholds(kb: KnowledgeBase, facts: Iterable[str]) -> dict[str, set[int]]:
    """Values at which a rule's answer about an integer fact can change (for every literal v: v and v+1)."""
    wanted = set(facts)
    found: dict[str, set[int]] = {f: set() for f in wanted}
    unique: dict[int, Condition] = {id(r.when): r.when for r in kb.intents}  # gates are shared: walk once
    for option in kb.options:
        for s in option.settings:
            if not wanted.isdisjoint(s.reads):
                unique[id(s.when)] = s.when
        for g in option.gates:
            if not wanted.isdisjoint(g.reads):
                unique[id(g.when)] = g.when
    for cond in unique.values():
        for fact, value in literals(cond):
            if fact in wanted and isinstance(value, int) and not isinstance(value, bool):
                found[fact] |= {value, value + 1}
    return found


def _all_thresholds(kb: KnowledgeBase) -> dict[str, frozenset[int]]:
    """The thresholds of every integer field a probe can range over."""
    wide = [name for name in INT_RANGE if name != "ecog"]  # ECOG's five values are simply all probed
    wide += [f.fact for f in DECLARED if f.kind == "int"]
    sites = [f"metastases.{site}.{key}" for site in SITES for key in ("count", "largest_mm")]
    found = {f: frozenset(v) for f, v in _thresholds(kb, [*wide, *sites, "metastases.total_count"]).items()}
    found["ecog"] = frozenset(range(5))
    return found


def _surgeries_named(kb: KnowledgeBase) -> tuple[str, ...]:
    rules = [r.when for o in kb.options for r in o.settings if "prior.surgeries" in r.reads]
    rules += [r.when for o in kb.options for r in o.gates if "prior.surgeries" in r.reads]
    return tuple(sorted({v for when in rules for f, v in literals(when) if f == "prior.surgeries"}))


def _words(strength: str, phase: str) -> str:
    """How what-if names a setting that would rank first: "preferred", not "preferred any"."""
    shown = _PHASE_WORDS.get(phase, phase.replace("_", " "))
    return f"{strength} {shown}" if shown else strength
