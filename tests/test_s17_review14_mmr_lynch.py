"""Review 14, findings 1, 8 and 12: what the output says about MMR, Lynch syndrome and UGT1A1 is what is known.

F1: with MMR not recorded, the Lynch referral's "unknown" text ("dMMR/MSI-H: test BRAF V600E ...") reached the
page and the card, and the handout told the patient "Your cancer has a change called MSI-H"; the first-line
anti-EGFR rows said "not HER2-positive, not dMMR/MSI-H" with MMR or HER2 unknown.
F8: no germline advice before age 50 (Pearlman 2017: 16% of 450 patients under 50 carried a germline
mutation), and "not Lynch syndrome" beside a germline Lynch result.
F12: irinotecan's "know the UGT1A1 genotype before starting" with the genotype recorded.
Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.adapters.handout import handout_html
from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation

Make = Callable[..., Case]
MSI_SENTENCE = "Your cancer has a change called MSI-H"
EARLY = "Colorectal cancer before age 50"
NOT_LYNCH = "not Lynch syndrome"


def _rec(make_case: Make, kb: KnowledgeBase, **changes: Any) -> tuple[Recommendation, Case]:
    case = make_case(**changes)
    return recommend(case, kb, what_if=False), case


def _said(rec: Recommendation) -> str:
    return " ".join([*rec.warnings, *(w for o in rec.options for w in (*o.warnings, *o.notes))])


# --- F1 ---------------------------------------------------------------------------------------------------------
def test_unknown_mmr_is_not_called_dmmr_anywhere(make_case: Make, kb: KnowledgeBase) -> None:
    rec, case = _rec(make_case, kb, biomarkers={"mmr": None})
    assert not any("dMMR/MSI-H" in w for w in rec.warnings)
    assert MSI_SENTENCE not in handout_html(rec, kb, case)
    first = rec.options[0]
    assert first.id == "folfox-panitumumab" and first.strength == "preferred"
    assert "not dMMR/MSI-H" not in first.rationale[0] and "not yet known" in first.rationale[0]
    assert "mmr" in [t.test for t in rec.tests_needed]


def test_unknown_her2_is_not_called_negative(make_case: Make, kb: KnowledgeBase) -> None:
    rec, _ = _rec(make_case, kb, biomarkers={"her2": None})
    assert "not HER2-positive" not in rec.options[0].rationale[0]


def test_known_pmmr_and_her2_negative_keep_the_usual_row(make_case: Make, kb: KnowledgeBase) -> None:
    rec, _ = _rec(make_case, kb)
    assert "not HER2-positive, not dMMR/MSI-H" in rec.options[0].rationale[0]


def test_dmmr_with_braf_unknown_still_asks_for_braf(make_case: Make, kb: KnowledgeBase) -> None:
    rec, case = _rec(make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": None})
    assert any(w.startswith("dMMR/MSI-H: test BRAF V600E") for w in rec.warnings)
    assert MSI_SENTENCE in handout_html(rec, kb, case)


def test_the_sporadic_braf_note_does_not_tell_the_patient_the_family_should_be_tested(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec, case = _rec(make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": "v600e"})
    assert NOT_LYNCH in _said(rec)
    assert MSI_SENTENCE not in handout_html(rec, kb, case)


# --- F8 ---------------------------------------------------------------------------------------------------------
def test_a_recorded_lynch_result_is_not_contradicted(make_case: Make, kb: KnowledgeBase) -> None:
    carrier, _ = _rec(make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": "v600e", "germline_lynch": "positive"})
    assert NOT_LYNCH not in _said(carrier)
    tested_negative, _ = _rec(
        make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": "v600e", "germline_lynch": "negative"}
    )
    assert NOT_LYNCH in _said(tested_negative)


def test_under_50_without_a_germline_result_is_offered_genetic_counselling(make_case: Make, kb: KnowledgeBase) -> None:
    rec, case = _rec(make_case, kb, age=29)
    note = next(w for w in rec.warnings if w.startswith(EARLY))
    assert "multigene panel" in note
    assert any(s.source == "pearlman-2017" for c in rec.case_cautions if c.text == note for s in c.sources)
    assert "before age 50" in handout_html(rec, kb, case)


def test_no_early_onset_note_at_50_after_germline_testing_or_with_a_dmmr_referral(
    make_case: Make, kb: KnowledgeBase
) -> None:
    for changes in (
        {"age": 50},
        {"age": 29, "biomarkers": {"germline_lynch": "negative"}},
        {"age": 29, "biomarkers": {"mmr": "dmmr_msi_h"}},  # lynch-referral says it
    ):
        rec, _ = _rec(make_case, kb, **changes)
        assert not any(w.startswith(EARLY) for w in rec.warnings), changes
    referral, _ = _rec(make_case, kb, age=29, biomarkers={"mmr": "dmmr_msi_h"})
    assert any("refer for genetic counselling" in w for w in referral.warnings)


# --- F12 --------------------------------------------------------------------------------------------------------
UGT1A1 = "know the UGT1A1 genotype"
SECOND_LINE = {
    "systemic_lines": [
        {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
    ]
}


def test_irinotecan_asks_for_the_ugt1a1_genotype_only_when_it_is_not_recorded(
    make_case: Make, kb: KnowledgeBase
) -> None:
    unknown, _ = _rec(make_case, kb, prior=SECOND_LINE)
    irinotecan = [o for o in unknown.options if "irinotecan" in o.components]
    assert irinotecan and all(any(UGT1A1 in n for n in (*o.warnings, *o.notes)) for o in irinotecan)
    known, _ = _rec(make_case, kb, prior=SECOND_LINE, health={"ugt1a1": "normal"})
    assert not any(UGT1A1 in n for o in known.options for n in (*o.warnings, *o.notes))
