"""The declared case fields reach every consumer: validation, facts, cohort columns, z3, what-if, the docs.

Each consumer derives its part from `rectoplan.core.fields.DECLARED`; this test proves, entry by entry,
that it did, so a field added to the table cannot be forgotten by one of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rectoplan.adapters.case_json import CaseIn
from rectoplan.api import validate_case
from rectoplan.cohort.columns import BY_NAME, flatten, validate_row
from rectoplan.core.facts import case_facts
from rectoplan.core.fields import DECLARED, DeclaredField, markdown_table
from rectoplan.core.knowledge import KnowledgeBase
from tests.conftest import BASE_CASE, merge

DOCS = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"


def _sample(f: DeclaredField) -> object:
    return True if f.kind == "bool" else f.high if f.kind == "int" else f.values[-1]


def _case_with(f: DeclaredField) -> dict[str, object]:
    section, key = f.fact.split(".", 1)
    extra: dict[str, object] = {section: {key: _sample(f)}}
    if f.fact == "biomarkers.her2_result":
        extra = {"biomarkers": {"her2": None, key: _sample(f)}}
    return merge(BASE_CASE, {"format": "rectoplan.case/2", **extra})


@pytest.mark.parametrize("f", DECLARED, ids=lambda f: f.fact)
def test_each_declared_field_reaches_every_consumer(f: DeclaredField, kb: KnowledgeBase) -> None:
    schema = CaseIn.model_json_schema()
    section = schema["$defs"][schema["properties"][f.path[0]]["anyOf"][0]["$ref"].split("/")[-1]]
    assert f.path[1] in section["properties"]  # the JSON validation
    case = validate_case(_case_with(f), kb)
    facts = case_facts(case, kb.resistance_class, kb.drug_classes)
    assert facts[f.fact] == _sample(f)  # the fact, with its type in the schema
    assert kb.schema[f.fact].kind == f.kind
    column = BY_NAME[f.column]  # the flat column, both ways
    assert column.path == f.path
    row = flatten(case)
    assert row[f.column] == _sample(f)
    assert validate_row(row, kb.vocabulary.drugs, kb.vocabulary.procedures).value(f.fact) == _sample(f)
    bad = _case_with(f)
    section_data = bad[f.path[0]]
    assert isinstance(section_data, dict)
    section_data[f.path[1]] = "not-a-value" if f.kind != "enum" else 12
    with pytest.raises(Exception, match=f.path[1]):
        validate_case(bad, kb)


def test_declared_fields_have_z3_variables(kb: KnowledgeBase) -> None:
    pytest.importorskip("z3")
    from rectoplan.compile.z3_smt import CaseVars

    v = CaseVars(kb)
    for f in DECLARED:
        pool = {"int": v.ints, "bool": v.bools, "enum": v.enum}[f.kind]
        assert f.fact in pool
        if f.kind == "int":
            assert v.int_bounds[f.fact] == (f.low, f.high)
        if f.kind == "enum":
            assert v.domains[f.fact] == f.values


def test_docs_field_table_is_the_declared_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    inside = text.split("<!-- fields:start -->\n", 1)[1].split("\n<!-- fields:end -->", 1)[0]
    assert inside == markdown_table()
