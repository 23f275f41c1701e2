"""The card builder's shortcuts give the cards its plain definitions give.

`escape_md` replaces character by character instead of `str.translate` (a per-character lookup), and the
plan card's source is remembered per citation list instead of built from every citation on every call.
"""

from __future__ import annotations

import random

from rectoplan import api
from rectoplan.examples import demo_cases
from rectoplan.kb.loader import default_knowledge
from rectoplan.service import cards
from tests.test_cards import SOURCE

TABLE = str.maketrans({ch: "\\" + ch for ch in "\\<>*_`[]#|"})


def test_escape_md_is_the_translation_table() -> None:
    rng = random.Random(7)
    alphabet = "\\<>*_`[]#|ab é\n"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        assert cards.escape_md(text) == text.translate(TABLE), text


def test_the_remembered_source_is_the_primary_source_of_every_demo_plan() -> None:
    """For every demo case, each of its options taken as the top one: the source primary_source gives."""
    kb = default_knowledge()
    checked = 0
    for _, case in demo_cases():
        rec = api.recommend(case, kb, what_if=False)
        for i in range(len(rec.options)):
            top = rec._replace(options=rec.options[i:])
            for _ in range(2):  # first computed, then remembered
                assert cards._top_source(top, SOURCE) == cards.primary_source(top.to_dict(), SOURCE)
            checked += 1
    assert checked > 20
    assert cards._top_source(rec._replace(options=()), SOURCE) == SOURCE
