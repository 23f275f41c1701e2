"""Invariants evaluated on one assessment, in plain Python: the reference the z3 encoding must match.

`decision_facts` turns the engine's trace into the `outcome.*` and `plan.*` facts of the invariant
vocabulary (see `rectoplan.kb.invariants`); `violations` checks every invariant on one case. Tests use
it to confirm that a counterexample found by z3 really reproduces through `rectoplan.api.recommend`,
and the differential test compares these facts with the solver's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rectoplan.core.conditions import evaluate
from rectoplan.core.engine import Assessment, OptionOutcome
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import NONE, Invariant, option_facts


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    option: str | None  # None for a plan invariant
    statement: str


def plan_facts(assessment: Assessment) -> dict[str, Any]:
    shown = [c.id for c in assessment.cautions if c.text]
    shown += [c.id for c in assessment.unknown_cautions if c.unknown]
    return {**assessment.facts, "plan.warnings": frozenset(shown)}


def outcome_facts(outcome: OptionOutcome, facts: dict[str, Any]) -> dict[str, Any]:
    """The decision about one option as facts; warnings and notes only count when shown (offered).

    Branchy by design: one fact per part of an option's outcome."""
    setting = outcome.setting
    offered = outcome.status == "offered"
    warnings: set[str] = set()
    notes: set[str] = set()
    if offered:
        warnings.update(g.id for g in outcome.warned if g.unknown)
        warnings.update(c.id for c in outcome.cautions if c.severity == "warning" and c.text)
        warnings.update(c.id for c in outcome.unknown_cautions if c.unknown)
        notes.update(c.id for c in outcome.cautions if c.severity == "note" and c.text)
    if offered:
        assert setting is not None
        cited = bool(outcome.option.cite) and bool(setting.cite)
    elif outcome.status == "excluded":
        cited = all(g.cite for g in outcome.blocking)
    elif outcome.status == "held":
        cited = all(g.cite for g in outcome.holding)
    else:
        cited = True
    return {
        "outcome.status": outcome.status,
        "outcome.phase": setting.phase if setting else NONE,
        "outcome.strength": setting.strength if setting else NONE,
        "outcome.intent": (setting.intent or facts["plan.intent"]) if setting else NONE,
        "outcome.warnings": frozenset(warnings),
        "outcome.notes": frozenset(notes),
        "outcome.cited": cited,
    }


def violations(assessment: Assessment, kb: KnowledgeBase, invariants: tuple[Invariant, ...]) -> list[Violation]:
    """Every invariant that fails for this case (empty when the recommendation is safe)."""
    plan = plan_facts(assessment)
    found: list[Violation] = []
    for inv in invariants:
        if inv.applies_to is None:
            if evaluate(inv.when, plan) is True and evaluate(inv.then, plan) is not True:
                found.append(Violation(inv.id, None, inv.statement))
            continue
        for outcome in assessment.outcomes:
            pair = inv.bound(option_facts(outcome.option, kb))
            if pair is None:
                continue
            facts = {**plan, **outcome_facts(outcome, plan)}
            when, then = pair
            if evaluate(when, facts) is True and evaluate(then, facts) is not True:
                found.append(Violation(inv.id, outcome.option.id, inv.statement))
    return found
