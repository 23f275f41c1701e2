"""The core's caches: typed, bounded, owned by the core and invisible to its callers.

Why they exist: an option's outcome and its rendered words are pure functions of the compiled plan's
result for that option, and many cases share those results; recomputing them is most of the cost of a
recommendation. Why they live here and not in the `KnowledgeBase`: the knowledge base is immutable data;
what the engine derives from it for speed is the engine's business. Results never depend on a cache:
an empty cache gives the same recommendation, only slower (`tests/test_core_cache.py`).

Each knowledge base gets its own `CoreCaches`, found through `caches_for(kb)`. Knowledge bases are
neither hashable (they hold dicts) nor weakly referenceable, so the registry is keyed by identity and
every entry holds its knowledge base: an object is alive while its entry exists, so its identity cannot
be reused for another knowledge base while it is a key. The registry keeps the last `KNOWLEDGE_BASES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from rectoplan.core.knowledge import Citation, KnowledgeBase
    from rectoplan.core.recommendation import CitedNote, Cites, TestNeeded
    from rectoplan.core.trace import Candidate

K = TypeVar("K")
V = TypeVar("V")

Fired = tuple[tuple[Any, ...], tuple[Any, ...]]  # rules whose condition holds; unknown ones that say so

KNOWLEDGE_BASES = 4  # knowledge bases whose caches are kept at once (a process normally has one)


class Bounded(dict[K, V]):
    """A dictionary with a declared size: `put` drops the older half of the entries when it is full.

    Reads are plain dictionary reads (`get`, in C: a lookup is on the engine's hot path); writes go
    through `put`, which keeps the bound. Dropping half at once keeps an insertion O(1) amortised and
    keeps the entries most recently added, which a stream of similar cases is most likely to meet again."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        if limit < 2:
            raise ValueError("a bounded cache holds at least 2 entries")
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        """Store and return `value`."""
        if len(self) >= self.limit:
            for old in list(islice(self, self.limit // 2)):
                self.pop(old, None)  # not `del`: another thread may have dropped it first
        self[key] = value
        return value


class Made(Bounded[K, V]):
    """A `Bounded` cache that makes what it lacks: `cache[key]` calls `make(key)` (which stores it) on a
    miss. So a list of keys is looked up in C (`map(cache.__getitem__, keys)`), with no test per key for
    a miss and no Python loop unless one occurs."""

    __slots__ = ("make",)

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.make: Callable[[K], V] | None = None

    def __missing__(self, key: K) -> V:
        if self.make is None:
            raise KeyError(key)
        return self.make(key)


@dataclass(slots=True)
class CoreCaches:
    """Everything the core derives from one knowledge base for speed, each cache with its bound.

    - `outcomes`: plan candidate key (option index, setting index, gate and caution results) -> the
      option's `Candidate` (its outcome, its case-independent rendered part, what what-if needs of it);
      see `engine.assess`.
    - `parts`: what is derived from an excluded or held outcome (rendered part, blocking facts), under the
      ids of the rules that decide it: many plan results share one (see `explain.candidate`).
    - `facts_used`: (the facts a setting shows, by number, or its id; their values) -> the trace's 'facts used'.
    - `tests`: (fired test rules, held candidates) -> the tests needed.
    - `test_parts`: (test, ids of the rules and gates asking for it) -> its `TestNeeded`, shared by every
      list of tests needed that holds it (`explain._tests_shared`).
    - `tests_fired`, `cautions_fired`: the plan's results of the test rules (of the global cautions) ->
      the rules whose condition holds, and those unknown that say so (see `engine.assess`).
    - `once`: what is built once per knowledge base, by name: the engine's compiled plan and its layouts
      (`engine._compile_plan`), what-if's index of rule readers, thresholds and compiled deciders, what an
      offered option's template takes from its setting and from each rule that warns, by the rule's id
      (`explain._offered_candidate`), the facts each gate reads as one shared set (`explain._derived`),
      the glossary's pairs, which test rules and global cautions speak when unknown (`engine._fired`);
      a fixed handful
      of entries, each bounded by the size of the knowledge base, so not bounded.
    """

    outcomes: Made[tuple[Any, ...], Candidate] = field(default_factory=lambda: Made(100_000))
    parts: Bounded[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=lambda: Bounded(50_000))
    facts_used: Bounded[tuple[Any, ...], dict[str, str]] = field(default_factory=lambda: Bounded(50_000))
    tests: Bounded[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=lambda: Bounded(20_000))
    test_parts: Bounded[tuple[Any, ...], TestNeeded] = field(default_factory=lambda: Bounded(20_000))
    tests_fired: Bounded[tuple[Any, ...], Fired] = field(default_factory=lambda: Bounded(10_000))
    cautions_fired: Bounded[tuple[Any, ...], Fired] = field(default_factory=lambda: Bounded(10_000))
    once: dict[str, Any] = field(default_factory=dict)

    def clear(self) -> None:
        self.outcomes.clear()
        self.parts.clear()
        self.facts_used.clear()
        self.tests.clear()
        self.test_parts.clear()
        self.tests_fired.clear()
        self.cautions_fired.clear()
        self.once.clear()


# One shared `Cites` per list of citations (_parts.py): the words users read of a list are computed once
# and kept on it (`rectoplan.core.recommendation.Cites`). Independent of the knowledge base: equal
# citations are the same references whichever knowledge base cites them.
# Keyed by the identities of the citations' canonical objects (`CANONICAL`), which the `Cites` holds: equal
# contents, equal keys, without hashing a citation (a dataclass of seven strings, hashed in Python).
CITES: Bounded[tuple[int, ...], Cites] = Bounded(20_000)
# Each citation object met, by identity -> (the object, the first object met with its content): one hash of
# a citation per object, not per list that cites it. Each entry holds its object, so its id names no other.
CANONICAL: Bounded[int, tuple[Citation, Citation]] = Bounded(50_000)
BY_CONTENT: Bounded[Citation, Citation] = Bounded(50_000)
# The same, found by the identities of the citations given (before removing repeats): each entry holds the
# citations it was made from, so their ids name no other objects while it exists (explain._unique checks).
CITES_BY_ID: Bounded[tuple[int, ...], tuple[tuple[Citation, ...], Cites]] = Bounded(20_000)
# A warning or note with its references, one object per content: many offered options' templates carry the
# same ones, and fewer long-lived objects make the collector's full walks shorter.
NOTES: Bounded[tuple[str, str, Cites], CitedNote] = Bounded(20_000)

_REGISTRY: dict[int, tuple[KnowledgeBase, CoreCaches]] = {}


def caches_for(kb: KnowledgeBase) -> CoreCaches:
    """The caches of `kb`, made on first use (the entry holds `kb`, see the module docstring)."""
    entry = _REGISTRY.get(id(kb))
    if entry is not None and entry[0] is kb:
        return entry[1]
    if len(_REGISTRY) >= KNOWLEDGE_BASES:
        del _REGISTRY[next(iter(_REGISTRY))]
    caches = CoreCaches()
    _REGISTRY[id(kb)] = (kb, caches)
    return caches


def forget(kb: KnowledgeBase) -> None:
    """Drop the caches of `kb` (tests use it to show results do not depend on them)."""
    entry = _REGISTRY.get(id(kb))
    if entry is not None and entry[0] is kb:
        del _REGISTRY[id(kb)]
