"""Review 13, findings 7 and 8 (stop 16).

Finding 7: an NTRK fusion (RAS and BRAF wild-type) left the anti-EGFR doublets without a caution, while a
HER2-positive tumour gets one. The new caution `anti-egfr-ntrk-fusion` rests on a small retrospective series
(Pietrantonio et al., J Natl Cancer Inst 2017: ALK, ROS1 and NTRK rearrangements) and says so; RET fusions get
no caution, because no confirmed source reports anti-EGFR outcomes for them.

Finding 8: raltitrexed's "given continuously ... no planned de-escalation" note cited CORRECT and SUNLIGHT
(the regorafenib and trifluridine/tipiracil trials). It now cites the raltitrexed label's posology instead.
"""

from __future__ import annotations

import copy
from typing import Any

from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import known_health, known_panel, options_by_id, unresectable_liver_and_lung

ANTI_EGFR_SECOND_LINE = ("folfiri-panitumumab", "folfiri-cetuximab", "irinotecan-cetuximab")
FUSION = "anti-egfr-ntrk-fusion"

# Review 13's z11: RAS and BRAF wild-type, pMMR, second line after FOLFOX + bevacizumab that progressed.
CASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "r13b-fusion",
    "as_of": "2026-02-20",
    "advanced_disease_date": "2025-06-01",
    "age": 62,
    "ecog": 1,
    "primary": {"status": "resected", "stoma": False},
    "metastases": unresectable_liver_and_lung(),
    "biomarkers": known_panel(ntrk_fusion="positive"),
    "prior": {
        "courses": [
            {
                "agents": ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"],
                "setting": "advanced",
                "start": "2025-06-20",
                "end": "2026-02-10",
                "status": "stopped",
                "stopped_for": "progression",
                "best_response": "partial",
            }
        ]
    },
    "health": known_health(
        700, recent_arterial_thrombosis=False, organ_transplant=False, fluoropyrimidine_cardiotoxicity=False
    ),
}


def _fusion_texts(option: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in option["cautions"] if c["text"].startswith("NTRK fusion:")]


def _with(**biomarkers: str | None) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    for key, value in biomarkers.items():
        if value is None:
            case["biomarkers"].pop(key, None)
        else:
            case["biomarkers"][key] = value
    return case


def test_ntrk_fusion_cautions_every_anti_egfr_option(kb: KnowledgeBase) -> None:
    options = options_by_id(CASE, kb)
    for oid in ANTI_EGFR_SECOND_LINE:
        (caution,) = _fusion_texts(options[oid])
        assert FUSION in options[oid]["trace"]["rules"]
        assert "all 4 patients evaluable" in caution["text"] and "evidence is small" in caution["text"]
        assert [s["id"] for s in caution["sources"]] == ["pietrantonio-kinase-fusions"]
    # a caution, not an exclusion or a lowering: the row's strength is unchanged
    assert options["folfiri-panitumumab"]["strength"] == "alternative"
    # the anti-VEGF doublet and the TRK inhibitors carry no such caution
    for oid in ("folfiri-bevacizumab", "larotrectinib"):
        assert not _fusion_texts(options[oid])


def test_no_fusion_caution_without_a_positive_ntrk_result(kb: KnowledgeBase) -> None:
    for case in (_with(ntrk_fusion="negative"), _with(ntrk_fusion=None)):
        options = options_by_id(case, kb)
        for oid in ANTI_EGFR_SECOND_LINE:
            assert not _fusion_texts(options[oid])
            assert FUSION not in options[oid]["trace"]["rules"]


def test_ret_fusion_has_no_unconfirmed_anti_egfr_caution(kb: KnowledgeBase) -> None:
    options = options_by_id(_with(ntrk_fusion="negative", ret_fusion="positive"), kb)
    for oid in ANTI_EGFR_SECOND_LINE:
        assert not _fusion_texts(options[oid])
    assert "selpercatinib" in options


def test_fusion_caution_follows_the_her2_cautions_options(kb: KnowledgeBase) -> None:
    def bound(cid: str) -> set[str]:
        return {o.id for o in kb.options if any(c.id == cid for c in o.cautions)}

    assert bound(FUSION) == bound("anti-egfr-her2-positive")


DPYD_POOR_FIRST_LINE: dict[str, Any] = {
    **copy.deepcopy(CASE),
    "id": "r13b-raltitrexed",
    "biomarkers": {"kras": "mutant", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"},
    "prior": {},
    "health": {**CASE["health"], "dpyd": "poor"},
}


def _duration_sources(option: dict[str, Any]) -> set[str]:
    (note,) = (c for c in option["cautions"] if c["text"].startswith("Given continuously while it controls"))
    return {s["id"] for s in note["sources"]}


def test_raltitrexed_duration_note_cites_its_label_not_correct_or_sunlight(kb: KnowledgeBase) -> None:
    raltitrexed = options_by_id(DPYD_POOR_FIRST_LINE, kb)["raltitrexed"]
    cited = _duration_sources(raltitrexed)
    assert "tomudex-smpc-posology" in cited
    assert {"correct", "sunlight"}.isdisjoint(cited)


def test_later_line_duration_notes_keep_their_own_trials(kb: KnowledgeBase) -> None:
    by_id = {o.id: o for o in kb.options}
    notes = {c.id: c for c in by_id["trifluridine-tipiracil"].cautions + by_id["regorafenib"].cautions}
    assert "sunlight" in {c.source for c in notes["duration-continuous-trifluridine-tipiracil"].cite}
    assert "correct" in {c.source for c in notes["duration-continuous-regorafenib"].cite}
    # raltitrexed carries only its own form of the note
    assert [c.id for c in by_id["raltitrexed"].cautions if c.id.startswith("duration-continuous")] == [
        "duration-continuous-raltitrexed"
    ]
