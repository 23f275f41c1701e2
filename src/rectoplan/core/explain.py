"""Turn an assessment into words: clinician rationales, patient explanations, the one-line summary.

The medical content of every sentence comes from the knowledge base (setting reasons, gate reasons,
patient texts, glossary definitions); this module only arranges it, so reviewing the knowledge files
is reviewing what users read. What does not depend on the case (an offered option's template, an
exclusion) is made once per plan result in `_parts`; here it gets the case's rank, facts used, summary,
tests needed and warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from rectoplan.core._cache import Bounded, CoreCaches, caches_for
from rectoplan.core._parts import (
    _INTENT,
    _ORDER,
    _RANK,
    _TRACE,
    Template,
    _new_option,
    _note,
    _unique,
    candidates,
)
from rectoplan.core.knowledge import Citation, Gate, KnowledgeBase, TestRule
from rectoplan.core.recommendation import (
    Change,
    CitedNote,
    OptionResult,
    Recommendation,
    TestNeeded,
    first_treatment,
)
from rectoplan.core.reintroduction import headline_words
from rectoplan.core.trace import Candidate

if TYPE_CHECKING:
    from rectoplan.core.engine import Assessment, OptionOutcome

_LINE_WORDS = {0: "first line", 1: "second line"}
# A curative plan is not a line of treatment for advanced disease: its summary counts the lines given before
_CURATIVE_LINE_WORDS = {0: "no prior line", 1: "after 1 prior line"}


def show(value: Any) -> str:
    """A fact's value as the trace's 'facts used' shows it (a set's words are made once per set met)."""
    if type(value) is str:
        return value
    if isinstance(value, frozenset):
        found = _SHOWN_SETS.get(value)
        if found is None:
            found = _SHOWN_SETS.put(value, "{" + ", ".join(sorted(value)) + "}" if value else "none")
        return found
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_SHOWN_SETS: Bounded[frozenset[str], str] = Bounded(4096)  # a case's sets of drugs and classes recur


def _offered(offered: list[Candidate], facts: dict[str, Any], caches: CoreCaches, intent: str) -> list[OptionResult]:
    """The offered options as users read them, best first: each its template with the case's rank, intent
    and facts used. Built per case (copies of the template's list and trace): caching whole options (few
    repeat) cost more, in memory the collector walks, than it saved. One loop for all: the engine's most
    repeated lines."""
    used_cache = caches.facts_used
    used_get = used_cache.get
    out = []
    for rank, c in enumerate(offered, start=1):
        template: Template = c.part
        values = template.values(facts)
        used = used_get((template.shown, values))
        if used is None:
            names = template.setting.shown_facts
            shown = {n: show(v) for n, v in zip(names, values, strict=True) if v is not None}
            used = used_cache.put((template.shown, values), shown)
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


def _tests(rules: tuple[TestRule, ...], held: list[OptionOutcome], kb: KnowledgeBase) -> tuple[TestNeeded, ...]:
    """Tests needed: from test rules that fired and from gates that hold an option back."""
    found: dict[str, tuple[list[str], list[Citation]]] = {}
    for rule in rules:
        whys, cites = found.setdefault(rule.test, ([], []))
        whys.append(rule.why)
        cites += rule.cite
    for outcome in held:
        for gate in outcome.holding:
            if gate.test is None:
                continue
            whys, cites = found.setdefault(gate.test, ([], []))
            if gate.unknown not in whys:
                whys.append(gate.unknown)
            cites += gate.cite
    order = _test_order(kb)
    return tuple(
        TestNeeded(test, " ".join(dict.fromkeys(whys)), _unique(cites))
        for test, (whys, cites) in sorted(found.items(), key=lambda kv: order.get(kv[0], len(order)))
    )


def _test_order(kb: KnowledgeBase) -> dict[str, int]:
    once = caches_for(kb).once
    order: dict[str, int] | None = once.get("test-order")
    if order is None:
        order = once["test-order"] = {t: i for i, t in enumerate(kb.vocabulary.tests)}
    return order


def _tests_cached(
    rules: tuple[TestRule, ...], held: list[Candidate], kb: KnowledgeBase, caches: CoreCaches
) -> tuple[TestNeeded, ...]:
    """`_tests`, cached under the identities of the fired rules and of the holding gates.

    Identities, not rule ids: one gate id may carry different words in different options (the fitness gates
    of stop 17 say which operation is meant), and a key of ids then named two lists of tests, which had
    turned this cache off for every case. The rules and gates are the knowledge base's own objects, which
    it keeps as long as its caches live (`caches_for`): an identity names one rule while it is a key."""
    # the tests depend on the holding gates in order of first appearance (a gate met again adds nothing)
    gates = tuple(dict.fromkeys(map(id, chain.from_iterable(map(_HOLDING, held))))) if held else ()
    key = (tuple(map(id, rules)), gates)
    found = caches.tests.get(key)
    if found is None:
        found = caches.tests.put(key, _tests_shared(rules, list(map(_OUTCOME, held)), kb, caches))
    return found


_OUTCOME, _HOLDING = attrgetter("outcome"), attrgetter("holding")


def _tests_shared(
    rules: tuple[TestRule, ...], held: list[OptionOutcome], kb: KnowledgeBase, caches: CoreCaches
) -> tuple[TestNeeded, ...]:
    """`_tests` (which it equals: a test compares), each `TestNeeded` made once per (test, the ids of the
    rules and gates that ask for it) and shared by every case that needs it: a new combination of tests
    costs a few lookups, and its parts are serialised once (`rectoplan.api`). Keyed by identities, as
    `_tests_cached` is."""
    by_test: dict[str, tuple[list[TestRule], list[Gate]]] = {}
    for rule in rules:
        by_test.setdefault(rule.test, ([], []))[0].append(rule)
    for outcome in held:
        for gate in outcome.holding:
            if gate.test is not None:
                by_test.setdefault(gate.test, ([], []))[1].append(gate)
    order = _test_order(kb)
    out = []
    for test in sorted(by_test, key=lambda t: order.get(t, len(order))):
        asked_by, gates = by_test[test]
        key = (test, tuple(map(id, asked_by)), tuple(dict.fromkeys(map(id, gates))))
        part = caches.test_parts.get(key)
        if part is None:
            whys = [r.why for r in asked_by]
            whys += [g.unknown for g in gates]
            cites = [c for r in asked_by for c in r.cite]
            cites += [c for g in gates for c in g.cite]
            part = caches.test_parts.put(key, TestNeeded(test, " ".join(dict.fromkeys(whys)), _unique(cites)))
        out.append(part)
    return tuple(out)


def _headline_option(options: list[OptionResult]) -> OptionResult:
    """The option the summary names: the first treatment that is preferred or an alternative, else the first.

    A trial ranks first only when no treatment is preferred (after a stroke, say, every bevacizumab doublet
    is lowered); the headline then names the standard regimen that leads the treatments, not the trial."""
    treatment = first_treatment(options)
    if treatment is not None and treatment.strength in ("preferred", "alternative"):
        return treatment
    return options[0]


def _summary(
    assessment: Assessment,
    options: list[OptionResult],
    excluded: int,
    held: int,
    tests: tuple[TestNeeded, ...],
    kb: KnowledgeBase,
) -> str:
    """The one-line summary; `excluded` counts the options kept out, `held` those of them held back. The tests
    needed are named by their display names (vocabulary.yaml), as the text's TESTS NEEDED list, the handout and
    the CDS card name them: an id such as `liver_lesion_size` is not words a reader should see (stop 17)."""
    line = assessment.facts["prior.line_count"]
    intent = assessment.intent.intent
    line_words = (_CURATIVE_LINE_WORDS if intent == "curative" else _LINE_WORDS).get(
        line
    ) or f"after {line} prior lines"
    headline = _headline_option(options) if options else None
    if headline is not None and intent != "curative":  # a re-introduction of the induction is not "second line"
        line_words = headline_words(headline.kind, headline.phase, headline.components, assessment.facts) or line_words
    head = f"{intent.capitalize()} intent, {line_words}"
    if headline is not None:
        head += f": {headline.named()}"
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
        names = kb.vocabulary.tests  # not `vocabulary.display`: a procedure of the same id would win there
        parts.append("tests needed: " + ", ".join(names[t.test].display if t.test in names else t.test for t in tests))
    return "; ".join(parts) + "."


def render(assessment: Assessment, kb: KnowledgeBase, changes: tuple[Change, ...] = ()) -> Recommendation:
    facts = assessment.facts
    intent = assessment.intent.intent
    caches = caches_for(kb)
    offered: list[Candidate] = list(assessment.offered)
    kept: Sequence[Candidate] = assessment.kept
    if not (offered or kept):  # assessed by the reference interpreter (or nothing applies)
        found = candidates(assessment.outcomes)
        offered = [c for c in found if c.offered >= 0]
        kept = [c for c in found if c.offered < 0]
    kept_out = list(filter(_PART, kept))  # excluded or held (not indicated: no part, silent)
    held = list(filter(_HOLDING, kept_out))
    offered.sort(key=_ORDER)
    options = _offered(offered, facts, caches, intent)
    kept_out.sort(key=_ORDER)  # unsafe first, then held back; each by id (`_kept_out`)
    excluded = list(map(_PART, kept_out))
    tests = _tests_cached(assessment.tests, held, kb, caches)
    case_cautions = _case_cautions(assessment, caches)
    words = caches.once.get("words") or _words(kb, caches)
    terms = dict.fromkeys(chain.from_iterable(map(_TERMS, options)))
    return Recommendation(  # positional: fields in Recommendation order
        assessment.case.id,
        kb.version,
        _summary(assessment, options, len(excluded), len(held), tests, kb),
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


_TERMS, _PART = attrgetter("glossary_terms"), attrgetter("part")


def _words(kb: KnowledgeBase, caches: CoreCaches) -> tuple[dict[str, tuple[str, str]], tuple[tuple[str, str], ...]]:
    """What every recommendation of `kb` may show: the glossary's (term, definition) pairs by term, and the
    evidence scheme (made once per knowledge base)."""
    words = ({t: (t, g.definition) for t, g in kb.glossary.items()}, tuple(kb.evidence_levels.items()))
    caches.once["words"] = words
    return words
