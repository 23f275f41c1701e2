"""What the engine caches per plan result, in words: an offered option's template, an excluded option's
`Exclusion`, and the `Candidate` that holds them with what what-if needs (`candidate`).

Separate from `explain`, which arranges these parts for one case (rank, facts used, summary, tests): here
is what does not depend on the case, made once per plan result (or once per knowledge base: `prepare`) and
shared by every case that meets it, which is why its functions build from parts and compare no citation.
The medical content of every sentence still comes from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter, is_
from typing import TYPE_CHECKING, Any, NamedTuple

from rectoplan.core._cache import BY_CONTENT, CANONICAL, CITES, CITES_BY_ID, NOTES, CoreCaches, caches_for
from rectoplan.core.knowledge import Caution, Citation, Gate, KnowledgeBase, Option, Setting
from rectoplan.core.recommendation import CitedNote, Cites, Exclusion, OptionResult, provenance
from rectoplan.core.schema import STRENGTHS
from rectoplan.core.trace import Candidate

if TYPE_CHECKING:
    from rectoplan.core.engine import OptionOutcome

_STRENGTH_ORDER = {s: i for i, s in enumerate(STRENGTHS)}
# The patient words of each phase (the re-introduction words of `continuation` replace them: shared, not private).
PHASE_WORDS = {
    "neoadjuvant": "It would be given before surgery (neoadjuvant).",
    "adjuvant": "It would be given after surgery (adjuvant).",
    "perioperative": "It would be given around surgery, before and/or after the operation.",
    "first_line": "It would be a first treatment for the cancer as it is now.",
    "second_line": "It would follow the treatment you have already had.",
    "later_line": "It is a choice after other treatments have been used.",
    "any": "",
}
# An option tagged `maintenance` keeps the first line going in a lighter form (CAIRO3, PANAMA): "a first
# treatment for the cancer as it is now" would contradict its own patient text (review 15 F8).
_MAINTENANCE_WORDS = "It would continue your first treatment in a lighter form (maintenance)."


def _unique(cites: Iterable[Citation]) -> Cites:
    """The citations, each once, as one shared `Cites` per content (so that what users read of them is
    computed once for every part that cites the same references)."""
    given = tuple(cites)
    ids = tuple(map(id, given))  # hashing citations (dataclasses of seven strings) costs more than the rest
    seen = CITES_BY_ID.get(ids)
    if seen is not None and all(map(is_, seen[0], given)):
        return seen[1]
    canonical = {id(c): c for c in map(_canonical, given)}  # each content once, in order: by identity
    key = tuple(canonical)
    found = CITES.get(key)
    if found is None:
        found = CITES.put(key, Cites(canonical.values()))
    CITES_BY_ID.put(ids, (given, found))
    return found


def _canonical(cite: Citation) -> Citation:
    """The first citation object met with the content of `cite` (`_cache.CANONICAL`): equal citations, one
    object, so a list of them is made unique by identity."""
    entry = CANONICAL.get(id(cite))
    if entry is not None and entry[0] is cite:
        return entry[1]
    found = BY_CONTENT.get(cite)
    if found is None:
        found = BY_CONTENT.put(cite, cite)
    CANONICAL.put(id(cite), (cite, found))
    return found


def _note(text: str, severity: str, cite: Iterable[Citation]) -> CitedNote:
    """One `CitedNote` per content, shared by every template that says it (`_cache.NOTES`)."""
    key = (text, severity, _unique(cite))
    found = NOTES.get(key)
    return found if found is not None else NOTES.put(key, CitedNote(*key))


def _option_template(outcome: OptionOutcome) -> Template:
    """Everything of an offered option's text that does not depend on the case's fact values or rank.

    The rationale is the knowledge base's clinical reason alone; rule ids, priorities and the checks that
    passed go to the trace, which reviewers open and clinicians need not read. The reference: the engine
    assembles the same template from parts made once per knowledge base (`_offered_candidate`).
    """
    setting = outcome.setting
    assert setting is not None
    passed = tuple(g.id for g in outcome.passed)
    warnings, notes, cautions, said_by = _said(outcome)
    trace = _trace(setting, passed, said_by, provenance(_template_cites(outcome)))
    base, order, shown = _setting_fields(outcome.option, setting)
    fields = base.copy()  # its `sources` are the setting's; each warning and note carries its own (`cautions`)
    fields[_WARNINGS] = warnings
    fields[_NOTES] = notes
    fields[_CAUTIONS] = cautions
    template: Template = _new(Template, (fields, trace, setting, order, shown, setting.shown_values))
    return template


def _trace(
    setting: Setting, passed: tuple[str, ...], said_by: tuple[str, ...], provenance: list[str]
) -> dict[str, Any]:
    """An offered option's trace before the case's rank and facts used: one shape for the reference template
    and the assembled one (`_option_template`, `_offered_candidate`)."""
    return {
        "setting": setting.id,
        "strength": setting.strength,
        "priority": setting.priority,
        "rules": list(dict.fromkeys((setting.id, *passed, *said_by))),
        "checks_passed": list(passed),
        "provenance": provenance,
    }


Said = tuple[tuple[str, ...], tuple[str, ...], tuple[CitedNote, ...], tuple[str, ...]]


def _said(outcome: OptionOutcome) -> Said:
    """An offered option's warnings and notes: their texts, the notes with their references (`cautions`:
    warnings then notes), and the ids of the rules that say them (warned gates, cautions, unknown ones)."""
    warned = [_note(g.unknown, "warning", g.cite) for g in outcome.warned]
    noted: list[CitedNote] = []
    for caution in outcome.cautions:
        (warned if caution.severity == "warning" else noted).append(_note(caution.text, caution.severity, caution.cite))
    warned += [_note(c.unknown, "warning", c.cite) for c in outcome.unknown_cautions]
    by = (
        *(g.id for g in outcome.warned),
        *(c.id for c in outcome.cautions),
        *(c.id for c in outcome.unknown_cautions),
    )
    return tuple(w.text for w in warned), tuple(n.text for n in noted), (*warned, *noted), by


_new = tuple.__new__  # a NamedTuple from all its fields, without its Python-level `__new__` (miss path)


def _setting_fields(opt: Option, setting: Setting, shown: int | str = "") -> Static:
    """The fields of an `OptionResult` offered under `setting` that depend on the setting alone (the others
    are None, 0 or empty here), and its rank key (strength, priority, option order)."""
    phase_words = _MAINTENANCE_WORDS if "maintenance" in opt.tags else PHASE_WORDS[setting.phase]
    patient = f"{opt.patient} {phase_words}" if phase_words else opt.patient
    fields = [  # in OptionResult order; intent (when the case's), rank and trace are filled per case
        opt.id,
        opt.title,
        opt.kind,
        opt.components,
        setting.intent or None,
        setting.phase,
        setting.strength,
        0,
        (setting.because,),
        patient,
        _unique(setting.base_cite),  # the option's own references; the trace's provenance covers all of them
        (),
        (),
        opt.glossary_terms,
        setting.id,
        (setting.evidence, setting.evidence_label),
        setting.regulatory,
        None,
        (),
    ]
    return fields, (_STRENGTH_ORDER[setting.strength], setting.priority, opt.order), shown or setting.id


Static = tuple[list[Any], tuple[int, int, int], int | str]  # what `_setting_fields` makes


class Template(NamedTuple):
    """An offered option's rendered part: all of its `OptionResult` that the case's facts and rank do
    not change, ready to be copied and filled in (`_offered`)."""

    fields: list[Any]
    trace: dict[str, Any]
    setting: Setting
    order: tuple[int, int, int]
    shown: int | str  # names the facts its setting shows: settings showing the same facts share 'facts used'
    values: Callable[[Any], tuple[Any, ...]]  # the values of those facts in a case's facts (`Setting.shown_values`)


_INTENT, _RANK, _TRACE, _WARNINGS, _NOTES, _CAUTIONS = (
    OptionResult._fields.index(f) for f in ("intent", "rank", "trace", "warnings", "notes", "cautions")
)
_new_option = tuple.__new__  # `OptionResult._make` without its check: the template has every field


def _excluded(outcome: OptionOutcome) -> Exclusion:
    held = outcome.status == "held"
    gates = outcome.holding if held else outcome.blocking
    reasons = tuple((g.unknown or g.reason) if held else g.reason for g in gates)
    cites = [c for g in gates for c in g.cite]
    opt = outcome.option
    return Exclusion(opt.id, opt.title, opt.components, reasons, _unique(cites), held, tuple(g.id for g in gates))


def candidates(outcomes: tuple[OptionOutcome, ...]) -> tuple[Candidate, ...]:
    """The candidates of outcomes found without the compiled plan (the reference interpreter)."""
    return tuple(candidate(i, o) for i, o in enumerate(outcomes) if o.status != "not_applicable")


_ORDER = attrgetter("order")  # offered candidates best first; those kept out unsafe first, then held back


def rendered_part(outcome: OptionOutcome) -> Any:
    """What `render` needs of an outcome regardless of the case: a template if offered, else an exclusion."""
    if outcome.status == "offered":
        return _option_template(outcome)
    if outcome.status in ("excluded", "held"):
        return _excluded(outcome)
    return None


def candidate(
    index: int,
    outcome: OptionOutcome,
    kb: KnowledgeBase | None = None,
    setting: int = -1,
    caches: CoreCaches | None = None,
) -> Candidate:
    """An option's outcome with what rendering and what-if need of it (computed once per plan result).

    With `kb`, an offered option's template is assembled from parts made once per knowledge base: what its
    setting alone decides, and each warning's and note's words and trace provenance, per rule
    (`_offered_candidate`); no citation is compared or hashed on the way. An excluded or held option's part
    is cached under the ids of the rules that decide it (exact: `_ids_unique_per_option`), since many plan
    results share one. `setting`: the index of the outcome's setting, when the caller knows it; `caches`:
    those of `kb`, when the caller has them."""
    offered = -1
    if outcome.status == "offered":
        offered = (
            setting if setting >= 0 else next(i for i, s in enumerate(outcome.option.settings) if s is outcome.setting)
        )
    if kb is None:
        if offered >= 0:
            template = _option_template(outcome)
            return Candidate(outcome, template, index, offered, (), (), template.order)
        return _kept_out(outcome, index, offered, _derived(outcome))
    caches = caches or caches_for(kb)
    if offered >= 0:
        return _offered_candidate(outcome, index, offered, caches)
    keyable = caches.once.get("parts-keyable")
    if keyable is None:
        keyable = caches.once["parts-keyable"] = _ids_unique_per_option(kb)
    if not keyable:
        return _kept_out(outcome, index, offered, _derived(outcome))
    o = outcome
    kept_out = (index, o.status, tuple(map(_ID, o.blocking)), tuple(map(_ID, o.holding)))
    found = caches.parts.get(kept_out)
    if found is None:
        found = caches.parts.put(kept_out, _derived(o, caches.once.setdefault("gate-reads", {})))
    return _kept_out(o, index, offered, found)


_ID = attrgetter("id")
_EMPTY: tuple[str, ...] = ()


def _offered_candidate(o: OptionOutcome, index: int, offered: int, caches: CoreCaches) -> Candidate:
    """The candidate of an offered option, its template (`_option_template`, which it equals: a test compares)
    built from its setting's part (`_setting_part`) and a part per warned gate and caution (`_rule_part`).

    The trace's provenance is that of the setting's and the warned rules' citations together, each entry
    once: the same list as the provenance of those citations made unique first (an entry is a function of
    its citation), so no citation is hashed here."""
    setting = o.setting
    assert setting is not None
    parts: dict[int, Any] = caches.once.setdefault("rule-parts", {})  # by id: the kb keeps its rules
    static, setting_provenance = parts.get(id(setting)) or _setting_part(setting, o.option, parts, caches)
    warned: list[CitedNote] = []
    noted: list[CitedNote] = []
    provenances = [setting_provenance]
    for gate in o.warned:
        note, _, provenance_of, _ = parts.get(id(gate)) or _rule_part(gate, parts)
        warned.append(note)
        provenances.append(provenance_of)
    for caution in o.cautions:
        note, warning, provenance_of, _ = parts.get(id(caution)) or _rule_part(caution, parts)
        (warned if warning else noted).append(note)
        provenances.append(provenance_of)
    for caution in o.unknown_cautions:
        warned.append((parts.get(id(caution)) or _rule_part(caution, parts))[3])
    passed = tuple(map(_ID, o.passed)) if o.passed else _EMPTY
    by = (*map(_ID, o.warned), *map(_ID, o.cautions), *map(_ID, o.unknown_cautions))
    trace = _trace(
        setting,
        passed,
        by,
        list(dict.fromkeys(chain.from_iterable(provenances))) if len(provenances) > 1 else list(setting_provenance),
    )
    base, order, shown = static
    fields = base.copy()
    fields[_WARNINGS] = tuple([w.text for w in warned])
    fields[_NOTES] = tuple([n.text for n in noted])
    fields[_CAUTIONS] = (*warned, *noted)
    template: Template = _new(Template, (fields, trace, setting, order, shown, setting.shown_values))
    made: Candidate = _new(Candidate, (o, template, index, offered, (), (), order))
    return made


def prepare(kb: KnowledgeBase, caches: CoreCaches) -> None:
    """Make every setting's and every warning rule's part of the offered options' templates (`_setting_part`,
    `_rule_part`) at once, as the engine compiles its plan: per knowledge base, not per case, so that a case
    meeting an offered option first pays only for assembling its template."""
    parts: dict[int, Any] = caches.once.setdefault("rule-parts", {})
    for option in kb.options:
        for setting in option.settings:
            if id(setting) not in parts:
                _setting_part(setting, option, parts, caches)
        rules: list[Gate | Caution] = [g for g in option.gates if g.on_unknown == "warn"]
        for rule in rules + list(option.cautions):
            if id(rule) not in parts:
                _rule_part(rule, parts)


def _setting_part(setting: Setting, option: Option, parts: dict[int, Any], caches: CoreCaches) -> tuple[Static, Any]:
    """What an offered option's template takes from its setting alone: its fields (`_setting_fields`, with
    the number of the facts it shows: settings showing the same facts share 'facts used') and the trace
    provenance of its citations."""
    groups: dict[tuple[str, ...], int] = caches.once.setdefault("shown-facts", {})
    shown = groups.setdefault(setting.shown_facts, len(groups))
    part = parts[id(setting)] = (_setting_fields(option, setting, shown), _provenance_of(setting.base_cite))
    return part


def _rule_part(rule: Gate | Caution, parts: dict[int, Any]) -> tuple[Any, ...]:
    """What an offered option's template takes from one of its rules, when it warns: (its sentence with its
    references, whether it is a warning, the trace provenance of its citations, its sentence when its facts
    are unknown). A warned gate says its `unknown` text; a caution its text, or its `unknown` text."""
    if isinstance(rule, Gate):
        note = _note(rule.unknown, "warning", rule.cite)
        part: tuple[Any, ...] = (note, True, _provenance_of(rule.cite), note)
    else:
        unknown = _note(rule.unknown, "warning", rule.cite) if rule.unknown else None
        note = _note(rule.text, rule.severity, rule.cite)
        part = (note, rule.severity == "warning", _provenance_of(rule.cite), unknown)
    parts[id(rule)] = part
    return part


def _provenance_of(cites: tuple[Citation, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"brief {c.entry}" for c in cites if c.entry))


def _kept_out(outcome: OptionOutcome, index: int, offered: int, derived: Derived) -> Candidate:
    """The candidate of an option not offered (or found by the reference interpreter), from `_derived`."""
    part, blockers, holding = derived
    order = (part.held, part.id) if type(part) is Exclusion else (0, 0, 0)  # the order of exclusions shown
    made: Candidate = _new(Candidate, (outcome, part, index, offered, blockers, holding, order))
    return made


def _template_cites(outcome: OptionOutcome) -> Cites:
    setting = outcome.setting
    assert setting is not None
    extra = [c for g in outcome.warned for c in g.cite]
    for caution in outcome.cautions:
        extra += caution.cite
    return _unique([*setting.base_cite, *extra] if extra else setting.base_cite)


Derived = tuple[Any, tuple[frozenset[str], ...], tuple[str, ...]]  # (part, blockers, holding) of a Candidate


def _derived(outcome: OptionOutcome, reads: dict[int, frozenset[str]] | None = None) -> Derived:
    """What a `Candidate` holds besides the outcome and the setting: its rendered part, the facts of the
    gates that keep it out and the ids of the gates that hold it back. `reads`, when given, keeps one set
    of facts per gate (by id: the knowledge base keeps its gates), shared by every candidate it blocks."""
    blockers: tuple[frozenset[str], ...] = ()
    if outcome.status not in ("offered", "not_applicable"):
        gates = (*outcome.blocking, *outcome.holding)
        if reads is None:
            blockers = tuple(frozenset(g.reads) for g in gates)
        else:
            blockers = tuple([reads.get(id(g)) or reads.setdefault(id(g), frozenset(g.reads)) for g in gates])
    holding = tuple(g.id for g in outcome.holding) if outcome.status == "held" else ()
    return rendered_part(outcome), blockers, holding


def _ids_unique_per_option(kb: KnowledgeBase) -> bool:
    """Whether rule ids name one gate and one caution within each option (then `candidate`'s keys are
    exact)."""
    return all(
        len({g.id for g in o.gates}) == len(o.gates) and len({c.id for c in o.cautions}) == len(o.cautions)
        for o in kb.options
    )
