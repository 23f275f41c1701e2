"""Stop 19 (B2): the case generators never draw three contradictions the validator is to refuse (a bilirubin
over 3 x ULN recorded as not raised, a running line both re-introducing its induction and in maintenance,
growth since the last line with a history recorded as empty), and a cohort error naming a field whose key
holds a digit (`health.bilirubin_over_3_uln`) names its flat column.

`rectoplan.synthetic.agree` resolves them after the draws (tests/strategies.py applies it too), so the
draws, and every other case of a seed, stay as they were.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings

from rectoplan.core.errors import Problem
from rectoplan.synthetic import agree, random_cases
from tests.strategies import cases

BASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "s19-b2",
    "metastases": [{"site": "liver", "count": 3}],
}


def contradictions(data: dict[str, Any]) -> list[str]:
    """The three contradictions, read from the case JSON itself (the validator of this commit does not
    refuse them yet)."""
    health, prior = data.get("health", {}), data.get("prior", {})
    found = []
    if health.get("bilirubin_over_3_uln") is True and health.get("bilirubin_raised") is False:
        found.append("bilirubin")
    if prior.get("on_reintroduction") is True and prior.get("on_maintenance") is True:
        found.append("phases")
    empty = prior.get("courses") == [] or prior.get("systemic_lines") == []
    if empty and "progressed_since_last_line" in prior:
        found.append("growth since no line")
    return found


def test_random_cases_never_draw_them() -> None:
    """Independent draws gave 23 bilirubin and 131 phase contradictions in 6,000 random cases."""
    drawn = [c for seed in range(3) for c in random_cases(2000, seed)]
    assert [contradictions(c) for c in drawn if contradictions(c)] == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(cases())
def test_generated_cases_never_draw_them(data: dict[str, Any]) -> None:
    assert contradictions(data) == []


def test_agree_resolves_each_by_leaving_the_second_field_unrecorded() -> None:
    drawn = [
        {**BASE, "health": {"bilirubin_over_3_uln": True, "bilirubin_raised": False}},
        {**BASE, "prior": {"on_reintroduction": True, "on_maintenance": True}},
        {**BASE, "prior": {"courses": [], "progressed_since_last_line": False}},
        {**BASE, "prior": {"systemic_lines": [], "progressed_since_last_line": True}},
    ]
    resolved = copy.deepcopy(drawn)
    for data in resolved:
        agree(data)
        assert contradictions(data) == [], data
    assert resolved[0]["health"] == {"bilirubin_over_3_uln": True}
    assert resolved[1]["prior"] == {"on_reintroduction": True}
    assert resolved[2]["prior"] == {"courses": []}
    assert resolved[3]["prior"] == {"systemic_lines": []}
    consistent = [
        {**BASE, "health": {"bilirubin_over_3_uln": True, "bilirubin_raised": True}},
        {**BASE, "prior": {"on_reintroduction": True, "on_maintenance": False}},
        {**BASE, "prior": {"systemic_lines": [{"agents": ["capecitabine"]}], "progressed_since_last_line": True}},
    ]
    for data in consistent:
        kept = copy.deepcopy(data)
        agree(data)
        assert data == kept
    from rectoplan.synthetic import EXCLUSIVE

    assert [pair[2] for pair in EXCLUSIVE] == ["health.bilirubin_raised", "prior.on_maintenance"]


def test_a_cohort_error_names_the_column_of_a_field_with_a_digit() -> None:
    from rectoplan.cohort.columns import _column_problem

    problem = Problem(
        "health.bilirubin_raised",
        "false while health.bilirubin_over_3_uln is true",
        "true or absent when health.bilirubin_over_3_uln is true",
    )
    named = _column_problem(problem, {})
    assert (named.path, named.found, named.expected) == (
        "bilirubin_raised",
        "false while bilirubin_over_3_uln is true",
        "true or absent when bilirubin_over_3_uln is true",
    )
