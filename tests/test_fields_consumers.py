"""Every field of the table reaches the consumers that write or sample whole cases (companion of
`tests/test_fields.py`): the verifier's case JSON (`rectoplan.verify.casejson`, from a `Case` and from a z3
model), the linter's mutable case parts (`rectoplan.kb.lint`), the synthetic cases (`rectoplan.synthetic`)
and the hypothesis generator (`tests/strategies.py`).

Each reads the scalar fields from `rectoplan.core.fields.FIELDS`; these tests check that it did, value by
value, and that what each still writes by hand is only the list-shaped parts the table does not hold.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from rectoplan.api import validate_case
from rectoplan.core.fields import BY_FACT, DECLARED, FIELDS, DeclaredField
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_fields import _valid, _with

ids = {"ids": lambda f: f.fact}
CONTRACT_1 = {f.fact for f in FIELDS if f.contract == 1}
# What a whole case holds besides the table's scalar fields (list-shaped, or free text read at the edge).
BY_HAND = {
    "local_recurrence",
    "metastases",
    "primary.symptoms",
    "prior.systemic_lines",
    "prior.surgeries",
    "prior.courses",
    "preferences.declines",
    "biomarkers.kras_variant",
}
# Inputs of contract 2 that are not fields of their own: the edge derives fields of the table from them.
INPUTS = {"as_of", "advanced_disease_date", "advanced_disease_months_ago", "biomarkers.liquid_ras_date"}


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    """The scalar fields of a case JSON by dotted path (format, id, `INPUTS` and `BY_HAND` left out)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        items = value.items() if isinstance(value, dict) and key not in BY_HAND else [("", value)]
        for name, item in items:
            path = f"{key}.{name}" if name else key
            if path not in BY_HAND and path not in INPUTS and key not in ("format", "id"):
                out[path] = item
    return out


def _known(f: DeclaredField, value: Any) -> bool:
    return value is not None and not (f.unknown_token and value == f.unknown_token)


# --- the verifier's case JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_case_json_from_a_case_writes_every_value_of_the_field(f: DeclaredField, kb: KnowledgeBase) -> None:
    """`case_dict` writes the field at its path for every value of its domain (and leaves it out when
    unknown), writes no scalar the table does not declare, and reads back as the same `Case`."""
    from rectoplan.verify.casejson import case_dict

    for value in [*_valid(f), None]:
        case = validate_case(_with(f, value), kb)
        data = case_dict(case)
        expected = CONTRACT_1 | {f.fact} if _known(f, value) else CONTRACT_1 - {f.fact}
        assert set(_scalars(data)) == expected, value
        if _known(f, value):
            assert _scalars(data)[f.fact] == value
        assert validate_case(data, kb) == case, value


@pytest.fixture(scope="module")
def case_vars(kb: KnowledgeBase) -> Any:
    from rectoplan.compile.z3_case import CaseVars

    return CaseVars(kb)


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_case_json_from_a_z3_model_reads_every_value_of_the_field(
    f: DeclaredField, kb: KnowledgeBase, case_vars: Any
) -> None:
    """`model_case` maps a model pinning the field (to each value of its domain, or to unknown) back to a
    case JSON with that value, whose other scalars are all fields of the table."""
    import z3

    from rectoplan.verify.casejson import model_case

    for value in [*_valid(f), None]:
        case = validate_case(_with(f, value), kb)
        solver = z3.Solver()
        solver.add(*case_vars.contract(), *case_vars.fix(case)[f.fact])
        assert solver.check() == z3.sat
        data = model_case(case_vars, solver.model(), "z3")
        assert set(_scalars(data)) <= set(BY_FACT), value
        assert validate_case(data, kb).value(f.fact) == case.value(f.fact), value
        assert (f.fact in _scalars(data)) == _known(f, value), value


# --- the linter's mutable parts ------------------------------------------------------------------------


def test_lint_mutates_every_field_and_by_hand_only_the_list_shaped_parts() -> None:
    from rectoplan.kb.lint import _PARTS

    assert len(set(_PARTS)) == len(_PARTS)
    for f in FIELDS:
        assert any(f.path[: len(part)] == part for part in _PARTS), f.fact
    by_hand = {".".join(part) for part in _PARTS if ".".join(part) not in BY_FACT}
    # the primary of contract 1 (status and symptoms) is copied whole; courses and declines are not mutated
    assert by_hand == (BY_HAND - {"prior.courses", "preferences.declines", "primary.symptoms"}) | {"primary"}


# --- the synthetic cases -------------------------------------------------------------------------------


def test_synthetic_draws_come_from_the_table() -> None:
    from rectoplan.synthetic import DRAWS

    assert set(DRAWS) == CONTRACT_1 - {"primary.status"}  # the status follows from a recurrence
    for fact, values in DRAWS.items():
        f = BY_FACT[fact]
        if f.kind == "int":
            assert all(f.low <= v <= f.high for v in values), fact
        else:
            assert set(values) == set(_valid(f)), fact  # every value of the domain can be drawn


def test_synthetic_weights_and_points_outside_the_domain_are_refused() -> None:
    from rectoplan.synthetic import _points, _weighted

    assert _weighted("ecog", {0: 2}) == (0, 0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match=r"biomarkers\.kras"):
        _weighted("biomarkers.kras", {"G12C": 2})
    with pytest.raises(ValueError, match="age"):
        _points("age", (17, 60))


def _seen(cases: list[dict[str, Any]]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for case in cases:
        for path, value in _scalars(case).items():
            seen[path].add(json.dumps(value))
    return seen


def _check_coverage(seen: dict[str, set[str]], every_value: set[str], anywhere: set[str]) -> None:
    """Every value of the fields in `every_value` was drawn (numbers: within bounds), every field in
    `anywhere` was drawn at least once, and nothing outside the table was."""
    assert set(seen) <= set(BY_FACT)
    for fact in every_value | anywhere:
        assert seen.get(fact), fact
    for fact, values in seen.items():
        f = BY_FACT[fact]
        if f.kind == "int":
            assert all(f.low <= json.loads(v) <= f.high for v in values), fact
        elif fact in every_value:
            assert values == {json.dumps(v) for v in _valid(f)}, fact
        else:
            assert values <= {json.dumps(v) for v in _valid(f)}, fact


def test_synthetic_cases_reach_every_field_and_value() -> None:
    from rectoplan.synthetic import random_cases

    every = {f.fact for f in FIELDS if f.contract == 1 and f.kind != "int"}
    anywhere = {f.fact for f in DECLARED if f.fact != "biomarkers.her2_result"}  # HER2 is drawn as a status
    _check_coverage(_seen(random_cases(2000, seed=1)), every, anywhere)


# --- the hypothesis generator --------------------------------------------------------------------------


def test_generated_cases_reach_every_field_and_value() -> None:
    """The generator draws every field of the table and every value of its domain (a number: within its
    bounds), and no scalar the table does not declare. One fixed draw of 2,000 cases, half of them flat
    rows (where declined treatments are yes/no fields): the rarest value comes up about 15 times."""
    from tests.strategies import cases

    drawn: list[dict[str, Any]] = []
    for flat in (False, True):

        @settings(
            max_examples=1000,
            phases=[Phase.generate],
            database=None,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(cases(flat=flat))
        def collect(case: dict[str, Any]) -> None:
            drawn.append(case)

        collect()
    every = {f.fact for f in FIELDS if f.kind != "int"}
    _check_coverage(_seen(drawn), every, set(BY_FACT))
