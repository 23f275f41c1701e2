"""`rectoplan kb verify`: prove every invariant over all admitted cases, or find a counterexample.

For each invariant the solver is asked for a case (any case contract 1 admits) and an option the
invariant applies to such that `when` is TRUE and `then` is not. UNSAT is a proof over every case; SAT
yields a model, which is shrunk (a MaxSAT pass prefers absent fields, so the case shows only what
matters), turned into a case JSON, and replayed through the Python engine to confirm that
`rectoplan recommend` really reproduces the violation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from rectoplan.adapters.case_json import parse_case
from rectoplan.compile.z3_smt import MAX_LINES, Conditions, Engine, any_of
from rectoplan.core.engine import assess
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import Invariant, option_facts
from rectoplan.verify.casejson import model_case
from rectoplan.verify.check import violations

Verdict = Literal["proved", "violated", "unknown"]


@dataclass
class Result:
    invariant: Invariant
    verdict: Verdict
    options: int  # options the invariant applies to (0 for a plan invariant)
    seconds: float
    option: str | None = None  # the violating option (None for a plan invariant)
    counterexample: dict[str, Any] | None = None
    reproduced: bool | None = None  # the counterexample violates the invariant through the Python engine
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.invariant.id,
            "verdict": self.verdict,
            "statement": self.invariant.statement,
            "options": self.options,
            "seconds": round(self.seconds, 4),
        }
        if self.verdict == "violated":
            out.update(option=self.option, counterexample=self.counterexample, reproduced=self.reproduced)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    build_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.verdict == "proved" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "proved": sum(r.verdict == "proved" for r in self.results),
            "invariants": len(self.results),
            "seconds": round(self.seconds, 3),
            "encode_seconds": round(self.build_seconds, 3),
            "results": [r.to_dict() for r in self.results],
        }


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


def prove(kb: KnowledgeBase, invariants: tuple[Invariant, ...], timeout_ms: int = 60000, shrink: bool = True) -> Report:
    """Prove each invariant over every case the contract admits, for this knowledge base."""
    start = time.perf_counter()
    engine = Engine(kb)
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*engine.case.contract())
    report = Report(build_seconds=time.perf_counter() - start)
    for inv in invariants:
        t0 = time.perf_counter()
        terms = violation_terms(engine, inv)
        applies = sum(1 for o, _ in terms if o is not None)
        answer = solver.check(any_of([t for _, t in terms]))
        if answer == z3.unsat:
            report.results.append(Result(inv, "proved", applies, time.perf_counter() - t0))
            continue
        if answer != z3.sat:
            report.results.append(
                Result(inv, "unknown", applies, time.perf_counter() - t0, detail=str(solver.reason_unknown()))
            )
            continue
        model = solver.model()
        option, term = next((o, t) for o, t in terms if z3.is_true(model.eval(t, model_completion=True)))
        ident = f"counterexample-{inv.id}"
        case = (smallest_case(engine, term, ident) if shrink else None) or model_case(engine.case, model, ident)
        result = Result(inv, "violated", applies, 0.0, option, case)
        try:
            result.reproduced = replay(kb, invariants, inv, case, option)
        except Exception as exc:  # a counterexample the validator rejects is an encoding bug: say so
            result.reproduced, result.detail = False, f"counterexample not accepted: {exc}"
        result.seconds = time.perf_counter() - t0
        report.results.append(result)
    report.seconds = time.perf_counter() - start
    return report
