"""The only reader of knowledge files: YAML in, a checked, immutable `KnowledgeBase` out.

Structure is validated with pydantic (unknown keys are errors), every condition is parsed and
type-checked against the fact schema, and option-level gates are bound to each option here, once, so
that the engine's per-case work is as small as possible. All problems are collected and reported
together with the file and the path inside it.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from itertools import combinations
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rectoplan.core.conditions import All, Condition, Const, bind, compile_condition, facts_read, parse
from rectoplan.core.errors import KnowledgeError, Problem, RuleError
from rectoplan.core.facts import fact_schema, option_facts
from rectoplan.core.knowledge import (
    Caution,
    Citation,
    Drug,
    Gate,
    GlossaryTerm,
    IntentRule,
    KnowledgeBase,
    Option,
    Setting,
    Source,
    Term,
    TestRule,
    Vocabulary,
)
from rectoplan.core.schema import INTENTS, KINDS, PHASES, STRENGTHS, FactType
from rectoplan.core.trace import OptionOutcome
from rectoplan.kb import strict_yaml
from rectoplan.kb.models import (
    CautionIn,
    EvidenceIn,
    GateIn,
    GlossaryIn,
    IntentIn,
    ManifestIn,
    OptionIn,
    SettingIn,
    TestRuleIn,
    VocabularyIn,
)
from rectoplan.kb.sources import Cite, SourceIn, identifier_problems, make_source, parse_cite

M = TypeVar("M", bound=BaseModel)
assert set(KINDS) and set(PHASES) and set(STRENGTHS) and set(INTENTS)  # the Literals above mirror these


class _Loader:
    def __init__(self, root: Path | Any) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.sources: dict[str, Source] = {}

    # -- reading ----------------------------------------------------------------------------------
    def read(self, name: str) -> Any:
        node = self.root.joinpath(*name.split("/"))
        try:
            return strict_yaml.load(node.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problems.append(Problem(name, "no such file", "a knowledge file"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(name, f"invalid YAML ({exc})".replace("\n", " "), "valid YAML"))
        return None

    def models(self, name: str, model: type[M], data: Any) -> list[tuple[str, M]]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problems.append(Problem(name, type(data).__name__, "a list of entries"))
            return []
        out = []
        for i, item in enumerate(data):
            where = f"{name}: [{i}]" + (f" {item['id']}" if isinstance(item, dict) and "id" in item else "")
            parsed = self.model(where, model, item)
            if parsed is not None:
                out.append((where, parsed))
        return out

    def model(self, where: str, model: type[M], data: Any) -> M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                found = "nothing" if err["type"] == "missing" else repr(err.get("input"))[:60]
                expected = "no such key" if err["type"] == "extra_forbidden" else str(err["msg"]).lower()
                self.problems.append(Problem(f"{where}.{path}", found, expected))
            return None

    def option_files(self) -> list[str]:
        folder = self.root.joinpath("options")
        return sorted(f"options/{p.name}" for p in folder.iterdir() if p.name.endswith(".yaml"))

    # -- pieces -----------------------------------------------------------------------------------
    def cite(self, where: str, items: Cite) -> tuple[Citation, ...]:
        return parse_cite(where, items, self.sources, self.problems)

    def condition(self, where: str, data: Any, schema: dict[str, FactType]) -> Condition:
        try:
            return parse(data, schema, where)
        except RuleError as exc:
            self.problems.extend(exc.problems)
            return Const(False)


def _glossary_terms(text: str, glossary: dict[str, GlossaryTerm]) -> tuple[str, ...]:
    found = []
    for term in glossary.values():
        forms = term.forms or (term.term,)
        if any(re.search(rf"\b{re.escape(f)}\b", text, re.IGNORECASE) for f in forms):
            found.append(term.term)
    return tuple(found)


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A C-level getter of the named facts, always returning a tuple (itemgetter of one name does not)."""
    if len(names) >= 2:
        return itemgetter(*names)
    if len(names) == 1:
        name = names[0]
        return lambda f: (f[name],)
    return lambda f: ()


def _compiled(cond: Condition) -> Callable[..., Any]:
    return compile_condition(cond)


LOWERED_PRIORITY = 100  # added per level to a lowered row's priority: after the rows of its new strength (< 100)


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of an option's decision table as the loader builds it, before it becomes a `Setting`."""

    id: str
    when: Condition
    strength: str
    priority: int
    because: str
    cite: tuple[Citation, ...]
    raw: SettingIn
    base: str = ""  # a lowered copy: the id of the row it copies
    lowered_by: tuple[Condition, ...] = ()  # a lowered copy: the conditions of the warnings that lower it


def _lowered_rows(row: _Row, lowering: list[tuple[Caution, str]]) -> list[_Row]:
    """The copies of `row` that warnings which `lowers` put ahead of it: one level lower per warning that holds.

    A decision table selects its first true row, so "this row, and the warnings hold" placed before the row
    ranks the option lower exactly while they hold; an unknown warning condition leaves the row as it was
    (it neither lowers nor holds the option back: the warning itself then says what is unknown). A row gets
    copies for two warnings first (both reasons given), then one copy per warning; each is one strength
    lower per warning, down to the lowest (consider), and three or more warnings lower as two do. A copy's
    priority is raised by `LOWERED_PRIORITY` per warning, even where the strength cannot go lower, so that
    a warned option follows the options that hold its strength without the warning (a bevacizumab doublet
    after a stroke comes after the doublets without bevacizumab, in every strength: the eighth review
    found "consider" options with the warning ahead of those without it when copies were made only where
    the strength changed). The engine tests a row once and its copies only when it holds (`core.plan`),
    so the copies cost little (measured: 572 -> 861 rows, the plan's time unchanged within noise).
    Being plain rows, they reach every engine, z3 and what-if without code of their own; a
    copy also names its row and warnings (`Setting.lowers_row`, `lowered_by`) so that a compiler can test
    the row once (the cohort plan does).
    """
    out = []
    level = STRENGTHS.index(row.strength)
    for size in (2, 1):
        for combo in combinations(lowering, size):
            when = bind(All((*(caution.when for caution, _ in combo), row.when)), {})
            if when == Const(False):
                continue
            below = STRENGTHS[min(level + size, len(STRENGTHS) - 1)]
            reasons = "; and ".join(reason.removesuffix(".") for _, reason in combo)
            if below == row.strength:  # at the lowest strength: ranked after the options without the warning
                because = f"{row.because} Ranked after the {below} options without this warning: {reasons}."
            else:
                because = f"{row.because} Ranked {below} rather than {row.strength} here: {reasons}."
            cite = tuple(dict.fromkeys((*row.cite, *(c for caution, _ in combo for c in caution.cite))))
            out.append(
                replace(
                    row,
                    id=row.id + "".join(f"--{caution.id}" for caution, _ in combo),
                    when=when,
                    strength=below,
                    priority=row.priority + LOWERED_PRIORITY * size,
                    because=because,
                    cite=cite,
                    base=row.id,
                    lowered_by=tuple(caution.when for caution, _ in combo),
                )
            )
    return out


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Load and check the knowledge base at `root` (default: the one shipped in the package)."""
    base: Any = root if root is not None else resources.files("rectoplan") / "knowledge"
    if root is not None and not root.is_dir():
        raise KnowledgeError([Problem(str(root), "no such folder", "a knowledge folder (manifest.yaml, ...)")])
    ld = _Loader(base)
    manifest = ld.model("manifest.yaml", ManifestIn, ld.read("manifest.yaml"))
    for w, s in ld.models("sources.yaml", SourceIn, ld.read("sources.yaml")):
        ld.problems += identifier_problems(w, s)
        ld.sources[s.id] = make_source(s)
    levels = {e.id: e.label for _, e in ld.models("evidence.yaml", EvidenceIn, ld.read("evidence.yaml"))}
    vocab_in = ld.model("vocabulary.yaml", VocabularyIn, ld.read("vocabulary.yaml"))
    if manifest is None or vocab_in is None:
        raise KnowledgeError(ld.problems)

    vocab = Vocabulary(
        drugs={
            d.id: Drug(
                d.id,
                d.display,
                tuple(d.classes),
                d.resistance_class,
                ld.cite(f"vocabulary.yaml: {d.id}", d.cite),
            )
            for d in vocab_in.drugs
        },
        procedures={
            t.id: Term(t.id, t.display, ld.cite(f"vocabulary.yaml: {t.id}", t.cite)) for t in vocab_in.procedures
        },
        tests={t.id: Term(t.id, t.display, ld.cite(f"vocabulary.yaml: {t.id}", t.cite)) for t in vocab_in.tests},
        tags={t.id: Term(t.id, t.display, ld.cite(f"vocabulary.yaml: {t.id}", t.cite)) for t in vocab_in.tags},
        drug_classes=tuple(vocab_in.drug_classes),
    )
    resistance = {d.id: d.resistance_class for d in vocab.drugs.values() if d.resistance_class}
    classes = {d.id: d.classes for d in vocab.drugs.values()}

    raw_options: list[tuple[str, OptionIn]] = []
    for name in ld.option_files():
        raw_options += ld.models(name, OptionIn, ld.read(name))
    schema = fact_schema(
        tuple(vocab.drugs),
        tuple(vocab.procedures),
        tuple(sorted(set(resistance.values()))),
        vocab.drug_classes,
        tuple(o.id for _, o in raw_options),
        tuple(vocab.tags),
    )

    glossary = {
        g.term: GlossaryTerm(g.term, tuple(g.forms), g.definition.strip(), ld.cite(w, g.cite))
        for w, g in ld.models("glossary.yaml", GlossaryIn, ld.read("glossary.yaml"))
    }
    intents = tuple(
        IntentRule(
            r.id,
            r.intent,
            c := ld.condition(f"{w}.when", r.when, schema),
            r.because.strip(),
            r.patient.strip(),
            ld.cite(w, r.cite),
            _compiled(c),
        )
        for w, r in ld.models("intent.yaml", IntentIn, ld.read("intent.yaml"))
    )
    tests = tuple(
        TestRule(
            r.id,
            r.test,
            c := ld.condition(f"{w}.when", r.when, schema),
            r.why.strip(),
            ld.cite(w, r.cite),
            _compiled(c),
        )
        for w, r in ld.models("tests.yaml", TestRuleIn, ld.read("tests.yaml"))
    )
    gates = [
        (
            w,
            ld.condition(f"{w}.applies_to", g.applies_to, schema),
            g,
            ld.condition(f"{w}.when", g.when, schema),
        )
        for w, g in ld.models("gates.yaml", GateIn, ld.read("gates.yaml"))
    ]
    cautions = [
        (
            w,
            None if c.applies_to is None else ld.condition(f"{w}.applies_to", c.applies_to, schema),
            c,
            ld.condition(f"{w}.when", c.when, schema),
        )
        for w, c in ld.models("cautions.yaml", CautionIn, ld.read("cautions.yaml"))
    ]
    for w, applies, caution_in, _ in cautions:
        if caution_in.lowers and (applies is None or caution_in.severity != "warning"):
            expected = "only on a warning with applies_to (it lowers the rank of the options it applies to)"
            ld.problems.append(Problem(f"{w}.lowers", repr(caution_in.lowers[:40]), expected))
        if caution_in.continuation and applies is not None:
            expected = "only on a case-level warning (no applies_to): it words the plan for the running line"
            ld.problems.append(Problem(f"{w}.continuation", repr(caution_in.continuation[:40]), expected))

    def make_gate(where: str, g: GateIn, when: Condition, known: dict[str, Any]) -> Gate:
        bound = bind(when, known)
        return Gate(
            g.id,
            g.effect,
            bound,
            g.reason.strip(),
            g.unknown.strip(),
            g.on_unknown,
            g.test,
            ld.cite(where, g.cite),
            _compiled(bound),
            tuple(sorted(facts_read(bound))),
        )

    def make_caution(where: str, c: CautionIn, when: Condition, known: dict[str, Any]) -> Caution:
        bound = bind(when, known)
        return Caution(
            c.id,
            bound,
            c.text.strip(),
            c.unknown.strip(),
            c.severity,
            ld.cite(where, c.cite),
            _compiled(bound),
            c.patient.strip(),
            " ".join(c.continuation.split()),
        )

    options = []
    for order, (where, o) in enumerate(raw_options):
        known = option_facts(o.id, o.kind, o.components, o.tags, vocab.drugs)
        option_cautions: list[Caution] = []
        lowering: list[tuple[Caution, str]] = []
        for cw, caution_applies, caution, caution_when in cautions:
            if caution_applies is not None and bind(caution_applies, known) == Const(True):
                option_cautions.append(made := make_caution(cw, caution, caution_when, known))
                if caution.lowers:
                    lowering.append((made, " ".join(caution.lowers.split())))
        rows: list[_Row] = []
        for i, row in enumerate(o.settings):
            sw = f"{where}.settings[{i}]"
            plain = _Row(
                row.id or f"{o.id}#{i + 1}",
                bind(ld.condition(f"{sw}.when", row.when, schema), known),
                row.strength,
                row.priority,
                row.because.strip(),
                ld.cite(sw, row.cite),
                row,
            )
            rows += [*_lowered_rows(plain, lowering), plain]
        index_of = {r.id: k for k, r in enumerate(rows)}
        settings = [
            Setting(
                r.id,
                r.when,
                r.raw.phase,
                r.strength,
                r.priority,
                r.raw.intent,
                r.because,
                r.cite,
                _compiled(r.when),
                tuple(sorted(facts_read(r.when))),
                lowers_row=index_of[r.base] if r.base else -1,
                lowered_by=r.lowered_by,
            )
            for r in rows
        ]
        option_gates = [
            make_gate(
                f"{where}.requires[{i}]",
                g,
                ld.condition(f"{where}.requires[{i}].when", g.when, schema),
                known,
            )
            for i, g in enumerate(o.requires)
        ]
        for gw, applies, g, when in gates:
            if bind(applies, known) == Const(True):
                option_gates.append(make_gate(gw, g, when, known))
            elif not isinstance(bind(applies, known), Const):
                ld.problems.append(Problem(f"{gw}.applies_to", "a condition on case facts", "option facts only"))
        option_cite = ld.cite(where, o.cite)
        gate_reads = [r for g in option_gates for r in g.reads]
        settings = [
            replace(
                s,
                shown_facts=(shown := tuple(dict.fromkeys(r for r in (*s.reads, *gate_reads) if r != "plan.intent"))),
                shown_values=_values_of(shown),
                base_cite=tuple(dict.fromkeys((*option_cite, *s.cite))),
                evidence=row.evidence or o.evidence or "",
                evidence_label=levels.get(row.evidence or o.evidence or "", ""),
                regulatory=row.regulatory if row.regulatory is not None else o.regulatory,
            )
            for s, row in zip(settings, (r.raw for r in rows), strict=True)
        ]
        for i, row in enumerate(o.settings):
            level = row.evidence or o.evidence
            if level not in levels:
                expected = f"an evidence level ({', '.join(levels)})"
                ld.problems.append(Problem(f"{where}.settings[{i}].evidence", repr(level), expected))
        options.append(
            Option(
                o.id,
                o.title,
                o.kind,
                tuple(o.components),
                tuple(o.tags),
                " ".join(o.patient.split()),
                o.details.strip(),
                option_cite,
                tuple(settings),
                tuple(g for g in option_gates if g.when != Const(False) or g.effect == "requires"),
                tuple(option_cautions),
                _glossary_terms(o.patient, glossary),
                order,
            )
        )
    global_cautions = tuple(make_caution(w, c, when, {}) for w, applies, c, when in cautions if applies is None)
    if ld.problems:
        raise KnowledgeError(ld.problems)
    return KnowledgeBase(
        version=manifest.version,
        date=str(manifest.date),
        title=manifest.title,
        disclaimer=" ".join(manifest.disclaimer.split()),
        sources=ld.sources,
        evidence_levels=levels,
        vocabulary=vocab,
        schema=schema,
        glossary=glossary,
        intents=intents,
        options=tuple(options),
        global_cautions=global_cautions,
        test_rules=tests,
        resistance_class=resistance,
        drug_classes=classes,
        raw_gates=tuple((applies, make_gate(w, g, when, {})) for w, applies, g, when in gates),
        raw_cautions=tuple(
            (applies, make_caution(w, c, when, {})) for w, applies, c, when in cautions if applies is not None
        ),
        idle_outcomes=tuple(OptionOutcome(o, "not_applicable") for o in options),
    )


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process (adapters call this; the core never does).

    Its object graph (tens of thousands of conditions, gates and compiled closures) lives as long as the
    process and holds no reference cycle that could become garbage, yet the cyclic garbage collector
    walked all of it on every full collection (measured on 3,000 cases already seen once: a recommendation
    took 153 µs with the collector, 112 µs with it off, 97 µs after this freeze). Freezing what exists once
    the knowledge is loaded moves it out of the collector's walk; reference counting still frees anything
    that dies later.
    """
    kb = load_knowledge()
    gc.collect()
    gc.freeze()
    return kb


def iter_citations(kb: KnowledgeBase) -> Iterable[tuple[str, Citation]]:
    """Every citation with the entry that carries it, for the linter."""
    for opt in kb.options:
        for c in opt.cite:
            yield opt.id, c
        for s in opt.settings:
            for c in s.cite:
                yield s.id, c
        for g in opt.gates:
            for c in g.cite:
                yield g.id, c
    rules: list[IntentRule | TestRule | Caution] = [*kb.intents, *kb.test_rules, *kb.global_cautions]
    for rule in rules:
        for c in rule.cite:
            yield rule.id, c
    for _, gate in kb.raw_gates:
        for c in gate.cite:
            yield gate.id, c
    for _, caution in kb.raw_cautions:
        for c in caution.cite:
            yield caution.id, c
    for term in kb.glossary.values():
        for c in term.cite:
            yield f"glossary:{term.term}", c
    for table in (kb.vocabulary.drugs, kb.vocabulary.procedures, kb.vocabulary.tests, kb.vocabulary.tags):
        for entry in table.values():
            for c in entry.cite:
                yield f"vocabulary:{entry.id}", c
