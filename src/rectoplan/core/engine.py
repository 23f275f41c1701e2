"""The engine: `assess` evaluates the knowledge base for one case; `recommend` renders the result.

Pure: no I/O, no clock, no globals. The order of work mirrors how a tumour board reasons: decide the
intent of treatment, then for every option find the situation (setting) it fits, then apply its
requirements and exclusions, then rank what is left. `assess` keeps the whole trace so that
'why not X?' and 'what would change the plan' can be answered from the same evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rectoplan.core.case import Case
from rectoplan.core.explain import render
from rectoplan.core.facts import Facts, case_facts
from rectoplan.core.knowledge import Caution, Gate, IntentRule, KnowledgeBase, Option, Setting, TestRule
from rectoplan.core.recommendation import Recommendation
from rectoplan.core.whatif import what_would_change

Status = Literal["offered", "excluded", "held", "not_indicated", "not_applicable"]


@dataclass(frozen=True, slots=True)
class OptionOutcome:
    """What happened to one option for one case, with every rule that decided it."""

    option: Option
    status: Status
    setting: Setting | None = None
    blocking: tuple[Gate, ...] = ()  # exclusions that held (listed) or requirements that failed (silent)
    holding: tuple[Gate, ...] = ()  # gates whose facts are unknown and that hold the option back
    warned: tuple[Gate, ...] = ()  # gates whose facts are unknown and that only warn
    cautions: tuple[Caution, ...] = ()  # cautions that apply
    unknown_cautions: tuple[Caution, ...] = ()  # cautions whose facts are unknown


@dataclass(frozen=True, slots=True)
class Assessment:
    case: Case
    facts: Facts
    intent: IntentRule
    outcomes: tuple[OptionOutcome, ...]
    tests: tuple[TestRule, ...]
    cautions: tuple[Caution, ...]
    unknown_cautions: tuple[Caution, ...]


def decide_intent(facts: Facts, kb: KnowledgeBase) -> IntentRule:
    """First intent rule that is true; the knowledge base must end with an unconditional rule."""
    for rule in kb.intents:
        if rule.check(facts) is True:
            return rule
    return kb.intents[-1]


def assess_option(option: Option, facts: Facts) -> OptionOutcome:
    setting = None
    for s in option.settings:
        if s.check(facts) is True:
            setting = s
            break
    if setting is None:
        return OptionOutcome(option, "not_applicable")
    failed: list[Gate] = []
    excluded: list[Gate] = []
    holding: list[Gate] = []
    warned: list[Gate] = []
    for gate in option.gates:
        result = gate.check(facts)
        if result is None:
            if gate.on_unknown == "hold":
                holding.append(gate)
            elif gate.on_unknown == "warn":
                warned.append(gate)
        elif gate.effect == "requires" and result is False:
            failed.append(gate)
        elif gate.effect == "excludes" and result is True:
            excluded.append(gate)
    if failed:
        return OptionOutcome(option, "not_indicated", setting, tuple(failed))
    if excluded:
        return OptionOutcome(option, "excluded", setting, tuple(excluded), tuple(holding))
    if holding:
        return OptionOutcome(option, "held", setting, (), tuple(holding), tuple(warned))
    fired = []
    unknown = []
    for caution in option.cautions:
        r = caution.check(facts)
        if r is True:
            fired.append(caution)
        elif r is None and caution.unknown:
            unknown.append(caution)
    return OptionOutcome(option, "offered", setting, (), (), tuple(warned), tuple(fired), tuple(unknown))


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


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    """Evaluate every rule of `kb` for `case`, keeping the full trace."""
    facts, intent = facts_with_intent(case, kb)
    return assess_facts(case, facts, intent, kb)


def recommend(case: Case, kb: KnowledgeBase, what_if: bool = True) -> Recommendation:
    """The ranked, explained, cited recommendation for a validated case.

    `what_if` adds 'what would change the plan' (re-evaluating the case for each value of each unknown
    fact); it is the costly part, so cohort runs and the latency benchmark can leave it out.
    """
    assessment = assess(case, kb)
    changes = what_would_change(assessment, kb) if what_if else ()
    return render(assessment, kb, changes)
