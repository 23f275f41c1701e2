"""Every field of the table reaches every consumer: validation, the `Case`, facts, cohort columns, z3, what-if,
the docs.

Each consumer derives its part from `rectoplan.core.fields.FIELDS` (the scalar fields of contracts 1 and 2);
these tests check, entry by entry and value by value, that it did, so a field added to the table cannot be
forgotten by one of them: the JSON accepts each value of the domain (and the unknown token, read as absent)
and rejects what lies outside it with a precise error; the fact schema has the field's type; the `Case` holds
it where its contract says; the flat column exists and its column-wise validation and derivation (compiled,
run here with Polars) agree with the edge; z3 declares it over its domain and a model of it maps back to a
case with that value; what-if probes it where it should; the docs table is the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.case_json import CaseIn
from rectoplan.api import validate_case
from rectoplan.cohort.columns import BY_NAME, flatten, validate_row
from rectoplan.core._probes import probes
from rectoplan.core._whatif_index import INT_RANGE, ON_LINE, SINCE_LAST, whatif_index
from rectoplan.core.case import Case
from rectoplan.core.errors import CaseError
from rectoplan.core.facts import case_facts, declared_type
from rectoplan.core.fields import FIELDS, DeclaredField, markdown_table
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge

DOCS = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"
ids = {"ids": lambda f: f.fact}


def _valid(f: DeclaredField) -> list[Any]:
    """Values the JSON accepts: the bounds, both answers, every member of the domain and the unknown token."""
    return [True, False] if f.kind == "bool" else [f.low, f.high] if f.kind == "int" else list(f.json_values)


def _invalid(f: DeclaredField) -> list[Any]:
    if f.kind == "bool":
        return ["true", 1]
    if f.kind == "int":
        return [f.low - 1, f.high + 1, str(f.low), True]
    return ["not_a_value", 12, *(() if f.unknown_token else ("unknown",))]


def _invalid_cell(f: DeclaredField) -> list[Any]:
    """Values outside the domain in a flat column, where the text of a number or of true/false is read."""
    return [bad for bad in _invalid(f) if not (isinstance(bad, str) and f.kind != "enum")] + (
        ["maybe"] if f.kind == "bool" else []
    )


def _fact_value(f: DeclaredField, value: Any) -> Any:
    return None if f.unknown_token and value == f.unknown_token else value


def _with(f: DeclaredField, value: Any) -> dict[str, Any]:
    """The base case with the field set (None: removed), in contract 2."""
    node: Any = value
    for key in reversed(f.path):
        node = {key: node}
    case = merge(BASE_CASE, {"format": "rectoplan.case/2", **node})
    if f.fact == "biomarkers.her2_result" and value is not None:  # the reported test sets HER2 itself
        del case["biomarkers"]["her2"]
    if f.fact == "prior.progressed_since_last_line" and value is not None:  # it follows a line (stop 19, B2)
        case["prior"]["systemic_lines"] = [{"agents": ["capecitabine"], "stopped_for": "completed"}]
    return case


def _section_model(f: DeclaredField) -> Any:
    model: Any = CaseIn
    for key in f.path[:-1]:
        model = next(a for a in model.model_fields[key].annotation.__args__ if a is not type(None))
    return model


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_the_json_accepts_the_domain_and_the_case_holds_it(f: DeclaredField, kb: KnowledgeBase) -> None:
    assert f.name in _section_model(f).model_fields  # a field of the JSON's object at its path
    assert kb.schema[f.fact] == declared_type(f)  # the fact, with the field's type and domain
    for value in _valid(f):
        case = validate_case(_with(f, value), kb)
        expected = _fact_value(f, value)
        assert case.value(f.fact) == expected
        assert (f.fact in dict(case.declared)) == (f.contract == 2 and expected is not None)  # held where it says
        assert case_facts(case, kb.resistance_class, kb.drug_classes)[f.fact] == expected
    assert validate_case(_with(f, None), kb).value(f.fact) is None  # absent: unknown


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_the_json_rejects_what_lies_outside_the_domain_precisely(f: DeclaredField, kb: KnowledgeBase) -> None:
    for bad in _invalid(f):
        with pytest.raises(CaseError) as caught:
            validate_case(_with(f, bad), kb)
        (problem,) = caught.value.problems
        assert problem.path == f.fact
        assert str(bad).lower() in problem.found.lower()
        if f.kind == "enum" and isinstance(bad, str):
            assert all(v in problem.expected for v in f.json_values), problem.expected
        elif f.kind == "int" and not isinstance(bad, str | bool):
            assert str(f.low if bad < f.low else f.high) in problem.expected
        elif f.kind == "bool":
            assert problem.expected == "true or false"


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_the_flat_column_round_trips(f: DeclaredField, kb: KnowledgeBase) -> None:
    column = BY_NAME[f.column]
    assert (column.path, column.kind, column.values) == (f.path, f.kind, f.json_values)
    assert (column.low, column.high) == (f.low, f.high)
    for value in _valid(f):
        row = flatten(validate_case(_with(f, value), kb))
        assert row[f.column] == _fact_value(f, value)
        again = validate_row(row, kb.vocabulary.drugs, kb.vocabulary.procedures)
        assert again.value(f.fact) == _fact_value(f, value)
    row = flatten(validate_case(BASE_CASE, kb))
    for bad in _invalid_cell(f):
        with pytest.raises(CaseError) as caught:
            validate_row({**row, f.column: bad}, kb.vocabulary.drugs, kb.vocabulary.procedures)
        assert caught.value.problems[0].path == f.column  # named as the registry knows it


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        import json

        return json.dumps(value)
    return str(value)


def test_the_column_wise_validation_and_derivation_agree_with_the_edge(kb: KnowledgeBase) -> None:
    """One text row (as from CSV) per value of every field, compiled and run with Polars: a valid value is
    clean and gives the fact the edge gives; a value outside the domain is left to the edge (not clean)."""
    pl = pytest.importorskip("polars")
    from rectoplan.compile.case_columns import FactDeriver, RawType
    from rectoplan.compile.plan import input_stages
    from rectoplan.compile.polars_expr import stage_exprs
    from rectoplan.compile.rules import fact_column

    base = flatten(validate_case(BASE_CASE, kb))
    rows: list[dict[str, Any]] = []
    expected: list[tuple[DeclaredField, bool, Any]] = []
    for f in FIELDS:
        for value in _valid(f):
            case = validate_case(_with(f, value), kb)
            rows.append(flatten(case))
            expected.append((f, True, _fact_value(f, value)))
        for bad in _invalid_cell(f):
            rows.append({**base, f.column: bad})
            expected.append((f, False, None))
    names = list(base)
    frame = pl.DataFrame({n: [_cell(r.get(n)) for r in rows] for n in names}, schema=dict.fromkeys(names, pl.String))
    lists, scalars = input_stages(kb, {n: RawType("text") for n in names})
    for stage in (lists, scalars, tuple(FactDeriver(kb).stage())):
        frame = frame.with_columns(stage_exprs(stage))
    for (f, clean, value), got in zip(expected, frame.iter_rows(named=True), strict=True):
        assert got["_clean"] is clean, (f.fact, got[f.column])
        if clean:
            assert got[fact_column(f.fact)] == value, f.fact


@pytest.fixture(scope="module")
def case_vars(kb: KnowledgeBase) -> Any:
    pytest.importorskip("z3")
    from rectoplan.compile.z3_case import CaseVars

    return CaseVars(kb)


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_z3_declares_the_field_over_its_domain_and_a_model_maps_back(
    f: DeclaredField, kb: KnowledgeBase, case_vars: Any
) -> None:
    import z3

    from rectoplan.compile.z3_case import case_facts as z3_facts
    from rectoplan.verify.casejson import case_dict, model_case

    v = case_vars
    pool = {"int": v.ints, "bool": v.bools, "enum": v.enum}[f.kind]
    assert f.fact in pool and f.fact in v.fields() and f.fact in v.absent() and f.fact in z3_facts(v)
    if f.kind == "int":
        assert v.int_bounds[f.fact] == (f.low, f.high)
    if f.kind == "enum":
        assert v.domains[f.fact] == f.values
    value = _valid(f)[-1 if f.kind != "enum" or not f.unknown_token else -2]
    case = validate_case(_with(f, value), kb)
    assert validate_case(case_dict(case), kb).value(f.fact) == value  # the verifier's Case -> JSON
    solver = z3.Solver()
    solver.add(*v.contract(), *v.fix(case)[f.fact])
    assert solver.check() == z3.sat
    modelled = validate_case(model_case(v, solver.model(), "z3"), kb)  # the verifier's model -> JSON
    assert modelled.value(f.fact) == value


def _probed(case: Case, kb: KnowledgeBase, fact: str) -> list[Any]:
    return [p for p in probes(case, kb) if p.fact == fact]


@pytest.mark.parametrize("f", FIELDS, **ids)
def test_what_if_probes_the_field_where_it_should(f: DeclaredField, kb: KnowledgeBase) -> None:
    """Every contract 1 field, and the contract 2 fields a rule reads that what-if explores (tests and the
    time on a line), is probed when unknown; a probe's case has exactly the probed value."""
    if f.kind == "int" and f.contract == 1:
        assert INT_RANGE[f.fact] == (f.low, f.high)  # what-if's thresholds cover the field
    explored = f.contract == 1 or f in whatif_index(kb).declared
    data = _with(f, None)
    if f.fact == ON_LINE:
        data["prior"]["systemic_lines"] = [{"agents": ["capecitabine"], "stopped_for": "ongoing"}]
    if f.fact == SINCE_LAST:  # restaging can tell only after a line that stopped without progression
        data["prior"]["systemic_lines"] = [{"agents": ["capecitabine"], "stopped_for": "completed"}]
    case = validate_case(data, kb)
    found = _probed(case, kb, f.fact)
    assert bool(found) == explored
    for probe in found:
        if probe.patch is not None:
            fact, value = probe.patch
            assert case_facts(probe.case, kb.resistance_class, kb.drug_classes)[fact] == value


def test_docs_field_table_is_the_declared_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    inside = text.split("<!-- fields:start -->\n", 1)[1].split("\n<!-- fields:end -->", 1)[0]
    assert inside == markdown_table()
