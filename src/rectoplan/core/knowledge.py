"""The knowledge base as typed, immutable data: what the engine evaluates and the linter checks.

Built only by `rectoplan.kb.loader` from the YAML files; the engine never sees YAML. Conditions are
already parsed and type-checked here, and option-level gates are already bound to each option.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rectoplan.core.conditions import Compiled, Condition
from rectoplan.core.schema import FactType

OnUnknown = Literal["hold", "warn", "ignore"]


# Kinds of primary reference a clinician can open, and the two kinds that are not (the brief is internal
# provenance only; a seed is a patient page, shown by publisher and title with its quote).
PRIMARY_KINDS = ("trial", "label", "guideline", "review")


@dataclass(frozen=True, slots=True)
class Source:
    """One entry of the reference registry (`sources.yaml`), with its citation as people write it."""

    id: str
    kind: str  # trial | label | guideline | review | seed (a patient page) | brief (internal provenance)
    ref: str  # a seed's file name or the brief's path (checks only, never shown); "" for primary sources
    title: str
    label: str = ""  # "KEYNOTE-177 (André et al., N Engl J Med 2020)"
    url: str = ""  # PubMed, DOI or label URL; "" when none is confirmed
    unconfirmed: bool = False  # an identifier could not be confirmed: cited without it
    identifiers: tuple[tuple[str, str], ...] = ()  # (pmid|doi|nct, value), for lint and review

    @property
    def primary(self) -> bool:
        return self.kind in PRIMARY_KINDS


@dataclass(frozen=True, slots=True)
class Citation:
    """A reference as cited by one rule: a registry source, perhaps with a short verbatim quote.

    Brief entries (`entry`: S-xx, C-xx, Q-xx, G-x, §n.n) are internal provenance: they go to the trace,
    never to what users read. Field order is kept (source, ref, quote, entry) for older callers.
    """

    source: str
    ref: str
    quote: str = ""
    entry: str = ""
    label: str = ""
    url: str = ""
    kind: str = ""

    @property
    def shown(self) -> bool:
        """Whether users see it: every registry reference except the internal brief."""
        return not self.entry and self.kind != "brief" and self.source != "brief"

    @property
    def primary(self) -> bool:
        return self.kind in PRIMARY_KINDS

    def to_dict(self) -> dict[str, Any]:
        """`{"id", "label", "url", "quote"?}`; `ref` repeats the label for readers not yet updated."""
        label = f"{self.source} {self.entry}" if self.entry else (self.label or self.ref)
        out: dict[str, Any] = {"id": self.source, "label": label, "url": self.url or None}
        if self.quote:
            out["quote"] = self.quote
        out["ref"] = label
        return out


@dataclass(frozen=True, slots=True)
class Setting:
    """One row of an option's decision table: in this situation, with this strength, for this reason."""

    id: str
    when: Condition
    phase: str
    strength: str
    priority: int
    intent: str | None
    because: str
    cite: tuple[Citation, ...]
    check: Compiled = field(compare=False, repr=False)
    reads: tuple[str, ...] = ()
    # Presentation, precomputed at load time: facts shown in the rationale, citations of option + setting.
    shown_facts: tuple[str, ...] = ()
    base_cite: tuple[Citation, ...] = ()
    shown_values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(
        default=lambda f: (), compare=False, repr=False
    )
    evidence: str = ""  # an id of the evidence scheme (evidence.yaml)
    evidence_label: str = ""
    regulatory: str | None = None
    # A row the loader made from a warning that `lowers` (kb/_loader_lowering.py): `when` is all of `lowered_by` and
    # the option's row at index `lowers_row`; compilers may test that row once and these conditions on top.
    lowers_row: int = -1
    lowered_by: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class Gate:
    """A requirement (indication) or an exclusion (contraindication) bound to one option.

    `requires`: false -> not applicable (silent); unknown -> per `on_unknown`.
    `excludes`: true -> excluded with `reason`; unknown -> per `on_unknown`.
    """

    id: str
    effect: Literal["requires", "excludes"]
    when: Condition
    reason: str
    unknown: str
    on_unknown: OnUnknown
    test: str | None
    cite: tuple[Citation, ...]
    check: Compiled = field(compare=False, repr=False)
    reads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Caution:
    """A warning or note attached to an option (or to the whole recommendation when global)."""

    id: str
    when: Condition
    text: str
    unknown: str
    severity: Literal["warning", "note"]
    cite: tuple[Citation, ...]
    check: Compiled = field(compare=False, repr=False)
    patient: str = ""  # the warning in plain words for the handout; empty: the handout gives a generic note
    continuation: str = ""  # a running-line warning's own first sentence of the plan (`continuation.py`)


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    title: str
    kind: str
    components: tuple[str, ...]
    tags: tuple[str, ...]
    patient: str
    details: str
    cite: tuple[Citation, ...]
    settings: tuple[Setting, ...]
    gates: tuple[Gate, ...]
    cautions: tuple[Caution, ...]
    glossary_terms: tuple[str, ...]
    order: int


@dataclass(frozen=True, slots=True)
class IntentRule:
    id: str
    intent: str
    when: Condition
    because: str
    patient: str
    cite: tuple[Citation, ...]
    check: Compiled = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TestRule:
    id: str
    test: str
    when: Condition
    why: str
    cite: tuple[Citation, ...]
    check: Compiled = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class GlossaryTerm:
    term: str
    forms: tuple[str, ...]
    definition: str
    cite: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Drug:
    id: str
    display: str
    classes: tuple[str, ...]
    resistance_class: str | None
    cite: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Term:
    """A procedure, test or tag of the vocabulary."""

    id: str
    display: str
    cite: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    drugs: dict[str, Drug]
    procedures: dict[str, Term]
    tests: dict[str, Term]
    tags: dict[str, Term]
    drug_classes: tuple[str, ...]

    def display(self, ident: str) -> str:
        for table in (self.drugs, self.procedures, self.tests, self.tags):
            if ident in table:
                return table[ident].display
        return ident


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    version: str
    date: str
    title: str
    disclaimer: str
    sources: dict[str, Source]
    vocabulary: Vocabulary
    schema: dict[str, FactType]
    glossary: dict[str, GlossaryTerm]
    intents: tuple[IntentRule, ...]
    options: tuple[Option, ...]
    global_cautions: tuple[Caution, ...]
    test_rules: tuple[TestRule, ...]
    resistance_class: dict[str, str]
    drug_classes: dict[str, tuple[str, ...]]
    evidence_levels: dict[str, str] = field(default_factory=dict)  # the declared scheme: id -> label
    raw_gates: tuple[tuple[Condition, Gate], ...] = ()  # class-wide gates with their applies_to, for lint/verify
    raw_cautions: tuple[tuple[Condition, Caution], ...] = ()
    # One shared 'not applicable' outcome per option: the fast path (the engine compiles its own plan,
    # `engine._compile_plan`, on first use).
    idle_outcomes: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    # No caches here: what the engine derives for speed lives in the core's own caches (core/_cache.py).

    def option(self, option_id: str) -> Option:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)
