"""Turn an assessment into words: clinician rationales, patient explanations, the one-line summary.

The medical content of every sentence comes from the knowledge base (setting reasons, gate reasons,
patient texts, glossary definitions); this module only arranges it, so reviewing the knowledge files
is reviewing what users read.
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from rectoplan.core._cache import Bounded, CoreCaches, caches_for
from rectoplan.core._cited import _note, _unique
from rectoplan.core._templates import (
    _CAUTIONS,
    _INTENT,
    _NOTES,
    _RANK,
    _TRACE,
    _WARNINGS,
    Template,
    _offered_candidate,
    _option_template,
    prepare,
)
from rectoplan.core._tests_needed import _tests, _tests_cached, _tests_shared
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import (
    Change,
    CitedNote,
    Exclusion,
    OptionResult,
    Recommendation,
    TestNeeded,
    first_treatment,
)
from rectoplan.core.trace import Candidate

__all__ = [  # with the parts split into _templates, _tests_needed and _cited, which tests read here
    "_CAUTIONS",
    "_INTENT",
    "_NOTES",
    "_RANK",
    "_TRACE",
    "_WARNINGS",
    "Template",
    "_note",
    "_offered_candidate",
    "_option_template",
    "_tests",
    "_tests_shared",
    "_unique",
    "candidate",
    "candidates",
    "prepare",
    "render",
    "rendered_part",
    "show",
]

if TYPE_CHECKING:
    from rectoplan.core.engine import Assessment, OptionOutcome

_LINE_WORDS = {0: "first line", 1: "second line"}


def show(value: Any) -> str:
    """A fact's value as the trace's 'facts used' shows it (a set's words are made once per set met)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is frozenset:
        found = _SHOWN_SETS.get(value)
        if found is None:
            found = _SHOWN_SETS.put(value, "{" + ", ".join(sorted(value)) + "}" if value else "none")
        return found
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}" if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_SHOWN_SETS: Bounded[frozenset[str], str] = Bounded(4096)  # a case's sets of drugs and classes recur


_new_option = tuple.__new__  # `OptionResult._make` without its check: the template has every field
_new = tuple.__new__  # a NamedTuple from all its fields, without its Python-level `__new__` (miss path)


def _offered(offered: list[Candidate], facts: dict[str, Any], caches: CoreCaches, intent: str) -> list[OptionResult]:
    """The offered options as users read them, best first: each its template with the case's rank, intent
    and facts used. Built per case (copies of the template's list and trace): caching whole options (few
    repeat) cost more, in memory the collector walks, than it saved. One loop for all: the engine's most
    repeated lines."""
    used_cache = caches.facts_used
    out = []
    for rank, c in enumerate(offered, start=1):
        template: Template = c.part
        setting = template.setting
        values = setting.shown_values(facts)
        used_key = (template.shown, values)
        used = used_cache.get(used_key)
        if used is None:
            shown = {n: show(v) for n, v in zip(setting.shown_facts, values, strict=True) if v is not None}
            used = used_cache.put(used_key, shown)
        trace = template.trace.copy()
        trace["rank"] = rank
        trace["facts_used"] = used
        fields = template.fields.copy()
        if fields[_INTENT] is None:
            fields[_INTENT] = intent
        fields[_RANK] = rank
        fields[_TRACE] = trace
        out.append(_new_option(OptionResult, fields))
    return out


def _excluded(outcome: OptionOutcome) -> Exclusion:
    held = outcome.status == "held"
    gates = outcome.holding if held else outcome.blocking
    reasons = tuple((g.unknown or g.reason) if held else g.reason for g in gates)
    cites = [c for g in gates for c in g.cite]
    opt = outcome.option
    return Exclusion(opt.id, opt.title, opt.components, reasons, _unique(cites), held, tuple(g.id for g in gates))


def _headline_option(options: list[OptionResult]) -> OptionResult:
    """The option the summary names: the first treatment that is preferred or an alternative, else the first.

    A trial ranks first only when no treatment is preferred (after a stroke, say, every bevacizumab doublet
    is lowered); the headline then names the standard regimen that leads the treatments, not the trial."""
    treatment = first_treatment(options)
    if treatment is not None and treatment.strength in ("preferred", "alternative"):
        return treatment
    return options[0]


def _summary(
    assessment: Assessment, options: list[OptionResult], excluded: int, held: int, tests: tuple[TestNeeded, ...]
) -> str:
    """The one-line summary; `excluded` counts the options kept out, `held` those of them held back."""
    line = assessment.facts["prior.line_count"]
    line_words = _LINE_WORDS.get(line) or f"after {line} prior lines"
    head = f"{assessment.intent.intent.capitalize()} intent, {line_words}"
    if options:
        top = _headline_option(options)
        head += f": {top.title} ({top.strength})"
        if len(options) > 1:
            head += f" + {len(options) - 1} more option{'s' if len(options) > 2 else ''}"
    else:
        head += ": no option offered"
    unsafe = excluded - held
    parts = [head]
    if unsafe:
        parts.append(f"{unsafe} excluded")
    if held:
        parts.append(f"{held} held back pending facts")
    if tests:
        parts.append("tests needed: " + ", ".join(map(_TEST, tests)))
    return "; ".join(parts) + "."


_TEST = attrgetter("test")


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


def _kept_out(outcome: OptionOutcome, index: int, offered: int, derived: Derived) -> Candidate:
    """The candidate of an option not offered (or found by the reference interpreter), from `_derived`."""
    part, blockers, holding = derived
    order = (part.held, part.id) if type(part) is Exclusion else (0, 0, 0)  # the order of exclusions shown
    made: Candidate = _new(Candidate, (outcome, part, index, offered, blockers, holding, order))
    return made


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


def render(assessment: Assessment, kb: KnowledgeBase, changes: tuple[Change, ...] = ()) -> Recommendation:
    facts = assessment.facts
    intent = assessment.intent.intent
    caches = caches_for(kb)
    offered: list[Candidate] = []
    kept_out: list[Candidate] = []
    held: list[Candidate] = []
    for c in assessment.candidates or candidates(assessment.outcomes):
        if c.offered >= 0:
            offered.append(c)
        elif c.part is not None:  # excluded or held (not indicated: silent)
            kept_out.append(c)
            if c.holding:
                held.append(c)
    offered.sort(key=_ORDER)
    options = _offered(offered, facts, caches, intent)
    kept_out.sort(key=_ORDER)  # unsafe first, then held back; each by id (`_kept_out`)
    excluded = [c.part for c in kept_out]
    tests = _tests_cached(assessment.tests, held, kb, caches)
    case_cautions = _case_cautions(assessment, caches)
    words = caches.once.get("words") or _words(kb, caches)
    terms = dict.fromkeys(chain.from_iterable(map(_TERMS, options)))
    return Recommendation(  # positional: fields in Recommendation order
        assessment.case.id,
        kb.version,
        _summary(assessment, options, len(excluded), len(held), tests),
        intent,
        assessment.intent.because,
        tuple(options),
        tuple(excluded),
        tests,
        changes,
        tuple(c.text for c in case_cautions),
        kb.disclaimer,
        assessment.intent.patient,
        tuple(filter(None, map(words[0].get, terms))),
        assessment.intent.id,
        words[1],
        case_cautions,
    )


def _case_cautions(assessment: Assessment, caches: CoreCaches) -> tuple[CitedNote, ...]:
    """The case-level warnings with their own references (one `CitedNote` per rule, made once)."""
    made: dict[tuple[str, bool], CitedNote] = caches.once.setdefault("case-cautions", {})
    out = []
    for rules, unknown in ((assessment.cautions, False), (assessment.unknown_cautions, True)):
        for c in rules:
            note = made.get((c.id, unknown))
            if note is None:
                text = c.unknown if unknown else c.text
                note = made[(c.id, unknown)] = _note(text, "warning" if unknown else c.severity, c.cite)
            out.append(note)
    return tuple(out)


_TERMS = attrgetter("glossary_terms")


def _words(kb: KnowledgeBase, caches: CoreCaches) -> tuple[dict[str, tuple[str, str]], tuple[tuple[str, str], ...]]:
    """What every recommendation of `kb` may show: the glossary's (term, definition) pairs by term, and the
    evidence scheme (made once per knowledge base)."""
    words = ({t: (t, g.definition) for t, g in kb.glossary.items()}, tuple(kb.evidence_levels.items()))
    caches.once["words"] = words
    return words
