"""The only reader of knowledge files: YAML in, a checked, immutable `KnowledgeBase` out.

Structure is validated with pydantic (unknown keys are errors), every condition is parsed and
type-checked against the fact schema, and option-level gates are bound to each option here, once, so
that the engine's per-case work is as small as possible. All problems are collected and reported
together with the file and the path inside it.

This module reads the knowledge base's files in order and assembles it; its steps are private modules
beside it, so that each is read and changed alone:
- `_loader_files`: reading a file and validating its entries, collecting every problem;
- `_loader_options`: one option built from its entry (rows, bound gates and warnings, what reasons show);
- `_loader_lowering`: the rows that warnings with `lowers` add before an option's own rows.
A new knowledge file is read here (with its model in `kb/models.py`); a new key of an option or of a
row is read in `_loader_options`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rectoplan.core.errors import KnowledgeError, Problem
from rectoplan.core.facts import fact_schema
from rectoplan.core.knowledge import (
    Caution,
    Citation,
    Drug,
    GlossaryTerm,
    IntentRule,
    KnowledgeBase,
    Term,
    TestRule,
    Vocabulary,
)
from rectoplan.core.schema import INTENTS, KINDS, PHASES, STRENGTHS, FactType
from rectoplan.core.trace import OptionOutcome
from rectoplan.kb._loader_files import _Loader
from rectoplan.kb._loader_lowering import LOWERED_PRIORITY
from rectoplan.kb._loader_options import (
    CautionEntry,
    GateEntry,
    Shared,
    _compiled,
    build_option,
    make_caution,
    make_gate,
)
from rectoplan.kb.models import (
    CautionIn,
    EvidenceIn,
    GateIn,
    GlossaryIn,
    IntentIn,
    ManifestIn,
    OptionIn,
    TestRuleIn,
    VocabularyIn,
)
from rectoplan.kb.sources import SourceIn, identifier_problems, make_source

__all__ = ["LOWERED_PRIORITY", "default_knowledge", "iter_citations", "load_knowledge", "settle_collector"]

assert set(KINDS) and set(PHASES) and set(STRENGTHS) and set(INTENTS)  # the Literals of kb.models mirror these


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

    vocab = _vocabulary(ld, vocab_in)
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
    intents, tests = _case_rules(ld, schema)
    gates, cautions = _class_wide(ld, schema)
    shared = Shared(ld, schema, vocab.drugs, levels, glossary, gates, cautions)
    options = [build_option(shared, order, where, o) for order, (where, o) in enumerate(raw_options)]
    global_cautions = tuple(make_caution(ld, w, c, when, {}) for w, applies, c, when in cautions if applies is None)
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
        raw_gates=tuple((applies, make_gate(ld, w, g, when, {})) for w, applies, g, when in gates),
        raw_cautions=tuple(
            (applies, make_caution(ld, w, c, when, {})) for w, applies, c, when in cautions if applies is not None
        ),
        idle_outcomes=tuple(OptionOutcome(o, "not_applicable") for o in options),
    )


def _vocabulary(ld: _Loader, vocab_in: VocabularyIn) -> Vocabulary:
    """The drugs, procedures, tests and option tags, each with its citations."""
    return Vocabulary(
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


def _case_rules(ld: _Loader, schema: dict[str, FactType]) -> tuple[tuple[IntentRule, ...], tuple[TestRule, ...]]:
    """The rules that read the case alone: the intent of treatment, and the tests a case needs."""
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
    return intents, tests


def _class_wide(ld: _Loader, schema: dict[str, FactType]) -> tuple[list[GateEntry], list[CautionEntry]]:
    """The class-wide gates and warnings, parsed but not yet bound to any option; a warning's `lowers` and
    `continuation` are checked against where they can apply."""
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
    return gates, cautions


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
    settle_collector()
    return kb


# Collections of the youngest generation start after this many more container objects were made than freed
# (CPython's default is 700); see `settle_collector`.
YOUNG_THRESHOLD = 10_000


def settle_collector() -> None:
    """Take what the process holds now out of the cyclic collector's walk, and let it run less often.

    Freezing: see `default_knowledge`. Threshold: a recommendation frees what it makes, so the young generation
    grows only with what the engine's caches keep (about 30 objects per case that meets a new outcome); at
    CPython's default of 700 a collection then started every ~25 cases, and about 4% of calls paid one (two
    thirds of the 1% slowest, measured with `bench/recommend.py --gc`). At 10,000 it starts every few hundred
    cases: the total work of the collector is the same, but it lands on fewer calls, which improves the 99th
    percentile and costs the 99.9th (both printed by the bench). Only ever raised: a process that chose a
    higher threshold keeps it."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)


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
