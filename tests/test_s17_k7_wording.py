"""Stop 17 (K7): two wording items of the stop-16 closing note.

1. CAPIRI at second line after a first line without chemotherapy (immunotherapy or a targeted drug alone) read
   "FOLFIRI is the more common switch", with no backbone to switch from. A row for that case now comes first.
2. The TMB-high MSS note said anti-PD-1 was "not a listed option" while a pathogenic POLE mutation lists it
   as "consider". The note now has two forms: without a recorded pathogenic POLE mutation (wild-type or not
   tested) and with one; each says how it relates to the other.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import (
    RARE_RISKS_ABSENT,
    known_health,
    known_panel,
    options_by_id,
    progressed_course,
    review13_case,
)


def _case(biomarkers: dict[str, Any], courses: list[dict[str, Any]]) -> dict[str, Any]:
    return review13_case(
        "s17-k7-wording",
        62,
        biomarkers=known_panel(**biomarkers),
        prior={"courses": courses},
        health=known_health(700, **RARE_RISKS_ABSENT, autoimmune_disease=False),
    )


def _result(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    return recommend(case, kb).to_dict()


# --- 1. CAPIRI after a first line without chemotherapy ---------------------------------------------------------
NAIVE_ROW = "capiri-second-line-without-prior-chemotherapy"


@pytest.mark.parametrize(
    ("first_line", "biomarkers"),
    [
        (["pembrolizumab"], {"mmr": "dmmr_msi_h"}),  # review 13's z32: dMMR, pembrolizumab alone
        (["panitumumab"], {}),  # a targeted drug alone
    ],
)
def test_capiri_after_no_chemotherapy_has_nothing_to_switch(
    kb: KnowledgeBase, first_line: list[str], biomarkers: dict[str, Any]
) -> None:
    case = _case(biomarkers, [progressed_course(first_line, "2025-06-20", "2026-09-10")])
    capiri = options_by_id(case, kb)["capiri"]
    why = " ".join(capiri["rationale"])
    assert capiri["trace"]["setting"] == NAIVE_ROW
    assert "no backbone to switch" in why and "chemotherapy starts now" in why
    assert "more common switch" not in why and "without irinotecan" not in why
    assert capiri["strength"] == "consider"  # as the row it stands in front of


def test_capiri_after_an_oxaliplatin_first_line_keeps_the_switch(kb: KnowledgeBase) -> None:
    folfox_bev = ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"]
    case = _case({}, [progressed_course(folfox_bev, "2025-06-20", "2026-09-10")])
    capiri = options_by_id(case, kb)["capiri"]
    assert capiri["trace"]["setting"] == "capiri-second-line"
    assert "FOLFIRI is the more common switch" in " ".join(capiri["rationale"])


def test_capiri_naive_row_only_at_second_line(kb: KnowledgeBase) -> None:
    (capiri,) = (o for o in kb.options if o.id == "capiri")
    ids = [s.id for s in capiri.settings]
    assert ids.index(NAIVE_ROW) < ids.index("capiri-second-line")  # the first TRUE row wins
    (row,) = (s for s in capiri.settings if s.id == NAIVE_ROW)
    assert row.phase == "second_line"


# --- 2. TMB-high MSS beside the POLE entry ----------------------------------------------------------------------
THIRD_LINE = [
    progressed_course(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "2025-06-20", "2026-02-10"),
    progressed_course(["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"], "2026-02-25", "2026-11-10"),
]
POLE_OPTION = "pole-anti-pd1-discussion"


def _tmb_notes(result: dict[str, Any]) -> list[str]:
    return [c["text"] for c in result["case_cautions"] if c["text"].startswith("Tumour mutational burden")]


@pytest.mark.parametrize("pole", ["wild_type", None])
def test_tmb_high_without_pole_mutation_is_not_listed_and_says_why(kb: KnowledgeBase, pole: str | None) -> None:
    biomarkers: dict[str, Any] = {"kras": "mutant", "tmb": 12}
    if pole is not None:
        biomarkers["pole"] = pole
    result = _result(_case(biomarkers, THIRD_LINE), kb)
    (note,) = _tmb_notes(result)
    assert "without a recorded pathogenic POLE mutation" in note and "not a listed option" in note
    assert "POLE exonuclease-domain (proofreading) mutation is different" in note
    assert POLE_OPTION not in {o["id"] for o in result["options"]}


def test_tmb_high_with_pole_mutation_points_to_the_listed_option(kb: KnowledgeBase) -> None:
    result = _result(_case({"kras": "mutant", "tmb": 150, "pole": "pathogenic"}, THIRD_LINE), kb)
    (note,) = _tmb_notes(result)
    assert "with a pathogenic POLE mutation" in note and '"consider" option' in note
    assert "not a listed option" not in " ".join(result["warnings"])
    (pole,) = (o for o in result["options"] if o["id"] == POLE_OPTION)
    assert pole["strength"] == "consider"
    (cautions,) = (c for c in result["case_cautions"] if c["text"] == note)
    cited = {s["id"] for s in cautions["sources"]}
    assert cited == {"rousseau-pole-nivolumab", "wen-pole-crlm", "fda-pembrolizumab-tmb"}


@pytest.mark.parametrize("pole", ["pathogenic", "wild_type", None])
def test_no_tmb_note_below_ten(kb: KnowledgeBase, pole: str | None) -> None:
    biomarkers: dict[str, Any] = {"kras": "mutant", "tmb": 5}
    if pole is not None:
        biomarkers["pole"] = pole
    assert _tmb_notes(_result(_case(biomarkers, THIRD_LINE), kb)) == []


# --- 1b. the rows that put immunotherapy or encorafenib + cetuximab first ----------------------------------------
# "a switched doublet" read wrongly after a first line without chemotherapy; "a chemotherapy doublet on a
# backbone not given before" holds after either kind of first line.
@pytest.mark.parametrize(
    "first_line",
    [["panitumumab"], ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"]],
)
def test_targeted_first_rows_name_no_switch(kb: KnowledgeBase, first_line: list[str]) -> None:
    case = _case({"braf": "v600e"}, [progressed_course(first_line, "2025-06-20", "2026-09-10")])
    options = options_by_id(case, kb)
    assert options["folfiri-bevacizumab"]["trace"]["setting"] == "folfiri-bevacizumab-second-line-targeted-first"
    for oid in ("folfiri-bevacizumab", "encorafenib-cetuximab"):
        why = " ".join(options[oid]["rationale"])
        assert "switched" not in why and "a backbone not given before" in why, oid


def test_without_a_marker_first_the_usual_switch_row_applies(kb: KnowledgeBase) -> None:
    case = _case(
        {},
        [progressed_course(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "2025-06-20", "2026-09-10")],
    )
    bev = options_by_id(case, kb)["folfiri-bevacizumab"]
    assert bev["trace"]["setting"] == "folfiri-bevacizumab-second-line"
    assert "switch the backbone to FOLFIRI" in " ".join(bev["rationale"])
