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


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    kind: str  # seed | brief
    ref: str  # file name of a seed, or the path of the brief
    title: str


@dataclass(frozen=True, slots=True)
class Citation:
    """A seed quote (verbatim, short) or an entry of the brief (S-xx, C-xx, Q-xx, G-x, §n.n)."""

    source: str
    ref: str
    quote: str = ""
    entry: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"ref": self.ref if not self.entry else f"{self.ref}#{self.entry}"}
        if self.quote:
            out["quote"] = self.quote
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
    raw_gates: tuple[tuple[Condition, Gate], ...] = ()  # class-wide gates with their applies_to, for lint/verify
    raw_cautions: tuple[tuple[Condition, Caution], ...] = ()
    # The compiled plan (core/plan.py) and one shared 'not applicable' outcome per option: the fast path.
    plan: Callable[[Mapping[str, Any]], Any] = field(default=lambda f: None, compare=False, repr=False)
    plan_source: str = field(default="", compare=False, repr=False)
    idle_outcomes: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    # Memo of pure functions of (option, plan result): outcomes and their rendered parts. Bounded by the
    # engine; it changes speed only, never results.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def option(self, option_id: str) -> Option:
        for opt in self.options:
            if opt.id == option_id:
                return opt
        raise KeyError(option_id)
