"""A row and the copies that warnings lower it into (`All((*warnings, row))`, written before it by the loader)
are compiled as one test of the row, then of the copies' warnings (`plan._setting_chain`). The setting
chosen is the first TRUE one, as the reference interpreter finds it, for every value of every fact."""

from __future__ import annotations

from itertools import product

from rectoplan.core.conditions import All, AnyOf, Condition, Not, Test, evaluate
from rectoplan.core.plan import compile_deciders, compile_engine_plan

FACTS = ("a", "b", "c", "d")
A, B, C, D = (Test(f, "is", True) for f in FACTS)
ROW = AnyOf((A, Not(B)))
OTHER = All((C, D))
# copies of ROW lowered by one or two warnings, then ROW; a run that only looks like one (its last row is
# OTHER, not ROW); a lone copy-like setting with no row after it; a plain setting between.
SETTINGS: tuple[Condition, ...] = (
    All((C, D, ROW)),
    All((C, ROW)),
    All((D, ROW)),
    ROW,
    All((B, OTHER)),
    All((B, ROW)),
    OTHER,
    D,
    All((C, ROW)),
)


def _first_true(settings: tuple[Condition, ...], facts: dict[str, object]) -> int:
    return next((i for i, s in enumerate(settings) if evaluate(s, facts) is True), -1)


def _every_case() -> list[dict[str, object]]:
    return [dict(zip(FACTS, values, strict=True)) for values in product((True, False, None), repeat=len(FACTS))]


def test_deciders_choose_the_first_true_setting_with_lowered_copies() -> None:
    (decide,) = compile_deciders(((SETTINGS, ()),))
    for facts in _every_case():
        assert decide(facts) == _first_true(SETTINGS, facts), facts


def test_the_engine_plan_chooses_the_first_true_setting_with_lowered_copies() -> None:
    plan, source, _ = compile_engine_plan(((Test("a", "known", True), "palliative"),), ((SETTINGS, (), ()),), (), ())
    assert "        else: _x0 = 3" in source  # the copies of ROW are grouped under one test of ROW
    chosen = set()
    for facts in _every_case():
        _, _, _, _, _, offered = plan({**facts, "plan.intent": None})  # no gate: applying is being offered
        got = offered[0][1] if offered else -1
        assert got == _first_true(SETTINGS, facts), facts
        chosen.add(got)
    assert {0, 1, 2, 3, 4, 6, 7} <= chosen  # the copies, their row and the settings after them all occur
