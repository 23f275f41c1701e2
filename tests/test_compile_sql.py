"""The rule language compiled to columns (DuckDB SQL and Polars) agrees with the reference interpreter.

Random conditions over the real fact schema (every operator, nesting, counts, `known`) are evaluated on
random facts (each fact unknown about a third of the time) by `conditions.evaluate` and by both back ends;
all three-valued results must be identical.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

from rectoplan.compile import duckdb_sql, ir, polars_expr
from rectoplan.compile.rules import RuleCompiler, fact_column, layouts
from rectoplan.core.conditions import COMPARE_OPS, evaluate, parse
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.schema import FactType

pytest.importorskip("duckdb")
pytest.importorskip("polars")


def _case_facts(schema: dict[str, FactType]) -> dict[str, FactType]:
    return {k: v for k, v in schema.items() if not v.option and not k.startswith("option.")}


def _value(rng: random.Random, ftype: FactType) -> Any:
    if rng.random() < 0.3:
        return None
    if ftype.kind == "bool":
        return rng.random() < 0.5
    if ftype.kind == "int":
        return rng.choice([ftype.low, ftype.high, rng.randint(ftype.low, min(ftype.high, ftype.low + 12))])
    if ftype.kind == "enum":
        return rng.choice(ftype.values)
    return frozenset(rng.sample(ftype.values, rng.randint(0, min(3, len(ftype.values)))))


def _test(rng: random.Random, name: str, ftype: FactType) -> dict[str, Any]:
    if rng.random() < 0.1:
        return {"fact": name, "known": rng.random() < 0.5}
    if ftype.kind == "set":
        op = rng.choice(["contains", "contains_any", "contains_all"])
        members = rng.sample(ftype.values, rng.randint(1, min(3, len(ftype.values))))
        return {"fact": name, op: members[0] if op == "contains" else members}
    if ftype.kind == "int":
        return {"fact": name, rng.choice(COMPARE_OPS): rng.randint(ftype.low, min(ftype.high, ftype.low + 12))}
    pool = [True, False] if ftype.kind == "bool" else list(ftype.values)
    op = rng.choice(["is", "is_not", "in", "not_in"])
    if op in ("in", "not_in"):
        return {"fact": name, op: rng.sample(pool, rng.randint(1, len(pool)))}
    return {"fact": name, op: rng.choice(pool)}


def _condition(rng: random.Random, facts: dict[str, FactType], depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        name = rng.choice(list(facts))
        return _test(rng, name, facts[name])
    items = [_condition(rng, facts, depth + 1) for _ in range(rng.randint(1, 3))]
    if roll < 0.65:
        return {"all": items}
    if roll < 0.85:
        return {"any": items}
    if roll < 0.93:
        return {"not": items[0]}
    return {"count": items, rng.choice(COMPARE_OPS): rng.randint(0, len(items))}


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
    polars = frame.select([polars_expr.expr(e).alias(f"c{i}") for i, e in enumerate(exprs)]).rows()
    return duck, polars


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_conditions_agree_with_the_interpreter(kb: KnowledgeBase, seed: int) -> None:
    rng = random.Random(seed)
    schema = _case_facts(kb.schema)
    conditions = [parse(_condition(rng, schema), kb.schema) for _ in range(150)]
    rows = [{name: _value(rng, ftype) for name, ftype in schema.items()} for _ in range(300)]
    compiler = RuleCompiler(kb.schema)
    duck, polars = _run_both(facts_table(rows, schema), [compiler.compile(c) for c in conditions])
    for r, facts in enumerate(rows):
        for i, cond in enumerate(conditions):
            expected = evaluate(cond, facts)
            assert duck[r][i] == expected, (cond, {k: facts[k] for k in sorted(facts)})
            assert polars[r][i] == expected, (cond, facts)


def test_three_valued_corners(kb: KnowledgeBase) -> None:
    """NULL inside IN / NOT IN, `known` (two-valued), counts decided by the unknowns, set tests on NULL."""
    schema = _case_facts(kb.schema)
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
