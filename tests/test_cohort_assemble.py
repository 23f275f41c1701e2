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
