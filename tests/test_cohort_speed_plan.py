"""The cohort plan's shortcuts for speed give the values of the plain forms they replace.

- A row's lowered copies (kb/_loader_lowering.py) are decided after the row: the option's code is the first own row
  that holds plus a shared offset column per distinct list of warnings (`plan._offered`), instead of one
  `when` per copy. The plain form (`plan._offered_one_by_one`) is also what knowledge whose copies are not
  right before their row gets; both plans must give the same result table.
- An offset column is marked `never_null` so that the Polars printer may choose among the codes with a
  `coalesce`; every column so marked must be never NULL by its form.
- `ir.lean` drops the `is_true` a context implies; the values must stay the same on every row, NULL too.
- The result words that the option codes alone decide are worked out once per distinct combination of codes
  (`collect.split_by_codes`, `local.group_by_codes`): the same result table as when every row works out
  its own, and the codes read back from the key words are the codes.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.compile import collect, ir
from rectoplan.compile import plan as plan_module
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import random_cases, registry_cases

pl = pytest.importorskip("polars")

from rectoplan.cohort import cache  # noqa: E402
from rectoplan.cohort.columns import COLUMNS, flatten_contract  # noqa: E402
from rectoplan.cohort.local import PolarsEngine, _codes_of, group_exactly  # noqa: E402
from rectoplan.cohort.readers import arrow_type, read_cohort  # noqa: E402
from rectoplan.cohort.run import evaluate_local  # noqa: E402
from rectoplan.compile.polars_expr import _never_null, expr  # noqa: E402


def _table(tmp_path: Any, kb: KnowledgeBase) -> pa.Table:
    rows = [flatten_contract(c) for c in registry_cases(3000, seed=21) + random_cases(1500, seed=22)]
    path = tmp_path / "cases.parquet"
    columns = {c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS}
    pq.write_table(pa.table(columns), path)
    return read_cohort(path, kb).table


def test_offsets_give_what_setting_by_setting_gives(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shortcut_kb = load_knowledge()  # fresh objects: the cohort cache keeps a plan per knowledge base object
    table = _table(tmp_path, shortcut_kb)
    shortcut, _ = evaluate_local(table, shortcut_kb, "polars")
    copies = [s.id for o in shortcut_kb.options for s in o.settings if s.lowers_row >= 0]
    offered = {s for text in shortcut.column("settings").to_pylist() for s in text.split()}
    assert offered & set(copies), "no row offered under a lowered copy: the test would not see a wrong offset"
    plain_kb = load_knowledge()
    one_by_one = plan_module._offered_one_by_one
    monkeypatch.setattr(plan_module, "_offered", lambda option, conds, _: one_by_one(option, conds))
    plain, _ = evaluate_local(table, plain_kb, "polars")
    assert "l_0" not in {name for stage in plan_module.compile_plan(plain_kb).stages for name, _ in stage}
    assert shortcut.to_pylist() == plain.to_pylist()


def test_columns_marked_never_null_are_never_null(kb: KnowledgeBase) -> None:
    stages = plan_module.compile_plan(kb).stages
    defined = {name: e for stage in stages for name, e in stage}
    marked = set()

    def visit(e: ir.Expr) -> None:
        if isinstance(e, ir.Col) and e.never_null:
            marked.add(e.name)
        for child in ir.children(e):
            visit(child)

    for stage in stages:
        for _, e in stage:
            visit(e)
    assert marked, "the shipped knowledge has lowered copies, so offset columns"
    assert all(_never_null(defined[name]) for name in marked)


_NAMES = ("a", "b", "c")


def _tree(rng: random.Random, depth: int) -> ir.Expr:
    """A random boolean expression over three nullable columns, rich in `is_true`."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([ir.Col(rng.choice(_NAMES)), ir.TRUE, ir.FALSE, ir.NULL_BOOL])
    kind = rng.choice(["and", "or", "not", "is_true", "is_null", "case"])
    if kind in ("and", "or"):
        items = tuple(_tree(rng, depth - 1) for _ in range(rng.randint(2, 3)))
        return ir.And(items) if kind == "and" else ir.Or(items)
    if kind == "not":
        return ir.Not(_tree(rng, depth - 1))
    if kind == "is_true":
        return ir.Coalesce((_tree(rng, depth - 1), ir.FALSE))
    if kind == "is_null":
        return ir.IsNull(_tree(rng, depth - 1))
    whens = tuple((_tree(rng, depth - 1), _tree(rng, depth - 1)) for _ in range(rng.randint(1, 3)))
    return ir.Case(whens, _tree(rng, depth - 1))


def test_lean_keeps_every_value() -> None:
    values = [True, False, None]
    frame = pl.DataFrame(
        {n: [values[(i // 3**k) % 3] for i in range(27)] for k, n in enumerate(_NAMES)},
        schema={n: pl.Boolean for n in _NAMES},
    )
    rng = random.Random(5)
    changed = 0
    for _ in range(400):
        tree = _tree(rng, 4)
        leaner = ir.lean(tree)
        changed += leaner != tree
        got = frame.select(expr(tree).alias("x"), expr(leaner).alias("y"))
        assert got["x"].to_list() == got["y"].to_list(), tree
    assert changed > 50  # the rewrites really happen


def test_words_per_combination_of_codes_equal_words_per_row(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from rectoplan.cohort import local

    keyed_kb = load_knowledge()
    table = _table(tmp_path, keyed_kb)
    calls: list[int] = []
    by_codes = local.group_by_codes
    monkeypatch.setattr(local, "group_by_codes", lambda *args: calls.append(1) or by_codes(*args))
    keyed, _ = evaluate_local(table, keyed_kb, "polars")
    assert calls, "the words were not worked out per combination of codes"
    plan = cache.local_plan(keyed_kb)
    assert plan.keyed is not None and plan.keys_for("polars") and not plan.keys_for("duckdb")
    decided = set(plan.keyed.words)
    assert {p.name for p in plan.packed if set(p.words) <= decided} == {"options", "settings", "excluded", "held"}
    per_row_kb = load_knowledge()
    monkeypatch.setattr(cache, "split_by_codes", lambda words, codes: (list(words), None))
    per_row, _ = evaluate_local(table, per_row_kb, "polars")
    assert cache.local_plan(per_row_kb).keyed is None and len(calls) == 1
    assert keyed.to_pylist() == per_row.to_pylist()


def test_codes_come_back_from_their_key_words() -> None:
    rng = random.Random(3)
    names = [f"o_{i}" for i in range(19)]  # three key words, the last one partly filled
    rows = [[rng.choice([0, 1, 2, 3, 50, 127]) for _ in names] for _ in range(500)]
    frame = pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, schema=dict.fromkeys(names, pl.Int8))
    keys = tuple(
        (f"_k_{j}", tuple(names[i : i + collect.CODES_PER_KEY]))
        for j, i in enumerate(range(0, len(names), collect.CODES_PER_KEY))
    )
    keyed = collect.Keyed(keys, ())
    words = PolarsEngine().evaluate(
        frame.to_arrow(), [tuple((k, collect.key_word(cols)) for k, cols in keys)], [k for k, _ in keys]
    )
    indices, reps = group_exactly([words.column(k).combine_chunks() for k, _ in keys])
    codes = _codes_of(reps, keyed)
    back = [[codes.column(n)[g].as_py() for n in names] for g in indices.to_pylist()]
    assert back == rows
    assert codes.num_rows == len({tuple(r) for r in rows})
