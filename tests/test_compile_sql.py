"""The rule language compiled to columns (DuckDB SQL and Polars) agrees with the reference interpreter.

Random conditions over the real fact schema (every operator, nesting, counts, `known`; from
`tests/strategies.py`) are evaluated on random facts (each fact unknown about a third of the time) by
`conditions.evaluate` and by both back ends; all three-valued results must be identical.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from rectoplan.compile import duckdb_sql, ir, polars_expr
from rectoplan.compile.rules import RuleCompiler, fact_column, layouts
from rectoplan.core.conditions import Condition, Const, evaluate, parse
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.schema import FactType
from rectoplan.kb.loader import default_knowledge
from tests.strategies import case_facts_only, conditions, examples, fact_values

pytest.importorskip("duckdb")
pytest.importorskip("polars")

CASE_FACTS = case_facts_only(default_knowledge().schema)


def facts_table(rows: list[dict[str, Any]], schema: dict[str, FactType]) -> pa.Table:
    """Fact dicts as the columns the compiled rules read (sets as bit words)."""
    sets = layouts(schema)
    cols: dict[str, pa.Array] = {}
    for name, ftype in schema.items():
        if name in sets:
            layout = sets[name]
            for k, word in enumerate(layout.words):
                values = []
                for r in rows:
                    members = r[name]
                    values.append(
                        None if members is None else sum(w for m in members for (i, w) in [layout.weight(m)] if i == k)
                    )
                cols[word] = pa.array(values, pa.int64())
        else:
            kind = {"bool": pa.bool_(), "int": pa.int64()}.get(ftype.kind, pa.string())
            cols[fact_column(name)] = pa.array([r[name] for r in rows], kind)
    return pa.table(cols)


def _run_both(table: pa.Table, exprs: list[ir.Expr]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    import duckdb
    import polars as pl

    con = duckdb.connect()
    con.register("facts", table)
    select = ", ".join(f"{duckdb_sql.sql(e)} AS c{i}" for i, e in enumerate(exprs))
    duck = con.sql(f"SELECT {select} FROM facts").fetchall()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    # with_columns, not select: a select of constants alone would give one row, not one per fact row
    columns = [polars_expr.expr(e).alias(f"c{i}") for i, e in enumerate(exprs)]
    polars = frame.with_columns(columns).select([f"c{i}" for i in range(len(exprs))]).rows()
    return duck, polars


@settings(max_examples=examples(40))
@given(
    st.lists(conditions(CASE_FACTS), min_size=1, max_size=20),
    st.lists(fact_values(CASE_FACTS), min_size=1, max_size=8),
)
@example([Const(False)], [dict.fromkeys(CASE_FACTS)] * 2)  # found by hypothesis: constants only, several rows
def test_random_conditions_agree_with_the_interpreter(
    kb: KnowledgeBase, conds: list[Condition], rows: list[dict[str, Any]]
) -> None:
    compiler = RuleCompiler(kb.schema)
    duck, polars = _run_both(facts_table(rows, CASE_FACTS), [compiler.compile(c) for c in conds])
    for r, facts in enumerate(rows):
        for i, cond in enumerate(conds):
            expected = evaluate(cond, facts)
            event(f"result: {expected}")
            assert duck[r][i] == expected, ("duckdb", cond, {k: facts[k] for k in sorted(facts)})
            assert polars[r][i] == expected, ("polars", cond, facts)


def test_three_valued_corners(kb: KnowledgeBase) -> None:
    """NULL inside IN / NOT IN, `known` (two-valued), counts decided by the unknowns, set tests on NULL."""
    schema = CASE_FACTS
    datas = [
        {"fact": "biomarkers.kras", "in": ["mutant"]},
        {"fact": "biomarkers.kras", "not_in": ["mutant"]},
        {"fact": "biomarkers.kras", "known": False},
        {"not": {"fact": "biomarkers.kras", "known": True}},
        {"fact": "prior.surgeries", "contains_all": ["liver_resection", "low_anterior_resection"]},
        {"fact": "prior.surgeries", "known": True},
        {
            "count": [
                {"fact": "biomarkers.kras", "is": "mutant"},
                {"fact": "biomarkers.nras", "is": "mutant"},
                {"fact": "ecog", "ge": 2},
            ],
            "ge": 2,
        },
        {"count": [{"fact": "biomarkers.kras", "is": "mutant"}, {"fact": "ecog", "ge": 2}], "eq": 1},
        {"count": [{"fact": "biomarkers.kras", "is": "mutant"}, {"fact": "ecog", "ge": 2}], "ne": 0},
        {"any": [{"fact": "biomarkers.kras", "is": "mutant"}, {"fact": "ecog", "lt": 2}]},
    ]
    conditions = [parse(d, kb.schema) for d in datas]
    unknown = dict.fromkeys(schema)
    rows = [
        unknown,
        {**unknown, "biomarkers.kras": "mutant", "prior.surgeries": frozenset({"liver_resection"})},
        {
            **unknown,
            "biomarkers.kras": "wild_type",
            "ecog": 3,
            "prior.surgeries": frozenset({"liver_resection", "low_anterior_resection"}),
        },
        {
            **unknown,
            "biomarkers.kras": "mutant",
            "biomarkers.nras": "mutant",
            "ecog": 0,
            "prior.surgeries": frozenset(),
        },
    ]
    compiler = RuleCompiler(kb.schema)
    duck, polars = _run_both(facts_table(rows, schema), [compiler.compile(c) for c in conditions])
    expected = [tuple(evaluate(c, facts) for c in conditions) for facts in rows]
    assert duck == expected
    assert polars == expected
    # the corners really are three-valued: unknown KRAS leaves IN and NOT IN unknown, `known` decided
    assert expected[0][:4] == (None, None, True, True)


def test_option_facts_must_be_bound_first(kb: KnowledgeBase) -> None:
    cond = parse({"fact": "prior.progressed_classes", "contains_all": {"fact": "option.resistance_classes"}}, kb.schema)
    with pytest.raises(ValueError, match="bind it first"):
        RuleCompiler(kb.schema).compile(cond)
