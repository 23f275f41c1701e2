"""The knowledge linter: what a reviewer would check by hand, checked on every run of the tests.

- the files load (structure, rule types, citations name known sources, identifiers are well formed:
  PMID digits, DOI 10.nnnn/..., NCT + 8 digits);
- every decision-table row, gate, caution and intent rule cites a primary reference (trial, label,
  guideline or review), so a clinician can open what backs it; unconfirmed references are listed;
- ids are unique; components, tags and tests are in the vocabulary;
- seed quotes appear verbatim in the seed files, brief entries exist in the brief (only when those files
  are given, as in CI: a user's clone has neither, and the check is reported as skipped);
- every option is offered for at least one synthetic case (an unreachable option is dead knowledge);
- no anti-EGFR antibody is paired with capecitabine (brief C-112).
"""

from __future__ import annotations

import copy
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rectoplan.adapters.case_json import parse_case
from rectoplan.core.conditions import All, AnyOf, Condition, evaluate
from rectoplan.core.engine import assess, assess_option, decide_intent
from rectoplan.core.errors import CaseError, KnowledgeError
from rectoplan.core.facts import case_facts
from rectoplan.core.fields import DECLARED, FIELDS, laid_out
from rectoplan.core.knowledge import Citation, KnowledgeBase, Option
from rectoplan.kb.loader import iter_citations, load_knowledge
from rectoplan.synthetic import random_case

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


@dataclass
class LintReport:
    errors: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    unconfirmed: list[str] = field(default_factory=list)  # registry entries cited without an identifier
    skipped: list[str] = field(default_factory=list)  # checks not run (seed or brief files absent)

    @property
    def ok(self) -> bool:
        return not self.errors


def _norm(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split()).lower()


def _brief_has(brief: str, entry: str) -> bool:
    if entry.startswith("§"):
        number = re.escape(entry[1:])
        return re.search(rf"^#+ {number}[ .]", brief, re.MULTILINE) is not None
    e = re.escape(entry)
    return re.search(rf"(^\| {e} \||^{e} |^- {e} |\({e}\b|\b{e}[,);/ ])", brief, re.MULTILINE) is not None


def check_citations(kb: KnowledgeBase, seeds: Path | None, brief: Path | None) -> list[str]:
    errors = []
    seed_text = {}
    if seeds is not None:
        for source in kb.sources.values():
            if source.kind == "seed":
                seed_text[source.id] = _norm((seeds / source.ref).read_text(encoding="utf-8"))
    brief_text = brief.read_text(encoding="utf-8") if brief is not None else None
    for owner, cite in iter_citations(kb):
        if cite.quote:
            words = len(cite.quote.split())
            if words > 30:
                errors.append(f"{owner}: quote of {words} words; seed quotes are short (at most 30 words)")
            if cite.source in seed_text and _norm(cite.quote) not in seed_text[cite.source]:
                errors.append(f"{owner}: quote not found verbatim in {cite.ref}: {cite.quote[:70]!r}")
        elif cite.entry and brief_text is not None and not _brief_has(brief_text, cite.entry):
            errors.append(f"{owner}: brief entry {cite.entry!r} not found in {cite.ref}")
    return errors


def check_primary(kb: KnowledgeBase) -> list[str]:
    """Every decision-table row, gate and caution (and intent rule) cites a primary reference.

    A row counts its option's citations too (`base_cite`): the option's trial backs each of its rows.
    Patient pages and the brief do not count: a clinician must be able to open the trial, the label or
    the guideline behind the rule.
    """
    errors = []

    def need(owner: str, cites: tuple[Citation, ...]) -> None:
        if not any(c.primary for c in cites):
            errors.append(f"{owner}: no primary reference (a trial, label, guideline or review of sources.yaml)")

    for o in kb.options:
        for setting in o.settings:
            need(setting.id, setting.base_cite)
        for gate in o.gates:
            need(gate.id, gate.cite)
        for caution in o.cautions:
            need(caution.id, caution.cite)
    for _, gate in kb.raw_gates:
        need(gate.id, gate.cite)
    for intent in kb.intents:
        need(intent.id, intent.cite)
    for caution in kb.global_cautions:
        need(caution.id, caution.cite)
    return sorted(set(errors))


def unconfirmed_sources(kb: KnowledgeBase) -> list[str]:
    return [f"{s.id}: {s.label}" for s in kb.sources.values() if s.unconfirmed]


def check_ids(kb: KnowledgeBase) -> list[str]:
    errors = []
    ids = [o.id for o in kb.options] + [s.id for o in kb.options for s in o.settings]
    ids += [r.id for r in kb.intents] + [r.id for r in kb.test_rules] + [c.id for c in kb.global_cautions]
    ids += [g.id for _, g in kb.raw_gates] + [c.id for _, c in kb.raw_cautions]
    inline = {g.id for o in kb.options for g in o.gates} - {g.id for _, g in kb.raw_gates}
    ids += sorted(inline)
    errors += [f"duplicate id {i!r} ({n} times)" for i, n in Counter(ids).items() if n > 1]
    vocab = kb.vocabulary
    for o in kb.options:
        for comp in o.components:
            if comp not in vocab.drugs and comp not in vocab.procedures:
                errors.append(f"{o.id}: component {comp!r} is not a drug or procedure of the vocabulary")
        for tag in o.tags:
            if tag not in vocab.tags:
                errors.append(f"{o.id}: tag {tag!r} is not in the vocabulary")
        for g in o.gates:
            if g.test is not None and g.test not in vocab.tests:
                errors.append(f"{g.id}: test {g.test!r} is not in the vocabulary")
            if g.on_unknown == "hold" and g.test is None and g.effect == "requires":
                pass
        if "capecitabine" in o.components and any(
            "anti_egfr" in vocab.drugs[c].classes for c in o.components if c in vocab.drugs
        ):
            errors.append(f"{o.id}: pairs an anti-EGFR antibody with capecitabine (brief C-112)")
    errors += [f"{r.id}: test {r.test!r} is not in the vocabulary" for r in kb.test_rules if r.test not in vocab.tests]
    if not kb.intents or kb.intents[-1].when.__class__.__name__ != "Const":
        errors.append("intent.yaml: the last intent rule must be unconditional (when: true)")
    return errors


def _degree(cond: Condition, facts: dict[str, Any]) -> float:
    """How nearly a condition holds (1.0 = true): guides the reachability search through conjunctions."""
    if isinstance(cond, All):
        return sum(_degree(c, facts) for c in cond.items) / len(cond.items)
    if isinstance(cond, AnyOf):
        return max(_degree(c, facts) for c in cond.items)
    return 1.0 if evaluate(cond, facts) is True else 0.0


def _score(option: Option, facts: dict[str, Any]) -> float:
    best = max((_degree(s.when, facts) for s in option.settings), default=0.0)
    gates = sum(
        _degree(g.when, facts) if g.effect == "requires" else float(evaluate(g.when, facts) is False)
        for g in option.gates
    )
    return best * 2 + gates


# Mutable parts of a case: a mutation copies one of them from a fresh random case (or drops it). They are the
# table's scalar fields (`rectoplan.core.fields`: contract 1's, those of the whole case before those of a
# section, then contract 2's), with the parts the table does not hold placed among them; contract 1's
# primary tumour (its status and symptoms) is copied as one part. The order is the one the search always
# drew from (`rng.choice`), so a lint result stays what it was.
_WHOLE: Final = ("primary",)


def _parts() -> tuple[tuple[str, ...], ...]:
    one = sorted((f for f in FIELDS if f.contract == 1 and f.section not in _WHOLE), key=lambda f: f.section != "")
    after: dict[str, list[tuple[str, ...]]] = {
        "ecog": [(s,) for s in (*_WHOLE, "local_recurrence", "metastases")],
        "biomarkers.kras": [("biomarkers", "kras_variant")],
        "prior.pelvic_radiation": [("prior", "systemic_lines"), ("prior", "surgeries")],
    }
    return tuple(laid_out((*one, *DECLARED), lambda f: f.path, after))


_PARTS: Final = _parts()


def _mutate(case: dict[str, Any], donor: dict[str, Any], part: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(case)
    source: Any = donor
    target = out
    for key in part[:-1]:
        source = source.get(key, {}) if isinstance(source, dict) else {}
        target = target.setdefault(key, {})
    if isinstance(source, dict) and part[-1] in source:
        target[part[-1]] = copy.deepcopy(source[part[-1]])
    else:
        target.pop(part[-1], None)
    return out


def search_case(kb: KnowledgeBase, option: Option, rng: random.Random, steps: int = 1500) -> dict[str, Any] | None:
    """A case for which `option` is offered, found by hill climbing over case parts; None if not found."""
    drugs, procedures = kb.vocabulary.drugs, kb.vocabulary.procedures
    best_case = random_case(rng, "search")
    best = -1.0
    for _ in range(steps):
        candidate = _mutate(best_case, random_case(rng, "donor"), rng.choice(_PARTS)) if best >= 0 else best_case
        try:
            case = parse_case(candidate, drugs, procedures)
        except CaseError:
            continue
        facts = case_facts(case, kb.resistance_class, kb.drug_classes)
        facts["plan.intent"] = decide_intent(facts, kb).intent
        if assess_option(option, facts).status == "offered":
            return candidate
        score = _score(option, facts)
        if score >= best:
            best, best_case = score, candidate
    return None


def reachability(kb: KnowledgeBase, samples: int, seed: int = 0) -> tuple[list[str], dict[str, int]]:
    """Options never offered: first `samples` random cases, then a guided search for the rest.

    Deterministic for a given seed, so a lint result is reproducible.
    """
    rng = random.Random(seed)
    offered: Counter[str] = Counter()
    for i in range(samples):
        case = parse_case(random_case(rng, f"lint-{i}"), kb.vocabulary.drugs, kb.vocabulary.procedures)
        for outcome in assess(case, kb).outcomes:
            if outcome.status == "offered":
                offered[outcome.option.id] += 1
    missing = []
    for option in kb.options:
        if offered[option.id]:
            continue
        found = any(search_case(kb, option, random.Random(f"{seed}-{option.id}-{r}")) for r in range(12))
        if found:
            offered[option.id] = 1
        else:
            missing.append(option.id)
    message = "not offered for any of {n} synthetic cases nor found by a guided search (unreachable?)"
    return [f"{m}: " + message.format(n=samples) for m in missing], dict(offered)


def lint(
    root: Path | None = None, seeds: Path | None = None, brief: Path | None = None, samples: int = 4000
) -> LintReport:
    report = LintReport()
    try:
        kb = load_knowledge(root)
    except KnowledgeError as exc:
        report.errors += exc.messages()
        return report
    report.errors += check_ids(kb)
    report.errors += check_primary(kb)
    report.errors += check_citations(kb, seeds, brief)
    report.unconfirmed = unconfirmed_sources(kb)
    report.skipped = [
        what
        for what, path in (("seed quotes (seed files not found)", seeds), ("brief entries (brief not found)", brief))
        if path is None
    ]
    unreachable, offered = reachability(kb, samples)
    report.errors += unreachable
    report.stats = {
        "options": len(kb.options),
        "settings": sum(len(o.settings) for o in kb.options),
        "gates": len(kb.raw_gates)
        + sum(1 for o in kb.options for g in o.gates if g.id not in {x.id for _, x in kb.raw_gates}),
        "citations": sum(1 for _ in iter_citations(kb)),
        "sources": sum(1 for x in kb.sources.values() if x.primary),
        "unconfirmed_sources": len(report.unconfirmed),
        "synthetic_cases": samples,
        "options_offered_min": min(offered.values(), default=0),
    }
    return report
