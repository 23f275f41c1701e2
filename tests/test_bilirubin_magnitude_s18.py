"""Stop 18: a case that records only the magnitude (`health.bilirubin_over_3_uln: true`, `bilirubin_raised`
not given) has raised bilirubin too, so the raised-bilirubin cautions of every drug (irinotecan, regorafenib,
trifluridine/tipiracil, fruquintinib, floxuridine, radioembolization, encorafenib) speak; before, only the
irinotecan gate read the new field and the other cautions stayed silent. An unrecorded magnitude changes
nothing (the usual case)."""

from __future__ import annotations

import copy
from typing import Any

from rectoplan.api import recommend, validate_case
from rectoplan.core.knowledge import KnowledgeBase
from tests.test_bilirubin_s18 import K03


def _texts(case: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    rec = recommend(validate_case(case, kb), kb, what_if=False)
    return [w for o in rec.options for w in (*o.warnings, *o.notes)]


def _with(raised: bool | None, over_3: bool | None) -> dict[str, Any]:
    case = copy.deepcopy(K03)
    case["health"].pop("bilirubin_raised", None)
    if raised is not None:
        case["health"]["bilirubin_raised"] = raised
    if over_3 is not None:
        case["health"]["bilirubin_over_3_uln"] = over_3
    return case


def _raised_texts(kb: KnowledgeBase) -> set[str]:
    """The words of every option caution on raised bilirubin, as the options show them."""
    return {c.text for o in kb.options for c in o.cautions if c.id.endswith("raised-bilirubin")}


def test_the_magnitude_alone_makes_the_raised_bilirubin_cautions_speak(kb: KnowledgeBase) -> None:
    texts = set(_raised_texts(kb))
    assert texts, "no raised-bilirubin caution found: this test proves nothing"
    silent = [t for t in _texts(_with(None, None), kb) if t in texts]
    spoken = [t for t in _texts(_with(None, True), kb) if t in texts]
    assert not silent
    assert spoken  # the magnitude alone: FOLFOX + bevacizumab etc. stay, and their bilirubin cautions speak
    assert set(spoken) <= set(_texts(_with(True, True), kb))


def test_an_unrecorded_or_normal_magnitude_changes_nothing(kb: KnowledgeBase) -> None:
    for raised in (True, False, None):
        assert _texts(_with(raised, None), kb) == _texts(_with(raised, False), kb)
