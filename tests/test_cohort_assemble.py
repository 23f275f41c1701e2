"""Result texts from packed words: once per distinct word combination, and exact (rows are grouped by
their values, never by a hash); each text is one dictionary entry."""

from __future__ import annotations

import random

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("polars")
pytest.importorskip("numpy")

from rectoplan.cohort.local import assemble, group_exactly, group_rows  # noqa: E402
from rectoplan.compile.collect import Packed  # noqa: E402

LABELS = (("a", "b", "c"), ("d", "e"))


def _table() -> pa.Table:
    return pa.table(
        {
            "w0": pa.array([0b001, 0b110, 0b001, 0b000, 0b101], pa.int64()),
            "w1": pa.array([0b10, 0b00, 0b10, 0b11, 0b00], pa.int64()),
        }
    )


EXPECTED = ["a e", "b c", "a e", "d e", "a c"]


def _assembled(table: pa.Table, packed: list[Packed]) -> dict[str, pa.Array]:
    return assemble(group_rows(table, packed), packed, table.num_rows)


def test_texts_follow_the_words_once_per_distinct_combination() -> None:
    (texts,) = _assembled(_table(), [Packed("out", ("w0", "w1"), LABELS)]).values()
    assert texts.to_pylist() == EXPECTED
    assert len(texts.dictionary) == 4  # built once per distinct word combination


def test_one_word() -> None:
    (texts,) = _assembled(_table(), [Packed("out", ("w0",), LABELS[:1])]).values()
    assert texts.to_pylist() == ["a", "b c", "a", "", "a c"]


@pytest.mark.parametrize("choices", [4, 1000])
def test_grouping_is_exact(choices: int) -> None:
    """Every row's group holds exactly its words, and there is one group per distinct combination, no
    more, no fewer (values that share their low or high halves included)."""
    rng = random.Random(choices)
    values = [0, 1, -1, 2**62, 2**32, 2**32 + 1, *(rng.getrandbits(62) for _ in range(choices))]
    rows = [tuple(rng.choice(values) for _ in range(3)) for _ in range(3000)]
    words = [pa.array([r[k] for r in rows], pa.int64()) for k in range(3)]
    indices, reps = group_exactly(words)
    firsts = list(zip(*(r.to_pylist() for r in reps), strict=True))
    assert [firsts[i] for i in indices.to_pylist()] == rows
    assert len(firsts) == len(set(rows))


def test_grouping_runs_each_family_on_the_map_it_is_given() -> None:
    packed = [Packed("a", ("w0",), LABELS[:1]), Packed("b", ("w0",), LABELS[:1]), Packed("c", ("w0", "w1"), LABELS)]
    seen: list[tuple[str, ...]] = []

    def recording_map(function: object, families: list[tuple[str, ...]]) -> object:
        seen.extend(families)
        return map(function, families)  # type: ignore[call-overload]

    groups = group_rows(_table(), packed, recording_map)
    assert seen == [("w0",), ("w0", "w1")] == list(groups)  # outputs that share words share a grouping


def test_null_words_are_refused() -> None:
    with pytest.raises(ValueError, match="null"):
        group_exactly([pa.array([1, None], pa.int64()), pa.array([1, 2], pa.int64())])


def test_result_dictionaries_hold_each_text_once() -> None:
    """The result columns are dictionary-encoded with one entry per distinct text: a text is never built
    twice, so a report or a reader that counts dictionary entries counts distinct outcomes (a cohort large
    enough to be worked on in two row blocks, with mostly distinct outcomes)."""
    from rectoplan.cohort.columns import flatten_contract
    from rectoplan.cohort.readers import canonical_table
    from rectoplan.cohort.run import evaluate_local
    from rectoplan.compile.plan import RESULT_COLUMNS
    from rectoplan.kb.loader import default_knowledge
    from rectoplan.synthetic import random_cases

    kb = default_knowledge()
    rows = [flatten_contract(c) for c in random_cases(3000, seed=16)]
    table = canonical_table(rows, list(range(1, len(rows) + 1)))
    results, errors = evaluate_local(table, kb, "polars", blocks=2)
    assert results.num_rows + len(errors) == len(rows)
    for name in RESULT_COLUMNS:
        column = results.column(name).combine_chunks()
        texts = column.dictionary.to_pylist()
        assert len(texts) == len(set(texts)), name
        assert set(column.indices.to_pylist()) == set(range(len(texts))), name  # and no entry unused


def test_the_plan_packs_each_result_list_into_bit_words() -> None:
    """Every list output of the plan is packed, 62 items to a word; the ranked options and their settings
    share their words; the intent is kept as it is."""
    from rectoplan.cohort.cache import local_plan
    from rectoplan.compile import ir
    from rectoplan.compile.plan import RESULT_COLUMNS, compile_plan
    from rectoplan.compile.rules import WORD_BITS
    from rectoplan.kb.loader import default_knowledge

    kb = default_knowledge()
    plan = local_plan(kb)
    outputs = dict(compile_plan(kb).stages[-1])
    packed = {p.name: p for p in plan.packed}
    assert set(packed) | set(plan.plain) == set(RESULT_COLUMNS) and "intent" in plan.plain
    for name, p in packed.items():
        collect = outputs[name]
        assert isinstance(collect, ir.Collect)
        assert [label for chunk in p.labels for label in chunk] == [label for _, label in collect.items]
        assert all(len(chunk) <= WORD_BITS for chunk in p.labels) and len(p.words) == len(p.labels)
    assert packed["options"].words == packed["settings"].words


def test_the_plan_and_its_engine_expressions_are_kept_per_knowledge_base() -> None:
    """What `run_cohort` builds while the input is read is what the first evaluation then finds built,
    kept by the cohort layer's own cache (never in the knowledge base), per knowledge base object."""
    from rectoplan.cohort.cache import local_plan
    from rectoplan.cohort.run import _prepare
    from rectoplan.kb.loader import load_knowledge

    kb = load_knowledge()  # a knowledge base of its own
    _prepare(kb, "polars")
    plan = local_plan(kb)
    assert local_plan(kb) is plan
    assert all(stage in plan.exprs for stage in (*plan.before, *plan.packing) if stage)
    other = load_knowledge()
    assert other == kb and local_plan(other) is not plan  # equal knowledge, another object: its own plan
