"""`rectoplan kb verify`: prove every invariant over all admitted cases, or find a counterexample.

For each invariant the solver is asked for a case (any case contract 1 admits) and an option the
invariant applies to such that `when` is TRUE and `then` is not. UNSAT is a proof over every case; SAT
yields a model, which is shrunk (a MaxSAT pass prefers absent fields, so the case shows only what
matters), turned into a case JSON, and replayed through the Python engine to confirm that
`rectoplan recommend` really reproduces the violation.
"""

from __future__ import annotations

import time
from typing import Any

import z3

from rectoplan.adapters.case_json import parse_case
from rectoplan.compile.z3_smt import MAX_LINES, Conditions, Engine, any_of
from rectoplan.core.engine import assess
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import Invariant, option_facts
from rectoplan.verify.casejson import model_case
from rectoplan.verify.check import violations
from rectoplan.verify.report import InvariantResult, VerifyReport


def violation_terms(engine: Engine, inv: Invariant) -> list[tuple[str | None, Any]]:
    """(option id or None, 'this invariant is violated') for every option the invariant applies to."""
    if inv.applies_to is None:
        cond = Conditions(engine.env_for(None))
        return [(None, z3.And(cond.tri(inv.when)[0], z3.Not(cond.tri(inv.then)[0])))]
    out: list[tuple[str | None, Any]] = []
    for option in engine.kb.options:
        pair = inv.bound(option_facts(option, engine.kb))
        if pair is None:
            continue
        cond = Conditions(engine.env_for(option.id))
        when, then = pair
        out.append((option.id, z3.And(cond.tri(when)[0], z3.Not(cond.tri(then)[0]))))
    return out


def smallest_case(engine: Engine, violation: Any, ident: str, timeout_ms: int = 20000) -> dict[str, Any] | None:
    """A case with the fewest fields present that still violates (MaxSAT over 'field absent')."""
    opt = z3.Optimize()
    opt.set("timeout", timeout_ms)
    opt.add(*engine.case.contract(), violation)
    for absent in engine.case.absent().values():
        opt.add_soft(absent, 100)
    for agent in engine.case.agents.values():  # then the shortest treatment history
        opt.add_soft(z3.Not(agent), 1)
    for k in range(MAX_LINES):
        opt.add_soft(engine.case.lines <= k, 1)
    for member in (*engine.case.psym.values(), *engine.case.lrsym.values(), *engine.case.surg.values()):
        opt.add_soft(z3.Not(member), 1)
    if opt.check() != z3.sat:
        return None
    return model_case(engine.case, opt.model(), ident)


def replay(
    kb: KnowledgeBase,
    invariants: tuple[Invariant, ...],
    inv: Invariant,
    case: dict[str, Any],
    option: str | None,
) -> bool:
    """Does the Python engine, on this case JSON, violate the invariant for this option?"""
    parsed = parse_case(case, kb.vocabulary.drugs, kb.vocabulary.procedures)
    found = violations(assess(parsed, kb), kb, (inv,))
    return any(v.option == option for v in found)


def prove(
    kb: KnowledgeBase, invariants: tuple[Invariant, ...], timeout_ms: int = 60000, shrink: bool = True
) -> VerifyReport:
    """Prove each invariant over every case the contract admits, for this knowledge base."""
    start = time.perf_counter()
    engine = Engine(kb)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*engine.case.contract())
    report = VerifyReport(build_seconds=time.perf_counter() - start, knowledge_options=len(kb.options))
    for inv in invariants:
        t0 = time.perf_counter()
        terms = violation_terms(engine, inv)
        applies = sum(1 for o, _ in terms if o is not None)
        answer = solver.check(any_of([t for _, t in terms]))
        if answer == z3.unsat:
            report.results.append(InvariantResult(inv, "proved", applies, time.perf_counter() - t0))
            continue
        if answer != z3.sat:
            report.results.append(
                InvariantResult(inv, "unknown", applies, time.perf_counter() - t0, detail=str(solver.reason_unknown()))
            )
            continue
        model = solver.model()
        option, term = next((o, t) for o, t in terms if z3.is_true(model.eval(t, model_completion=True)))
        ident = f"counterexample-{inv.id}"
        case = (smallest_case(engine, term, ident) if shrink else None) or model_case(engine.case, model, ident)
        result = InvariantResult(inv, "violated", applies, 0.0, option, case)
        try:
            result.reproduced = replay(kb, invariants, inv, case, option)
        except CaseError as exc:  # a counterexample the validator rejects is an encoding bug: say so
            result.reproduced, result.detail = False, f"counterexample not accepted: {exc}"
        result.seconds = time.perf_counter() - t0
        report.results.append(result)
    report.seconds = time.perf_counter() - start
    return report
