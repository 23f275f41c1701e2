"""The tests a recommendation asks for: from the test rules that fired and from the gates that hold an option
back until a fact is known, each test once, in the vocabulary's order (split from `rectoplan.core.explain`).

`_tests` is the reference; the engine uses `_tests_cached`, which makes each `TestNeeded` once per (test,
rules and gates asking for it) and shares it across cases (`_tests_shared`; a test compares the two).
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from rectoplan.core._cache import CoreCaches, caches_for
from rectoplan.core._cited import _unique
from rectoplan.core.knowledge import Citation, Gate, KnowledgeBase, TestRule
from rectoplan.core.recommendation import TestNeeded
from rectoplan.core.trace import Candidate

if TYPE_CHECKING:
    from rectoplan.core.engine import OptionOutcome

_ID = attrgetter("id")


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
    """`_tests`, cached under the ids of the fired rules and of the holding gates: exact when each id names
    one rule and each gate id one (test, text, citations), which `_ids_name_contents` checks once."""
    keyable = caches.once.get("tests-keyable")
    if keyable is None:
        keyable = caches.once["tests-keyable"] = _ids_name_contents(kb)
    outcomes = [c.outcome for c in held]
    if not keyable:
        return _tests(rules, outcomes, kb)
    # the tests depend on the holding gates in order of first appearance (a gate met again adds nothing)
    key = (tuple(r.id for r in rules), tuple(dict.fromkeys(chain.from_iterable(c.holding for c in held))))
    found = caches.tests.get(key)
    return found if found is not None else caches.tests.put(key, _tests_shared(rules, outcomes, kb, caches))


def _tests_shared(
    rules: tuple[TestRule, ...], held: list[OptionOutcome], kb: KnowledgeBase, caches: CoreCaches
) -> tuple[TestNeeded, ...]:
    """`_tests` (which it equals: a test compares), each `TestNeeded` made once per (test, the ids of the
    rules and gates that ask for it) and shared by every case that needs it: a new combination of tests
    costs a few lookups, and its parts are serialised once (`rectoplan.api`). Exact under the same
    condition as `_tests_cached`."""
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
        key = (test, tuple(map(_ID, asked_by)), tuple(dict.fromkeys(map(_ID, gates))))
        part = caches.test_parts.get(key)
        if part is None:
            whys = [r.why for r in asked_by]
            whys += [g.unknown for g in gates]
            cites = [c for r in asked_by for c in r.cite]
            cites += [c for g in gates for c in g.cite]
            part = caches.test_parts.put(key, TestNeeded(test, " ".join(dict.fromkeys(whys)), _unique(cites)))
        out.append(part)
    return tuple(out)


def _ids_name_contents(kb: KnowledgeBase) -> bool:
    gates: dict[str, tuple[Any, ...]] = {}
    for option in kb.options:
        for g in option.gates:
            if gates.setdefault(g.id, (g.test, g.unknown, g.cite)) != (g.test, g.unknown, g.cite):
                return False
    return len({r.id for r in kb.test_rules}) == len(kb.test_rules)
