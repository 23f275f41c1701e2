"""What the cohort layer builds from a knowledge base and keeps between runs: a typed, bounded cache it owns.

Compiling the plan for the embedded engines and building its Polars expressions take about 0.3 s; a
process that runs several cohorts (the benchmark, `--compare-kb`, a service) should pay that once per
knowledge base, not once per run. The entries are looked up by the identity of the object they were built
from (`is`), and the cache holds that object for as long as it keeps the entry, so an entry can never be
found for another object that happens to reuse an address (which an `id(...)` key would allow). The
knowledge base itself stays a pure, frozen value: nothing is written into it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rectoplan.compile import ir
from rectoplan.compile.case_columns import RawType
from rectoplan.compile.collect import (
    Keyed,
    Packed,
    Table,
    code_tables,
    code_widths,
    narrow_keys,
    pack_outputs,
    split_by_codes,
)
from rectoplan.compile.plan import compile_plan, input_stages
from rectoplan.core.knowledge import KnowledgeBase

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """At most `size` values, each kept with the object it was built from and found by identity; the least
    recently used goes first. Thread-safe: a value is built at most once per key at a time (under a lock;
    builds are rare and short next to the runs they serve)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an IdentityCache holds at least one entry")
        self.size = size
        self._entries: list[tuple[K, V]] = []
        self._lock = threading.RLock()

    def get(self, key: K, build: Callable[[], V]) -> V:
        """The value kept for `key`, or `build()` kept for it now."""
        with self._lock:
            for i, (k, v) in enumerate(self._entries):
                if k is key:
                    if i != len(self._entries) - 1:
                        self._entries.append(self._entries.pop(i))
                    return v
            value = build()
            self._entries.append((key, value))
            if len(self._entries) > self.size:
                del self._entries[0]
            return value

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return any(k is key for k, _ in self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class BoundedCache(Generic[K, V]):
    """At most `size` values found by an equal, hashable key (such as the column types of an input); the
    least recently used goes first. Thread-safe like `IdentityCache`."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a BoundedCache holds at least one entry")
        self.size = size
        self._entries: dict[K, V] = {}
        self._lock = threading.RLock()

    def get(self, key: K, build: Callable[[], V]) -> V:
        with self._lock:
            value = self._entries.pop(key) if key in self._entries else build()
            self._entries[key] = value
            while len(self._entries) > self.size:
                del self._entries[next(iter(self._entries))]
            return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


Stage = Sequence[tuple[str, ir.Expr]]
InputKey = tuple[tuple[str, RawType], ...]  # how each input column is stored, sorted by name


@dataclass(frozen=True, eq=False)
class LocalPlan:
    """The knowledge base compiled for the embedded engines, with what is built from it on demand.

    `before` are the plan's stages up to the option codes, `packing` computes per row the result words that
    need more than the codes (and the codes' key words), `keyed` the words that the codes alone decide (once
    per distinct combination of codes), `per_row` every result word per row (for engines that do not key),
    `packed` says which words hold which result list, `plain` names the outputs kept as they are (the
    intent) and `tables` gives the keyed words as look-ups by code, when they are of that form. The same
    stage objects serve every run, so what an engine builds from a stage is kept by identity in `exprs`
    (Polars expressions, about 0.1 s a plan) and the input stages per storage of the input columns in
    `inputs`."""

    kb: KnowledgeBase
    before: tuple[Stage, ...]
    packing: tuple[Stage, ...]
    keyed: Keyed | None
    per_row: tuple[Stage, ...]
    packed: tuple[Packed, ...]
    plain: tuple[str, ...]
    tables: Lookups | None = None  # the keyed words as look-ups by code (`collect.code_tables`)
    inputs: BoundedCache[InputKey, tuple[Stage, Stage]] = field(default_factory=lambda: BoundedCache(16))
    exprs: IdentityCache[Stage, list[Any]] = field(default_factory=lambda: IdentityCache(64))

    def input_stages(self, raw: Mapping[str, RawType]) -> tuple[Stage, Stage]:
        """The stages that read the input columns as stored (list columns, then scalars and `_clean`)."""
        return self.inputs.get(tuple(sorted(raw.items())), lambda: input_stages(self.kb, raw))

    def keys_for(self, engine: str) -> bool:
        """Whether `engine` works out the words the codes decide once per distinct combination of codes.

        Polars does (on 1M registry rows: 41,000 combinations, 0.05 s for their words). DuckDB plans the SQL of
        every query anew, and the words' SQL alone took 0.6 s to plan and run over those 41,000 rows: it
        works out every word per row, in its one query, as before."""
        return self.keyed is not None and engine == "polars"

    def row_stages(self, keyed: bool) -> tuple[tuple[Stage, ...], tuple[str, ...]]:
        """(the stages after `before` evaluated per row, the columns of theirs the evaluation keeps)."""
        stages = self.packing if keyed else self.per_row
        return stages, tuple(name for stage in stages for name, _ in stage if name not in self.plain)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Every stage an engine builds expressions for: the per-row ones and the keyed words."""
        return (*self.before, *self.packing, *((self.keyed.stage,) if self.keyed else ()))


Lookups = tuple[tuple[tuple[str, Any], ...], ...]  # per keyed word: (code column, numpy array by code value)


def _lookups(tables: tuple[Table, ...] | None) -> Lookups | None:
    """`collect.code_tables` as numpy arrays, made once per plan (not once per run)."""
    import numpy as np

    if tables is None:
        return None
    return tuple(tuple((column, np.asarray(bits, np.int64)) for column, bits in word) for word in tables)


def _build(kb: KnowledgeBase) -> LocalPlan:
    plan = compile_plan(kb)
    *before, outputs = plan.stages
    (words,), packed, plain = pack_outputs(outputs)
    codes = [name for _, name in plan.codes]
    per_row, keyed = split_by_codes(words, codes)
    columns = {name: expr for stage in plan.stages for name, expr in stage}
    per_row, keyed = narrow_keys(per_row, keyed, code_widths(columns, codes))
    tables = _lookups(code_tables(keyed)) if keyed is not None else None
    return LocalPlan(kb, tuple(before), (tuple(per_row),), keyed, (tuple(words),), tuple(packed), tuple(plain), tables)


# A process rarely holds more than two knowledge bases at once (`--compare-kb`: the current and the old).
_PLANS: IdentityCache[KnowledgeBase, LocalPlan] = IdentityCache(4)


def local_plan(kb: KnowledgeBase) -> LocalPlan:
    """The plan of `kb` for the embedded engines, compiled once and kept while `kb` is among the last few
    knowledge bases used."""
    return _PLANS.get(kb, lambda: _build(kb))
