"""Narrow key words and the keyed words as look-ups give what the byte-wide keys and the engine give.

- `collect.narrow_keys` puts each option code in the bits it needs (`collect.code_widths`, from the largest
  value its expression can take); the codes read back from the key words must be the codes, and no code the
  plan computes may exceed its width (a wider value would spill into its neighbour and merge two groups).
- `collect.code_tables` turns the words that the option codes alone decide into look-ups by code value;
  `local.keyed_words` must give, for every combination of codes, the words the engine computes from the
  same IR, and a word of any other form must leave the work to the engine.
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from rectoplan.compile import collect, ir
from rectoplan.kb.loader import load_knowledge

pl = pytest.importorskip("polars")

from rectoplan.cohort import cache  # noqa: E402
from rectoplan.cohort.local import GROUP, PolarsEngine, _codes_of, group_exactly, keyed_words  # noqa: E402


def _plan() -> cache.LocalPlan:
    return cache.local_plan(load_knowledge())


def test_the_shipped_plan_uses_narrow_keys_and_look_ups() -> None:
    plan = _plan()
    assert plan.keyed is not None and plan.tables is not None
    widths = [w for key in plan.keyed.widths for w in key]
    assert len(plan.keyed.keys) < -(-len(widths) // collect.CODES_PER_KEY), "no fewer key words than bytes"
    assert all(sum(key) <= collect.KEY_BITS for key in plan.keyed.widths)
    assert max(widths) <= 7


def test_code_widths_bound_every_code_the_plan_computes() -> None:
    from rectoplan.cohort.columns import COLUMNS, flatten_contract
    from rectoplan.cohort.readers import arrow_type
    from rectoplan.synthetic import random_cases, registry_cases

    kb = load_knowledge()
    plan = cache.local_plan(kb)
    assert plan.keyed is not None
    rows = [flatten_contract(c) for c in registry_cases(2000, seed=5) + random_cases(2000, seed=6)]
    table = pa.table({c.name: pa.array([r.get(c.name) for r in rows], arrow_type(c.kind)) for c in COLUMNS})
    lists, scalars = plan.input_stages({name: _raw(table, name) for name in table.column_names})
    codes = [name for _, names in plan.keyed.keys for name in names]
    out = PolarsEngine().evaluate(table, [lists, scalars, *plan.before], codes)
    for (_, names), widths in zip(plan.keyed.keys, plan.keyed.widths, strict=True):
        for name, bits in zip(names, widths, strict=True):
            values = out.column(name).to_pylist()
            assert None not in values and min(values) >= 0 and max(values) < 1 << bits, name


def _raw(table: pa.Table, name: str) -> object:
    from rectoplan.cohort.readers import classify

    return classify(table.schema.field(name).type)


def test_largest_value_of_a_code_follows_its_form() -> None:
    columns: dict[str, ir.Expr] = {
        "l_0": ir.Case(((ir.Col("c"), ir.small(0)),), ir.small(2)),
        "o_0": ir.Case(((ir.Col("a"), ir.small(1)), (ir.Col("b"), ir.Add((ir.small(3), ir.Col("l_0"))))), ir.small(0)),
        "o_1": ir.Case(((ir.Col("a"), ir.small(-1)),), ir.small(0)),  # negative: not bounded
        "o_2": ir.Case(((ir.Col("a"), ir.Col("x")),), ir.small(0)),  # an unknown column: not bounded
    }
    assert collect.code_widths(columns, ["o_0", "o_1", "o_2"]) == {"o_0": 3}
    rows, keyed = collect.narrow_keys([], collect.Keyed((("_k_0", ("o_0", "o_1")),), ()), {"o_0": 3})
    assert keyed is not None and keyed.widths == () and rows == []  # o_1 has no width: bytes as before


def test_codes_come_back_from_narrow_key_words() -> None:
    rng = random.Random(7)
    names = [f"o_{i}" for i in range(40)]
    widths = {n: rng.choice([1, 2, 3, 5, 7]) for n in names}
    rows = [[rng.randrange(1 << widths[n]) for n in names] for _ in range(600)]
    old = collect.Keyed(tuple((f"_k_{j}", tuple(names[j * 8 : j * 8 + 8])) for j in range(5)), ())
    per_row, keyed = collect.narrow_keys([("_k_0", ir.ZERO), ("x", ir.ZERO)], old, widths)
    assert keyed is not None and per_row[0][0] == "x" and len(keyed.keys) < 5
    frame = pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, schema=dict.fromkeys(names, pl.Int8))
    keys = [k for k, _ in keyed.keys]
    words = PolarsEngine().evaluate(frame.to_arrow(), [tuple((n, e) for n, e in per_row if n in keys)], keys)
    indices, reps = group_exactly([words.column(k).combine_chunks() for k in keys])
    codes = _codes_of(reps, keyed)
    back = [[codes.column(n)[g].as_py() for n in names] for g in indices.to_pylist()]
    assert back == rows
    assert codes.num_rows == len({tuple(r) for r in rows})


def test_keyed_words_by_look_up_equal_the_engine() -> None:
    plan = _plan()
    assert plan.keyed is not None and plan.tables is not None
    rng = random.Random(11)
    layout = [entry for key in plan.keyed.layout() for entry in key]
    combos = 3000
    columns = {name: [rng.randrange(1 << bits) for _ in range(combos)] for name, _, bits in layout}
    for name, _, _ in layout[:20]:  # the common case too: most codes 0
        columns[name][: combos // 2] = [0] * (combos // 2)
    codes = pa.table({**{n: pa.array(v, pa.int8()) for n, v in columns.items()}, GROUP: pa.array(range(combos))})
    by_engine = PolarsEngine().evaluate(codes, [plan.keyed.stage], [GROUP, *plan.keyed.words])
    by_look_up = keyed_words(codes, plan.keyed, plan.tables)
    for word in plan.keyed.words:
        assert by_look_up.column(word).to_pylist() == by_engine.column(word).to_pylist(), word
    assert any(any(by_look_up.column(w).to_pylist()) for w in plan.keyed.words)


def test_words_of_another_form_are_left_to_the_engine() -> None:
    code = ir.Col("o_0")
    good = collect.packed_word([ir.Cmp("=", code, ir.small(3)), ir.Cmp("=", code, ir.small(1))])
    assert collect.code_tables(collect.Keyed((), (("_w", good),))) is not None
    for cond in (ir.Cmp("<", code, ir.small(3)), ir.Cmp("=", code, ir.Col("o_1")), ir.Col("c_0")):
        word = collect.packed_word([ir.Cmp("=", code, ir.small(1)), cond])
        assert collect.code_tables(collect.Keyed((), (("_w", word),))) is None
    assert collect.code_tables(collect.Keyed((), (("_w", ir.Add((ir.Col("a"), ir.ZERO))),))) is None
