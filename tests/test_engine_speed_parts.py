"""The engine assembles an offered option's template and the tests needed from parts made once per knowledge
base (`_parts._offered_candidate`, `explain._tests_shared`); here each must equal what the reference
functions make from the outcome alone, on generated cases reaching warnings, notes, unknown cautions,
passed checks, held options and tests."""

from __future__ import annotations

from rectoplan.api import validate_case
from rectoplan.core import _parts, explain
from rectoplan.core._cache import caches_for
from rectoplan.core.engine import Assessment, assess
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases
from rectoplan.synthetic import random_cases


def _assessments(kb: KnowledgeBase) -> list[Assessment]:
    data = [*(case for _, case in demo_cases()), *random_cases(400, 31)]
    return [assess(validate_case(d, kb), kb) for d in data]


def test_offered_templates_equal_the_reference_template(kb: KnowledgeBase) -> None:
    seen = {"warnings": 0, "notes": 0, "passed": 0, "unknown": 0}
    for a in _assessments(kb):
        for c in a.candidates:
            if c.offered < 0:
                continue
            reference = _parts._option_template(c.outcome)
            assert c.part.fields == reference.fields
            assert c.part.trace == reference.trace
            assert (c.part.setting, c.part.order) == (reference.setting, reference.order)
            seen["warnings"] += bool(c.outcome.warned or c.outcome.cautions)
            seen["notes"] += bool(reference.fields[_parts._NOTES])
            seen["passed"] += bool(c.outcome.passed)
            seen["unknown"] += bool(c.outcome.unknown_cautions)
    assert min(seen.values()) > 5, seen  # every kind of part was met


def test_shared_tests_needed_equal_the_reference_tests(kb: KnowledgeBase) -> None:
    caches = caches_for(kb)
    compared = 0
    for a in _assessments(kb):
        held = [c.outcome for c in a.candidates if c.holding]
        rules = a.tests
        expected = explain._tests(rules, held, kb)
        assert explain._tests_shared(rules, held, kb, caches) == expected
        compared += len(expected) > 1 and bool(held)
    assert compared > 20
