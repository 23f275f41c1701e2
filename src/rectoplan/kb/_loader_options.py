"""One option of the knowledge base built from its YAML entry: its decision table (with the rows that
warnings lower), its gates and warnings bound to its own facts, and what its reasons show.

Split from `rectoplan.kb.loader`: binding the class-wide gates and warnings to each option, once, at
load time is what keeps the engine's per-case work small; it is most of the loading and it reads one
option at a time, so it is a job of its own. A new per-option or per-row key of the YAML (after its
model in `kb/models.py`) is read into the `Option` or its `Setting` here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from rectoplan.core.conditions import Condition, Const, bind, compile_condition, facts_read
from rectoplan.core.errors import Problem
from rectoplan.core.facts import option_facts
from rectoplan.core.knowledge import Caution, Drug, Gate, GlossaryTerm, Option, Setting
from rectoplan.core.schema import FactType
from rectoplan.kb._loader_files import _Loader
from rectoplan.kb._loader_lowering import _lowered_rows, _Row
from rectoplan.kb.models import CautionIn, GateIn, OptionIn

GateEntry = tuple[str, Condition, GateIn, Condition]  # where, applies_to, the gate, when (parsed, unbound)
CautionEntry = tuple[str, Condition | None, CautionIn, Condition]  # applies_to None: a case-level warning


@dataclass(frozen=True, slots=True)
class Shared:
    """What every option is built against: the loader (its problems and citations), the fact schema, the
    drugs, the evidence levels, the glossary, and the class-wide gates and warnings."""

    ld: _Loader
    schema: dict[str, FactType]
    drugs: dict[str, Drug]
    levels: dict[str, str]
    glossary: dict[str, GlossaryTerm]
    gates: list[GateEntry]
    cautions: list[CautionEntry]


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


def make_gate(ld: _Loader, where: str, g: GateIn, when: Condition, known: dict[str, Any]) -> Gate:
    """A gate bound to an option's facts (`known`; none for the knowledge base's unbound copy)."""
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


def make_caution(ld: _Loader, where: str, c: CautionIn, when: Condition, known: dict[str, Any]) -> Caution:
    """A warning or note bound to an option's facts (`known`; none for a case-level one)."""
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


def build_option(sh: Shared, order: int, where: str, o: OptionIn) -> Option:
    """The `Option` of one YAML entry. Its problems are added to the loader's in the order a reviewer reads
    the entry: the warnings that apply, each row, the gates, the option's citations, the evidence levels."""
    known = option_facts(o.id, o.kind, o.components, o.tags, sh.drugs)
    option_cautions, lowering = _cautions(sh, known)
    rows = _rows(sh, where, o, known, lowering)
    settings = _settings(rows)
    option_gates = _gates(sh, where, o, known)
    option_cite = sh.ld.cite(where, o.cite)
    gate_reads = [r for g in option_gates for r in g.reads]
    settings = [
        replace(
            s,
            shown_facts=(shown := tuple(dict.fromkeys(r for r in (*s.reads, *gate_reads) if r != "plan.intent"))),
            shown_values=_values_of(shown),
            base_cite=tuple(dict.fromkeys((*option_cite, *s.cite))),
            evidence=row.evidence or o.evidence or "",
            evidence_label=sh.levels.get(row.evidence or o.evidence or "", ""),
            regulatory=row.regulatory if row.regulatory is not None else o.regulatory,
        )
        for s, row in zip(settings, (r.raw for r in rows), strict=True)
    ]
    for i, row in enumerate(o.settings):
        level = row.evidence or o.evidence
        if level not in sh.levels:
            expected = f"an evidence level ({', '.join(sh.levels)})"
            sh.ld.problems.append(Problem(f"{where}.settings[{i}].evidence", repr(level), expected))
    return Option(
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
        _glossary_terms(o.patient, sh.glossary),
        order,
    )


def _cautions(sh: Shared, known: dict[str, Any]) -> tuple[list[Caution], list[tuple[Caution, str]]]:
    """The class-wide warnings and notes that apply to the option, and those of them that lower it (with
    the reason a lowered row gives)."""
    option_cautions: list[Caution] = []
    lowering: list[tuple[Caution, str]] = []
    for cw, caution_applies, caution, caution_when in sh.cautions:
        if caution_applies is not None and bind(caution_applies, known) == Const(True):
            option_cautions.append(made := make_caution(sh.ld, cw, caution, caution_when, known))
            if caution.lowers:
                lowering.append((made, " ".join(caution.lowers.split())))
    return option_cautions, lowering


def _rows(
    sh: Shared, where: str, o: OptionIn, known: dict[str, Any], lowering: list[tuple[Caution, str]]
) -> list[_Row]:
    """The option's decision table in order: each row bound to the option's facts, after its lowered copies."""
    rows: list[_Row] = []
    for i, row in enumerate(o.settings):
        sw = f"{where}.settings[{i}]"
        plain = _Row(
            row.id or f"{o.id}#{i + 1}",
            bind(sh.ld.condition(f"{sw}.when", row.when, sh.schema), known),
            row.strength,
            row.priority,
            row.because.strip(),
            sh.ld.cite(sw, row.cite),
            row,
        )
        rows += [*_lowered_rows(plain, lowering), plain]
    return rows


def _settings(rows: list[_Row]) -> list[Setting]:
    """The rows as `Setting`s, a lowered copy pointing at the row it copies."""
    index_of = {r.id: k for k, r in enumerate(rows)}
    return [
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


def _gates(sh: Shared, where: str, o: OptionIn, known: dict[str, Any]) -> list[Gate]:
    """The option's own requirements, then the class-wide gates whose `applies_to` holds for it; an
    `applies_to` that reads case facts is a problem (it must be decided by the option alone)."""
    option_gates = [
        make_gate(
            sh.ld,
            f"{where}.requires[{i}]",
            g,
            sh.ld.condition(f"{where}.requires[{i}].when", g.when, sh.schema),
            known,
        )
        for i, g in enumerate(o.requires)
    ]
    for gw, applies, g, when in sh.gates:
        if bind(applies, known) == Const(True):
            option_gates.append(make_gate(sh.ld, gw, g, when, known))
        elif not isinstance(bind(applies, known), Const):
            sh.ld.problems.append(Problem(f"{gw}.applies_to", "a condition on case facts", "option facts only"))
    return option_gates
