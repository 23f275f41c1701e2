"""Result texts from packed words: once per distinct key, yet exact even when two keys collide."""

from __future__ import annotations

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("polars")

from rectoplan.cohort.local import assemble  # noqa: E402
from rectoplan.compile.collect import Packed  # noqa: E402

LABELS = (("a", "b", "c"), ("d", "e"))


def _table(keys: list[int]) -> pa.Table:
    return pa.table(
        {
            "w0": pa.array([0b001, 0b110, 0b001, 0b000, 0b101], pa.int64()),
            "w1": pa.array([0b10, 0b00, 0b10, 0b11, 0b00], pa.int64()),
            "h": pa.array(keys, pa.int64()),
        }
    )


EXPECTED = ["a e", "b c", "a e", "d e", "a c"]


def test_texts_follow_the_words_with_a_sound_key() -> None:
    (texts,) = assemble(_table([1, 2, 1, 3, 4]), [Packed("out", ("w0", "w1"), LABELS, "h")]).values()
    assert texts.to_pylist() == EXPECTED
    assert len(texts.dictionary) == 4  # built once per distinct key


def test_a_key_shared_by_different_words_never_mixes_their_texts() -> None:
    colliding = [1, 2, 1, 3, 2]  # rows 1 and 4 share a key but not their words
    (texts,) = assemble(_table(colliding), [Packed("out", ("w0", "w1"), LABELS, "h")]).values()
    assert texts.to_pylist() == EXPECTED


def test_one_word_is_its_own_key() -> None:
    (texts,) = assemble(_table([0] * 5), [Packed("out", ("w0",), LABELS[:1], None)]).values()
    assert texts.to_pylist() == ["a", "b c", "a", "", "a c"]


# Coded outputs: the words hold small codes side by side; a label is set where its code has its value.
# Codes a (2 bits, at shift 0) and b (3 bits, at shift 2) in one word; labels test a=1, b=5, a=2, b=1.
def _coded(name: str, labels: tuple[str, ...], key: str | None = None) -> Packed:
    tests = (("a", 1), ("b", 5), ("a", 2), ("b", 1))
    return Packed(name, ("c0",), (labels,), key, tests, (("a", 0, 0, 2), ("b", 0, 2, 3)))


def _codes(pairs: list[tuple[int, int]], keys: list[int] | None = None) -> pa.Table:
    columns = {"c0": pa.array([a | b << 2 for a, b in pairs], pa.int64())}
    if keys is not None:
        columns["h"] = pa.array(keys, pa.int64())
    return pa.table(columns)


def test_coded_output_texts_follow_the_codes() -> None:
    rows = [(1, 5), (2, 1), (0, 0), (1, 5), (3, 7)]  # a=3 and b=7 are values no label tests
    (texts,) = assemble(_codes(rows), [_coded("out", ("x", "y", "z", "w"))]).values()
    assert texts.to_pylist() == ["x y", "z w", "", "x y", ""]
    assert len(texts.dictionary) == 3  # once per distinct text: (0, 0) and (3, 7) both give the empty one


def test_coded_outputs_sharing_codes_keep_their_own_labels_and_never_mix_on_a_collision() -> None:
    rows = [(1, 5), (2, 1), (1, 1), (1, 5)]
    first, second = _coded("first", ("x", "y", "z", "w"), "h"), _coded("second", ("A", "B", "C", "D"), "h")
    out = assemble(_codes(rows, keys=[7, 7, 8, 7]), [first, second])  # rows 0 and 1 collide on key 7
    assert out["first"].to_pylist() == ["x y", "z w", "x w", "x y"]
    assert out["second"].to_pylist() == ["A B", "C D", "A D", "A B"]


def test_the_plan_codes_only_outputs_decided_by_option_codes() -> None:
    from rectoplan.cohort.run import _compiled
    from rectoplan.compile.collect import value_ranges
    from rectoplan.compile.plan import compile_plan
    from rectoplan.compile.rules import WORD_BITS
    from rectoplan.kb.loader import default_knowledge

    kb = default_knowledge()
    before, _, packed, _ = _compiled(kb)
    coded = {p.name for p in packed if p.tests}
    assert coded == {"options", "settings", "excluded", "held"}
    plan = compile_plan(kb)
    ranges = value_ranges(before)
    for option, column in plan.codes:  # every code fits its field: 2 + the number of settings
        assert ranges[column] == 2 + len(option.settings)
    fields = next(p.fields for p in packed if p.tests)
    assert {f[0] for f in fields} == {column for _, column in plan.codes}
    for column, _, shift, width in fields:
        assert ranges[column] < 1 << width and shift + width <= WORD_BITS
