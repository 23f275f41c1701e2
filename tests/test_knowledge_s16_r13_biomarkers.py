"""Review 13, findings 1 and 6: a POLE mutation is read, and trastuzumab deruxtecan keeps to its label.

Finding 1: `biomarkers.pole` was accepted but read by no rule (z13: pMMR/MSS, POLE pathogenic, TMB 150, third
line, output identical to a POLE-wild-type case). A pathogenic POLE proofreading mutation in a pMMR/MSS tumour
now brings a "consider" entry pointing to anti-PD-1 at the tumour board or in a trial, with the evidence level
of its studies (retrospective; Rousseau 2022, Wen 2022).
Finding 6: trastuzumab deruxtecan was offered at second line after FOLFOX-bevacizumab (z04), although its
tumour-agnostic label requires "no satisfactory alternative treatment options"; at second line it now needs
fluoropyrimidine, oxaliplatin and irinotecan all given (a triplet first line).
Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.engine import assess, recommend
from rectoplan.core.knowledge import KnowledgeBase

Make = Callable[..., Case]
POLE = "pole-anti-pd1-discussion"
TDXD = "trastuzumab-deruxtecan"
FOLFOX_BEV = {"agents": ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"], "stopped_for": "progression"}
FOLFIRI_BEV = {"agents": ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"], "stopped_for": "progression"}
FOLFOXIRI_BEV = {
    "agents": ["leucovorin", "fluorouracil", "oxaliplatin", "irinotecan", "bevacizumab"],
    "stopped_for": "progression",
}
THIRD_LINE = {"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV]}
KRAS_G12V = {"kras": "mutant", "kras_variant": "G12V"}
POLE_TMB = {"pole": "pathogenic", "tmb": 150}


def _status(case: Case, kb: KnowledgeBase, option_id: str) -> str:
    return next(o.status for o in assess(case, kb).outcomes if o.option.id == option_id)


def _offered(case: Case, kb: KnowledgeBase) -> dict[str, Any]:
    return {o.id: o for o in recommend(case, kb, what_if=False).options}


# --- finding 1: POLE ------------------------------------------------------------------------------------------
def test_pole_pathogenic_mss_brings_the_anti_pd1_discussion(make_case: Make, kb: KnowledgeBase) -> None:
    case = make_case(biomarkers={**KRAS_G12V, "pole": "pathogenic", "tmb": 150}, prior=THIRD_LINE)
    option = _offered(case, kb)[POLE]
    assert option.strength == "consider"
    assert option.evidence[0] == "retrospective"
    assert "anti-PD-1" in option.rationale[0] and "no randomised trial" in option.rationale[0]
    assert {s.source for s in option.sources} >= {"rousseau-pole-nivolumab", "wen-pole-crlm"}


def test_pole_wild_type_or_unknown_brings_nothing(make_case: Make, kb: KnowledgeBase) -> None:
    """z14 of review 13: TMB 12, POLE wild-type; and a case that does not record POLE."""
    wild = make_case(biomarkers={**KRAS_G12V, "pole": "wild_type", "tmb": 12}, prior=THIRD_LINE)
    assert _status(wild, kb, POLE) == "not_applicable"
    assert _status(make_case(prior=THIRD_LINE), kb, POLE) == "not_applicable"


def test_pole_without_a_high_tmb_brings_nothing_and_asks_for_the_tmb(make_case: Make, kb: KnowledgeBase) -> None:
    """Only proofreading mutations, which make the tumour ultramutated, responded (Rousseau 2022)."""
    low = make_case(biomarkers={"pole": "pathogenic", "tmb": 5}, prior=THIRD_LINE)
    assert _status(low, kb, POLE) == "not_applicable"
    unrecorded = make_case(biomarkers={"pole": "pathogenic"}, prior=THIRD_LINE)
    assert _status(unrecorded, kb, POLE) == "not_applicable"
    changes = recommend(unrecorded, kb).what_would_change
    assert any(c.fact == "biomarkers.tmb" and POLE in c.added for c in changes)


def test_pole_is_asked_for_only_in_a_tmb_high_mss_tumour(make_case: Make, kb: KnowledgeBase) -> None:
    def asks_pole(case: Case) -> bool:
        return any(c.fact == "biomarkers.pole" for c in recommend(case, kb).what_would_change)

    assert asks_pole(make_case(biomarkers={"tmb": 12}, prior=THIRD_LINE))
    assert not asks_pole(make_case(prior=THIRD_LINE))


def test_pole_with_dmmr_is_left_to_the_dmmr_immunotherapy(make_case: Make, kb: KnowledgeBase) -> None:
    case = make_case(biomarkers={**POLE_TMB, "mmr": "dmmr_msi_h"})
    assert _status(case, kb, POLE) == "not_applicable"
    assert _offered(case, kb)["pembrolizumab"].strength == "preferred"


def test_pole_after_a_checkpoint_inhibitor_or_at_ecog_3_brings_nothing(make_case: Make, kb: KnowledgeBase) -> None:
    after = {"systemic_lines": [FOLFOX_BEV, {"agents": ["pembrolizumab"], "stopped_for": "progression"}]}
    assert _status(make_case(biomarkers=POLE_TMB, prior=after), kb, POLE) == "not_applicable"
    assert _status(make_case(biomarkers=POLE_TMB, ecog=3), kb, POLE) == "not_applicable"
    assert _status(make_case(biomarkers=POLE_TMB, ecog=2), kb, POLE) == "offered"


def test_pole_discussion_is_kept_from_transplant_recipients(make_case: Make, kb: KnowledgeBase) -> None:
    transplant = make_case(biomarkers=POLE_TMB, health={"organ_transplant": True})
    excluded = {e.id: e for e in recommend(transplant, kb, what_if=False).excluded}
    assert excluded[POLE].rules == ("pole-anti-pd1-transplant-recipient",)
    no_transplant = make_case(biomarkers=POLE_TMB, health={"organ_transplant": False})
    assert _status(no_transplant, kb, POLE) == "offered"


def test_pole_discussion_does_not_offer_a_checkpoint_drug_in_mss(make_case: Make, kb: KnowledgeBase) -> None:
    """The dMMR gate still keeps every checkpoint-inhibitor drug row out of a pMMR tumour."""
    offered = _offered(make_case(biomarkers=POLE_TMB, prior=THIRD_LINE), kb)
    assert not {"pembrolizumab", "nivolumab", "nivolumab-ipilimumab", "dostarlimab"} & set(offered)


# --- finding 6: trastuzumab deruxtecan at second line ------------------------------------------------------------
def test_tdxd_is_not_offered_at_second_line_while_a_chemotherapy_alternative_remains(
    make_case: Make, kb: KnowledgeBase
) -> None:
    """z04: HER2 IHC 3+, RAS wild-type, after FOLFOX-bevacizumab; and the RAS-mutant second line."""
    her2 = {"her2": "positive"}
    wild = make_case(biomarkers=her2, prior={"systemic_lines": [FOLFOX_BEV]})
    assert _status(wild, kb, TDXD) == "not_applicable"
    assert "folfiri-bevacizumab" in _offered(wild, kb)
    mutant = make_case(biomarkers={**her2, **KRAS_G12V}, prior={"systemic_lines": [FOLFOX_BEV]})
    assert _status(mutant, kb, TDXD) == "not_applicable"


def test_tdxd_is_offered_at_second_line_after_a_triplet(make_case: Make, kb: KnowledgeBase) -> None:
    after_triplet = {"systemic_lines": [FOLFOXIRI_BEV]}
    wild = _offered(make_case(biomarkers={"her2": "positive"}, prior=after_triplet), kb)[TDXD]
    assert (wild.phase, wild.strength) == ("second_line", "consider")
    assert "no satisfactory alternative" in wild.rationale[0]
    mutant = _offered(make_case(biomarkers={"her2": "positive", **KRAS_G12V}, prior=after_triplet), kb)[TDXD]
    assert (mutant.phase, mutant.strength) == ("second_line", "alternative")


def test_tdxd_later_line_rows_are_unchanged(make_case: Make, kb: KnowledgeBase) -> None:
    offered = _offered(make_case(biomarkers={"her2": "positive"}, prior=THIRD_LINE), kb)
    assert offered[TDXD].strength == "consider" and offered[TDXD].phase == "later_line"


def test_tdxd_regulatory_text_keeps_the_label_clause(make_case: Make, kb: KnowledgeBase) -> None:
    option = _offered(make_case(biomarkers={"her2": "positive"}, prior=THIRD_LINE), kb)[TDXD]
    assert option.regulatory is not None and "no satisfactory alternative treatment options" in option.regulatory
