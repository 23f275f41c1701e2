"""Proven safety and 'why not X?': the Python API behind `rectoplan kb verify` and `rectoplan why-not`.

    import rectoplan

    report = rectoplan.verify_knowledge()          # every invariant proved, or a counterexample case
    answer = rectoplan.why_not_offered(case, "pembrolizumab")
    print(answer.to_text())

The command line is a thin layer over these two functions (`rectoplan.verify.command`). z3 (the
'verify' extra) is imported only when a proof or a search runs, so importing this package never needs
it; without it those calls raise `ModuleNotFoundError` naming `z3`.

Implementation modules: `check` evaluates the invariants on one assessment (pure Python, no z3),
`prove` and `why_not` use the z3 encoding of `rectoplan.compile.z3_smt`, `report` holds the result types.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from rectoplan.api import validate_case
from rectoplan.core.case import Case
from rectoplan.core.errors import Problem, RectoplanError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import load_invariants
from rectoplan.kb.loader import default_knowledge, load_knowledge
from rectoplan.verify.report import InvariantResult, VerifyReport
from rectoplan.verify.why_not import FieldChange, RuleReason, WhyNotAnswer

__all__ = [
    "FieldChange",
    "InvariantResult",
    "OptionError",
    "RuleReason",
    "VerifyReport",
    "WhyNotAnswer",
    "verify_knowledge",
    "why_not_offered",
]


class OptionError(RectoplanError):
    """The option id asked about is not an option of the knowledge base (with a 'did you mean')."""


def verify_knowledge(
    kb: KnowledgeBase | str | PathLike[str] | None = None,
    *,
    invariants: str | PathLike[str] | None = None,
    timeout: float = 60.0,
) -> VerifyReport:
    """Prove every safety invariant over every case the case contract admits (z3), or find a violation.

    `kb` is a loaded `KnowledgeBase`, a knowledge directory (its own `invariants.yaml` is then used), or
    None for the shipped knowledge. `invariants` names another invariants file; `timeout` is the solver's
    limit per invariant, in seconds. A violated invariant carries a counterexample case (contract JSON)
    that was replayed through the Python engine. Raises `KnowledgeError` when the knowledge or the
    invariants do not load."""
    from rectoplan.verify.prove import prove  # z3: only when a proof runs

    folder = None if kb is None or isinstance(kb, KnowledgeBase) else Path(kb)
    if folder is not None:
        base = load_knowledge(folder)
    else:
        base = kb if isinstance(kb, KnowledgeBase) else default_knowledge()
    if invariants is not None:
        path: Path | None = Path(invariants)
    else:
        path = folder / "invariants.yaml" if folder is not None else None
    return prove(base, load_invariants(base, path), timeout_ms=int(timeout * 1000))


def why_not_offered(
    case: Case | Mapping[str, Any],
    option_id: str,
    kb: KnowledgeBase | None = None,
    *,
    search: bool = True,
) -> WhyNotAnswer:
    """Why an option is not offered for a case, and the smallest change to the case that would let it in.

    The rules come from the engine's own evaluation (they cannot disagree with `recommend`); with
    `search` (z3) up to three equally small sets of field changes are found and each is replayed through
    the engine (`verified`). An option that is offered says so, with its rank. `case` is a `Case` or a
    case mapping (validated first: `CaseError`); an unknown `option_id` raises `OptionError`."""
    from rectoplan.verify.why_not import why_not

    kb = kb or default_knowledge()
    if not isinstance(case, Case):
        case = validate_case(case, kb)
    ids = [o.id for o in kb.options]
    if option_id not in ids:
        near = difflib.get_close_matches(option_id, ids, n=1)
        hint = f"did you mean {near[0]!r}?" if near else "see `rectoplan recommend --format json`"
        raise OptionError([Problem("option_id", repr(option_id), "an option id of the knowledge base", hint)])
    return why_not(case, kb, option_id, search=search)
