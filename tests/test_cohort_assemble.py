"""Result texts from packed words: once per distinct word combination, and exact (rows are grouped by
their values, never by a hash), whether grouped in one piece or per row block and merged."""

from __future__ import annotations

import random

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("polars")
pytest.importorskip("numpy")

from rectoplan.cohort.local import assemble, group_exactly, group_rows, merge_groupings  # noqa: E402
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
def test_grouping_is_exact_and_merges_across_blocks(choices: int) -> None:
    """Every row's group holds exactly its words, grouped in one piece or per block and merged. With few
    distinct rows the merged groups are distinct too; with mostly distinct rows the blocks' groups are put
    end to end (a combination found in two blocks may then have two groups, never a wrong one)."""
    rng = random.Random(choices)
    values = [0, 1, -1, 2**62, *(rng.getrandbits(62) for _ in range(choices))]
    rows = [tuple(rng.choice(values) for _ in range(3)) for _ in range(3000)]
    words = [pa.array([r[k] for r in rows], pa.int64()) for k in range(3)]
    blocks = [group_exactly([w.slice(a, b - a) for w in words]) for a, b in ((0, 1000), (1000, 3000))]
    for grouping, distinct in ((group_exactly(words), True), (merge_groupings(blocks), choices < 10)):
        indices, reps = grouping
        firsts = list(zip(*(r.to_pylist() for r in reps), strict=True))
        assert [firsts[i] for i in indices.to_pylist()] == rows
        if distinct:  # one group per distinct combination, no more, no fewer
            assert len(firsts) == len(set(rows))
        else:
            assert len(firsts) == sum(len(b[1][0]) for b in blocks)


def test_null_words_are_refused() -> None:
    with pytest.raises(ValueError, match="null"):
        group_exactly([pa.array([1, None], pa.int64()), pa.array([1, 2], pa.int64())])


# Coded outputs: the words hold small codes side by side; a label is set where its codes have their values.
# Codes a (2 bits, at shift 0) and b (3 bits, at shift 2) in one word; labels test a=1, b=5, a=2, b=1.
FIELDS = (("a", 0, 0, 2), ("b", 0, 2, 3))


def _coded(name: str, labels: tuple[str, ...]) -> Packed:
    tests = (("a", 1),), (("b", 5),), (("a", 2),), (("b", 1),)
    return Packed(name, ("c0",), (labels,), tests, FIELDS)


def _codes(pairs: list[tuple[int, int]], flags: list[int] | None = None) -> pa.Table:
    columns = {"c0": pa.array([a | b << 2 for a, b in pairs], pa.int64())}
    if flags is not None:
        columns["f0"] = pa.array(flags, pa.int64())
    return pa.table(columns)


def test_coded_output_texts_follow_the_codes() -> None:
    rows = [(1, 5), (2, 1), (0, 0), (1, 5), (3, 7)]  # a=3 and b=7 are values no label tests
    (texts,) = _assembled(_codes(rows), [_coded("out", ("x", "y", "z", "w"))]).values()
    assert texts.to_pylist() == ["x y", "z w", "", "x y", ""]
    assert len(texts.dictionary) == 3  # once per distinct text: (0, 0) and (3, 7) both give the empty one


def test_coded_outputs_sharing_codes_keep_their_own_labels() -> None:
    rows = [(1, 5), (2, 1), (1, 1), (1, 5)]
    first, second = _coded("first", ("x", "y", "z", "w")), _coded("second", ("A", "B", "C", "D"))
    out = _assembled(_codes(rows), [first, second])
    assert out["first"].to_pylist() == ["x y", "z w", "x w", "x y"]
    assert out["second"].to_pylist() == ["A B", "C D", "A D", "A B"]


def test_flagged_labels_need_their_code_and_their_flag() -> None:
    """An exclusion is `code = excluded AND gate TRUE`: label (a=1, g0) needs both; (a=1, g1) too; (b=5)
    needs only its code. The output is grouped by codes and flags, the codes-only one by codes alone."""
    flagged = Packed(
        "pairs",
        ("c0", "f0"),
        (("p", "q", "r"),),
        ((("a", 1), ("g0", 1)), (("a", 1), ("g1", 1)), (("b", 5),)),
        (*FIELDS, ("g0", 1, 0, 1), ("g1", 1, 1, 1)),
    )
    rows = [(1, 5), (1, 0), (2, 5), (1, 5), (0, 0)]
    flags = [0b01, 0b11, 0b11, 0b10, 0b11]
    out = _assembled(_codes(rows, flags), [flagged, _coded("codes", ("x", "y", "z", "w"))])
    assert out["pairs"].to_pylist() == ["p r", "p q", "r", "q r", ""]
    assert out["codes"].to_pylist() == ["x y", "x", "y z", "x y", ""]


def test_the_plan_codes_the_outputs_decided_by_option_codes_and_gates() -> None:
    from rectoplan.cohort.run import _compiled
    from rectoplan.compile.collect import value_ranges
    from rectoplan.compile.plan import compile_plan
    from rectoplan.compile.rules import WORD_BITS
    from rectoplan.kb.loader import default_knowledge

    kb = default_knowledge()
    before, _, packed, _ = _compiled(kb)
    coded = {p.name: p for p in packed if p.tests}
    assert set(coded) == {"options", "settings", "excluded", "held", "exclusions", "holds"}
    plan = compile_plan(kb)
    ranges = value_ranges(before)
    for option, column in plan.codes:  # every code fits its field: 2 + the number of settings
        assert ranges[column] == 2 + len(option.settings)
    assert {f[0] for f in coded["options"].fields} == {column for _, column in plan.codes}
    for p in coded.values():
        for column, _, shift, width in p.fields:
            assert (ranges.get(column, 1) < 1 << width) and shift + width <= WORD_BITS
    # exclusions and holds: every pair is (its option's code, excluded or held) AND one gate flag
    for name, value in (("exclusions", 1), ("holds", 2)):
        for test in coded[name].tests:
            (code,) = [t for t in test if t[0] in ranges]
            assert code[1] == value and len(test) == 2
    words = coded["exclusions"].words  # the option codes, then as many 62-bit words of gate flags as needed
    flags = words[len(coded["options"].words) :]
    assert words[: len(coded["options"].words)] == coded["options"].words
    assert flags == tuple(f"_w_flags_{i}" for i in range(len(flags))) and flags


def test_code_words_hold_every_code_in_its_field() -> None:
    """Codes summed in 8-bit windows and then widened land exactly in their fields (random codes within
    their ranges, read back by shift and mask)."""
    import polars as pl

    from rectoplan.compile.collect import _code_words
    from rectoplan.compile.polars_expr import expr

    rng = random.Random(7)
    ranges = {f"o_{i}": rng.choice([1, 3, 4, 5, 7, 12]) for i in range(60)}
    words, fields = _code_words(list(ranges), ranges)
    assert len(words) > 1  # the fields span several words
    codes = {c: pl.Series(c, [rng.randint(0, top) for _ in range(200)], pl.Int8) for c, top in ranges.items()}
    frame = pl.DataFrame(list(codes.values())).select([expr(w).alias(f"w{k}") for k, w in enumerate(words)])
    for column, word, shift, width in fields:
        back = (frame[f"w{word}"] // (1 << shift)) % (1 << width)
        assert back.to_list() == codes[column].to_list()


def test_prepare_builds_the_engine_expressions_and_the_decoding_ahead() -> None:
    """What `run_cohort` builds while the input is read is what the first evaluation then finds built."""
    from rectoplan.cohort import local
    from rectoplan.cohort.run import _compiled, _prepare
    from rectoplan.kb.loader import load_knowledge

    kb = load_knowledge()  # a knowledge base of its own: an empty memo
    local._decoding.cache_clear()
    _prepare(kb, "polars")
    before, packing, packed, _ = _compiled(kb)
    built = {key[1] for key in kb.memo if isinstance(key, tuple) and key[0] == "polars-exprs"}
    assert built == {id(stage) for stage in (*before, *packing) if stage}
    assert local._decoding.cache_info().currsize == len({p.words for p in packed if p.tests}) == 2
