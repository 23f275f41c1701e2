"""The per-case reference: the engine's recommendation as a cohort result row.

`result_row` projects a `Recommendation` (contract 2, from `rectoplan.core.engine.recommend`) onto the
cohort result columns. The `python` engine of `rectoplan cohort` is this function in a loop, and the
equivalence tests compare the compiled plans against it row by row.
"""

from __future__ import annotations

from typing import Any

from rectoplan.compile.plan import SEP
from rectoplan.core.case import Case
from rectoplan.core.engine import Assessment, assess
from rectoplan.core.explain import render
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation


def evaluate(case: Case, kb: KnowledgeBase) -> dict[str, Any]:
    """The cohort columns of one case, by the per-case engine (what `recommend(case, kb, what_if=False)`
    renders, plus the ids of the global cautions, which the recommendation carries as text only)."""
    assessment = assess(case, kb)
    return result_row(render(assessment, kb), assessment)


def result_row(rec: Recommendation, assessment: Assessment) -> dict[str, Any]:
    """The cohort columns of one recommendation (see docs/cohort.md)."""
    unsafe = [e for e in rec.excluded if not e.held]
    held = [e for e in rec.excluded if e.held]
    return {
        "intent": rec.intent,
        "intent_rule": assessment.intent.id,
        "options": " ".join(o.id for o in rec.options),
        "settings": " ".join(o.setting for o in rec.options),
        "excluded": " ".join(e.id for e in unsafe),
        "exclusions": " ".join(f"{e.id}{SEP}{rule}" for e in unsafe for rule in e.rules),
        "held": " ".join(e.id for e in held),
        "holds": " ".join(f"{e.id}{SEP}{rule}" for e in held for rule in e.rules),
        "tests_needed": " ".join(t.test for t in rec.tests_needed),
        "cautions": " ".join(c.id for c in assessment.cautions),
        "cautions_unknown": " ".join(c.id for c in assessment.unknown_cautions),
    }
