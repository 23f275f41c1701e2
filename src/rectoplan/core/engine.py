"""The engine: `assess` evaluates the knowledge base for one case; `recommend` renders the result.

Pure: no I/O, no clock, no globals. The order of work mirrors how a tumour board reasons: decide the
intent of treatment, then for every option find the situation (setting) it fits, then apply its
requirements and exclusions, then rank what is left. `assess` keeps the whole trace so that
'why not X?' and 'what would change the plan' can be answered from the same evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress, repeat
from operator import and_, is_
from typing import Any

from rectoplan.core._cache import Bounded, CoreCaches, Fired, caches_for
from rectoplan.core._parts import candidate, prepare
from rectoplan.core.case import Case
from rectoplan.core.conditions import Tri
from rectoplan.core.continuation import with_history
from rectoplan.core.explain import render
from rectoplan.core.facts import Facts, case_facts
from rectoplan.core.knowledge import Caution, Gate, IntentRule, KnowledgeBase, Option, Setting, TestRule
from rectoplan.core.plan import PlanResult, compile_engine_plan, expand
from rectoplan.core.recommendation import Recommendation
from rectoplan.core.trace import Candidate, OptionOutcome, Status
from rectoplan.core.whatif import what_would_change


class Assessment:
    """The full trace of one evaluation (immutable by convention: slots, set once).

    `outcomes` holds every option's `OptionOutcome`, in knowledge order. The compiled plan's assessment
    keeps its candidates instead (the cached `Candidate` of each option whose setting applies: outcome,
    rendered part, what what-if needs; `offered` and `kept` out, each in knowledge order; `candidates`, both)
    and builds `outcomes` only when asked: rendering and what-if never read it, and a candidate kept out is
    cached without its setting, which `kept_settings` (the plan's fifth result) gives back. Assessed by the
    reference interpreter, it has no candidates; `render` and what-if then derive them from `outcomes`
    (`_parts.candidates`)."""

    __slots__ = (
        "_idle",
        "_kept_settings",
        "_outcomes",
        "case",
        "cautions",
        "facts",
        "intent",
        "kept",
        "offered",
        "tests",
        "unknown_cautions",
    )

    def __init__(
        self,
        case: Case,
        facts: Facts,
        intent: IntentRule,
        outcomes: tuple[OptionOutcome, ...] | None,
        tests: tuple[TestRule, ...],
        cautions: tuple[Caution, ...],
        unknown_cautions: tuple[Caution, ...],
        offered: Sequence[Candidate] = (),
        kept: Sequence[Candidate] = (),
        kept_settings: Sequence[int] = (),
        idle: tuple[OptionOutcome, ...] = (),
    ) -> None:
        self.case = case
        self.facts = facts
        self.intent = intent
        self.tests = tests
        self.cautions = cautions
        self.unknown_cautions = unknown_cautions
        self.offered = offered
        self.kept = kept
        self._outcomes = outcomes
        self._kept_settings = kept_settings
        self._idle = idle  # every option's outcome when no setting applies (`kb.idle_outcomes`)

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return (*self.offered, *self.kept)

    @property
    def outcomes(self) -> tuple[OptionOutcome, ...]:
        found = self._outcomes
        if found is None:
            outcomes = list(self._idle)
            settings = iter(self._kept_settings)
            for c in self.candidates:
                o = c.outcome
                if c.offered < 0:  # kept out: cached without its setting
                    o = o._replace(setting=o.option.settings[next(settings)])
                outcomes[c.position] = o
            found = self._outcomes = tuple(outcomes)
        return found


def decide_intent(facts: Facts, kb: KnowledgeBase) -> IntentRule:
    """First intent rule that is true; the knowledge base must end with an unconditional rule."""
    for rule in kb.intents:
        if rule.check(facts) is True:
            return rule
    return kb.intents[-1]


__all__ = [
    "Assessment",
    "OptionOutcome",
    "Status",
    "assess",
    "assess_option",
    "assess_reference",
    "recommend",
]


def assess_option(option: Option, facts: Facts) -> OptionOutcome:
    """Reference semantics for one option (closure interpreter); `assess` uses the compiled plan.

    Both paths share `_outcome`, so they differ only in how conditions are evaluated, which is what
    `tests/test_plan.py` compares.
    """
    for setting in option.settings:
        if setting.check(facts) is True:
            gates = tuple(g.check(facts) for g in option.gates)
            cautions = tuple(c.check(facts) for c in option.cautions)
            return _outcome(option, setting, gates, cautions)
    return OptionOutcome(option, "not_applicable")


def facts_with_intent(case: Case, kb: KnowledgeBase) -> tuple[Facts, IntentRule]:
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    intent = decide_intent(facts, kb)
    facts["plan.intent"] = intent.intent
    return facts, intent


def assess_facts(case: Case, facts: Facts, intent: IntentRule, kb: KnowledgeBase) -> Assessment:
    outcomes = tuple(assess_option(option, facts) for option in kb.options)
    tests = tuple(rule for rule in kb.test_rules if rule.check(facts) is True)
    cautions = []
    unknown = []
    for caution in kb.global_cautions:
        r = caution.check(facts)
        if r is True:
            cautions.append(caution)
        elif r is None and caution.unknown:
            unknown.append(caution)
    return Assessment(case, facts, intent, outcomes, tests, tuple(cautions), tuple(unknown))


def assess_reference(case: Case, kb: KnowledgeBase) -> Assessment:
    """Evaluate every rule with the closure interpreter: slower, the reference the plan is tested against."""
    facts, intent = facts_with_intent(case, kb)
    return assess_facts(case, facts, intent, kb)


def _outcome(
    option: Option, setting: Setting | None, gate_results: Sequence[Tri], caution_results: Sequence[Tri]
) -> OptionOutcome:
    """Classify one candidate option from its setting and the results of its gates and cautions (the
    engine's candidates kept out pass no setting: see `Assessment`)."""
    failed: list[Gate] = []
    excluded: list[Gate] = []
    holding: list[Gate] = []
    warned: list[Gate] = []
    passed: list[Gate] = []
    for gate, r in zip(option.gates, gate_results, strict=True):
        if r is False and gate.effect == "excludes":
            passed.append(gate)
        elif r is None:
            if gate.on_unknown == "hold":
                holding.append(gate)
            elif gate.on_unknown == "warn":
                warned.append(gate)
        elif gate.effect == "requires":
            if r is False:
                failed.append(gate)
        elif r is True:
            excluded.append(gate)
    if failed:
        return _new(OptionOutcome, (option, "not_indicated", setting, tuple(failed), (), (), (), (), ()))
    if excluded:
        return _new(OptionOutcome, (option, "excluded", setting, tuple(excluded), tuple(holding), (), (), (), ()))
    if holding:
        return _new(OptionOutcome, (option, "held", setting, (), tuple(holding), tuple(warned), (), (), ()))
    cautions = option.cautions
    fired: tuple[Caution, ...] = ()
    unknown: tuple[Caution, ...] = ()
    if True in caution_results:  # most candidates: no caution applies, or none is unknown
        fired = tuple([c for c, r in zip(cautions, caution_results, strict=True) if r is True])
    if None in caution_results:
        unknown = tuple([c for c, r in zip(cautions, caution_results, strict=True) if r is None and c.unknown])
    made: OptionOutcome = _new(
        OptionOutcome, (option, "offered", setting, (), (), tuple(warned), fired, unknown, tuple(passed))
    )
    return made


_new = tuple.__new__  # a NamedTuple from all its fields, without its Python-level `__new__`


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    """Evaluate every rule of `kb` for `case` with the compiled plan, keeping the full trace.

    An option's outcome is a pure function of its plan result (the candidate key), so outcomes and
    their rendered parts are cached per knowledge base under that key (`rectoplan.core._cache`).
    """
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    caches = caches_for(kb)
    plan = caches.once.get("plan") or _compile_plan(kb, caches)
    intent_index, keys, test_results, caution_results, kept_settings, offered_keys = plan(facts)
    get = caches.outcomes.__getitem__  # in C; a candidate met for the first time is made (`_candidate`)
    offered = list(map(get, offered_keys))
    kept = list(map(get, keys))
    tests = caches.tests_fired.get(test_results) or _fired(kb.test_rules, test_results, caches.tests_fired, caches.once)
    cautions = caches.cautions_fired.get(caution_results) or _fired(
        kb.global_cautions, caution_results, caches.cautions_fired, caches.once
    )
    intent = kb.intents[intent_index]
    return Assessment(case, facts, intent, None, tests[0], *cautions, offered, kept, kept_settings, kb.idle_outcomes)


def _candidate(key: tuple[Any, ...], kb: KnowledgeBase, caches: CoreCaches) -> Candidate:
    """The candidate of a plan result met for the first time (cached)."""
    index, setting, results = expand(key, caches.once["plan-layouts"])
    option = kb.options[index]
    split = len(option.gates)
    outcome = _outcome(option, option.settings[setting] if setting >= 0 else None, results[:split], results[split:])
    return caches.outcomes.put(key, candidate(index, outcome, kb, setting, caches))


def _fired(rules: tuple[Any, ...], results: tuple[Tri, ...], cache: Bounded[Any, Fired], once: dict[str, Any]) -> Fired:
    """The rules whose condition holds, and those unknown that say so (cautions with an `unknown` text),
    cached under the plan's results. Picked in C (`compress`): the global cautions' results recur less
    than the options' (about one case in three meets a new combination), so a miss is on the hot path.
    `once`: the knowledge base's `CoreCaches.once`, which keeps per tuple of rules which ones speak."""
    true = tuple(compress(rules, map(is_, results, _ALWAYS_TRUE)))
    if None not in results:
        return cache.put(results, (true, ()))
    speaks = once.get(f"speaks-{id(rules)}")  # the knowledge base keeps its rules: an id names one tuple
    if speaks is None:
        speaks = once[f"speaks-{id(rules)}"] = tuple(isinstance(r, Caution) and bool(r.unknown) for r in rules)
    unknown = tuple(compress(rules, map(and_, map(is_, results, _ALWAYS_NONE), speaks)))
    return cache.put(results, (true, unknown))


_ALWAYS_TRUE, _ALWAYS_NONE = repeat(True), repeat(None)


def _compile_plan(kb: KnowledgeBase, caches: CoreCaches) -> Callable[[Facts], PlanResult]:
    """The engine's plan of `kb` (`plan.compile_engine_plan`: its candidates are the outcome cache's keys),
    compiled on first use and kept with the caches."""
    plan, _, layouts = compile_engine_plan(
        tuple((r.when, r.intent) for r in kb.intents),
        tuple(
            (
                tuple(s.when for s in o.settings),
                tuple((g.when, g.effect, g.on_unknown) for g in o.gates),
                tuple((c.when, bool(c.unknown)) for c in o.cautions),
            )
            for o in kb.options
        ),
        tuple(t.when for t in kb.test_rules),
        tuple(c.when for c in kb.global_cautions),
    )
    caches.once["plan-layouts"] = layouts
    caches.outcomes.make = lambda key: _candidate(key, kb, caches)
    prepare(kb, caches)
    caches.once["plan"] = plan
    return plan


def recommend(case: Case, kb: KnowledgeBase, what_if: bool = True) -> Recommendation:
    """The ranked, explained, cited recommendation for a validated case.

    `what_if` adds 'what would change the plan' (re-evaluating the case for each value of each unknown
    fact); it is the costly part, so cohort runs and the latency benchmark can leave it out.
    """
    assessment = assess(case, kb)
    changes = what_would_change(assessment, kb) if what_if else ()
    return with_history(render(assessment, kb, changes), assessment.facts, assessment.cautions)
