"""Seed rules S-11..S-53 as encoded by the systemic options (options/10_..40_*.yaml).

Each test builds a case that triggers the rule and one that must not, from the fully characterised
BASE_CASE of conftest (fit, untreated, RAS/BRAF wild-type, pMMR, HER2-negative, unresectable liver-only
metastases), and checks the option's status, strength, phase or exclusion reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rectoplan.core.case import Case
from rectoplan.core.engine import OptionOutcome, assess, recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Exclusion, OptionResult, Recommendation

Make = Callable[..., Case]


def line(*agents: str, stopped_for: str = "progression") -> dict[str, Any]:
    return {"agents": list(agents), "stopped_for": stopped_for}


FOLFOX = ("fluorouracil", "leucovorin", "oxaliplatin")
FOLFIRI = ("fluorouracil", "leucovorin", "irinotecan")
FOLFOX_BEV = line(*FOLFOX, "bevacizumab")
FOLFIRI_BEV = line(*FOLFIRI, "bevacizumab")
REFRACTORY = {"prior": {"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV]}}
RAS_MUTANT = {"kras": "mutant", "kras_variant": "G12D"}


def run(make_case: Make, kb: KnowledgeBase, **changes: Any) -> Recommendation:
    return recommend(make_case(**changes), kb, what_if=False)


def offered(rec: Recommendation) -> dict[str, OptionResult]:
    return {o.id: o for o in rec.options}


def listed(rec: Recommendation) -> dict[str, Exclusion]:
    return {e.id: e for e in rec.excluded}


def outcome(make_case: Make, kb: KnowledgeBase, option_id: str, **changes: Any) -> OptionOutcome:
    found = [o for o in assess(make_case(**changes), kb).outcomes if o.option.id == option_id]
    assert len(found) == 1, option_id
    return found[0]


def systemic(rec: Recommendation) -> list[OptionResult]:
    return [o for o in rec.options if o.kind == "systemic"]


def has_class(kb: KnowledgeBase, option: OptionResult, drug_class: str) -> bool:
    return any(drug_class in kb.drug_classes.get(c, ()) for c in option.components)


# --- 1.2 chemotherapy ----------------------------------------------------------------------------------
def test_s11_chemotherapy_is_usually_offered_unless_performance_status_is_poor(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = run(make_case, kb)
    assert any(has_class(kb, o, "chemotherapy") for o in systemic(rec))
    poor = run(make_case, kb, ecog=3)
    assert not systemic(poor)
    assert "poor-performance-status" in listed(poor)["folfox"].rules


def test_s12_unresectable_disease_gets_systemic_therapy_as_primary_treatment(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = run(make_case, kb)
    assert rec.intent == "palliative"
    assert has_class(kb, systemic(rec)[0], "chemotherapy") and systemic(rec)[0].phase == "first_line"
    resectable = run(make_case, kb, metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}])
    assert systemic(resectable)[0].phase == "perioperative"


def test_s13_potentially_resectable_disease_gets_the_most_active_regimens(make_case: Make, kb: KnowledgeBase) -> None:
    conversion = run(
        make_case, kb, metastases=[{"site": "liver", "count": 4, "resectability": "potentially_resectable"}]
    )
    triplet = offered(conversion)["folfoxiri-bevacizumab"]
    assert triplet.setting == "folfoxiri-bevacizumab-conversion"
    assert triplet.rank < offered(conversion)["folfox-bevacizumab"].rank  # ahead of doublet + bevacizumab
    palliative = offered(run(make_case, kb))["folfoxiri-bevacizumab"]
    assert palliative.setting == "folfoxiri-bevacizumab-first-line"
    assert palliative.rank > offered(run(make_case, kb))["folfox-bevacizumab"].rank


def test_s14_resectable_disease_gets_perioperative_chemotherapy(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}])
    for option_id in ("folfox", "capox"):
        assert (offered(rec)[option_id].phase, offered(rec)[option_id].strength) == (
            "perioperative",
            "preferred",
        )
    unresectable = offered(run(make_case, kb))["folfox"]
    assert unresectable.phase == "first_line"


def test_s15_s16_duration_follows_resectability(make_case: Make, kb: KnowledgeBase) -> None:
    curative = offered(run(make_case, kb, metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}]))
    assert any("6 months in total" in n for n in curative["folfox"].notes)
    assert not any("as long as the cancer responds" in n for n in curative["folfox"].notes)
    palliative = offered(run(make_case, kb))
    assert any("as long as the cancer responds" in n for n in palliative["folfox"].notes)
    assert not any("6 months in total" in n for n in palliative["folfox"].notes)


def test_s17_overall_health_steers_the_first_line_regimen(make_case: Make, kb: KnowledgeBase) -> None:
    for frail in ({"ecog": 2}, {"health": {"fit_for_intensive_therapy": False}}):
        rec = offered(run(make_case, kb, **frail))
        assert rec["capecitabine-bevacizumab"].strength == "preferred"
        assert rec["folfox-panitumumab"].strength == "consider"
        assert rec["capecitabine-bevacizumab"].rank < rec["folfox-panitumumab"].rank
    fit = offered(run(make_case, kb))
    assert fit["capecitabine-bevacizumab"].strength == "consider"
    assert fit["folfox-panitumumab"].strength == "preferred"


REGIMENS: list[tuple[str, str, dict[str, Any], tuple[str, str], dict[str, Any], str | None]] = [
    # rule, option, triggering case, (strength, phase), contrary case, exclusion rule (None: not offered)
    (
        "S-18",
        "folfiri",
        {},
        ("alternative", "first_line"),
        {"prior": {"systemic_lines": [line(*FOLFIRI)]}},
        "no-repeat-after-progression",
    ),
    (
        "S-19",
        "folfox",
        {},
        ("alternative", "first_line"),
        {"prior": {"systemic_lines": [line(*FOLFOX)]}},
        "no-repeat-after-progression",
    ),
    (
        "S-20",
        "capox",
        {},
        ("alternative", "first_line"),
        {"health": {"dpyd": "poor"}},
        "fluoropyrimidine-dpyd-poor",
    ),
    (
        "S-21",
        "capiri",
        {},
        ("consider", "first_line"),
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable"}]},
        None,
    ),
    (
        "S-22",
        "capecitabine",
        {"ecog": 2},
        ("alternative", "first_line"),
        {"metastases": [{"site": "liver", "count": 1, "resectability": "resectable"}]},
        None,
    ),
    (
        "S-23",
        "irinotecan",
        {"prior": {"systemic_lines": [FOLFOX_BEV]}},
        ("consider", "second_line"),
        {},
        None,
    ),
    (
        "S-24",
        "fluorouracil-leucovorin",
        {"ecog": 2},
        ("alternative", "first_line"),
        {"ecog": 2, "health": {"dpyd": "poor"}},
        "fluoropyrimidine-dpyd-poor",
    ),
    ("S-25", "raltitrexed", {"health": {"dpyd": "poor"}}, ("alternative", "any"), {}, None),
    ("S-26", "trifluridine-tipiracil", REFRACTORY, ("alternative", "later_line"), {}, None),
]


@pytest.mark.parametrize(
    ("rule", "option_id", "trigger", "expected", "contrary", "excluded_by"),
    REGIMENS,
    ids=[r[0] for r in REGIMENS],
)
def test_s18_s26_each_seed_regimen_has_its_situation(
    make_case: Make,
    kb: KnowledgeBase,
    rule: str,
    option_id: str,
    trigger: dict[str, Any],
    expected: tuple[str, str],
    contrary: dict[str, Any],
    excluded_by: str | None,
) -> None:
    option = offered(run(make_case, kb, **trigger))[option_id]
    assert (option.strength, option.phase) == expected
    assert any(s.ref.endswith(".txt") for s in option.sources), "each seed regimen cites seed A"
    rec = run(make_case, kb, **contrary)
    assert option_id not in offered(rec)
    if excluded_by is None:
        assert option_id not in listed(rec)
    else:
        assert excluded_by in listed(rec)[option_id].rules


def test_s27_s40_folfiri_bevacizumab_leads_when_anti_egfr_does_not_fit(make_case: Make, kb: KnowledgeBase) -> None:
    mutant = run(make_case, kb, biomarkers=RAS_MUTANT)
    assert systemic(mutant)[0].id == "folfiri-bevacizumab"
    assert offered(mutant)["folfox-bevacizumab"].strength == "preferred"  # current practice: equivalent backbones
    wild = offered(run(make_case, kb))
    assert wild["folfiri-bevacizumab"].strength == "alternative"  # RAS wild-type rectal: anti-EGFR first (C-62)
    assert wild["folfiri"].strength == wild["folfox"].strength == "alternative"


def test_s28_progression_or_toxicity_on_folfiri_switches_the_backbone(make_case: Make, kb: KnowledgeBase) -> None:
    for stopped in ("progression", "intolerance"):
        rec = run(make_case, kb, prior={"systemic_lines": [line(*FOLFIRI, "bevacizumab", stopped_for=stopped)]})
        switched = offered(rec)["folfox-bevacizumab"]
        assert (switched.strength, switched.phase) == ("preferred", "second_line")
        assert "folfiri-bevacizumab" not in offered(rec)
    progressed = run(make_case, kb, prior={"systemic_lines": [FOLFIRI_BEV]})
    assert "no-repeat-after-progression" in listed(progressed)["folfiri"].rules
    after_folfox = run(make_case, kb, prior={"systemic_lines": [FOLFOX_BEV]})
    assert "folfox-bevacizumab" not in offered(after_folfox)


def test_s29_s30_hepatic_arterial_infusion_for_liver_only_unresectable_disease(
    make_case: Make, kb: KnowledgeBase
) -> None:
    hai = offered(run(make_case, kb))["hai-floxuridine"]
    assert hai.strength == "consider" and "floxuridine" in hai.components
    assert "specialised_centre" in next(o for o in kb.options if o.id == "hai-floxuridine").tags
    lung_too = [
        {"site": "liver", "count": 5, "resectability": "unresectable"},
        {"site": "lung", "count": 2, "resectability": "unresectable"},
    ]
    assert "hai-floxuridine" not in offered(run(make_case, kb, metastases=lung_too))
    resectable = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    assert "hai-floxuridine" not in offered(run(make_case, kb, metastases=resectable))
    pelvic = run(make_case, kb, primary={"status": "resected"}, local_recurrence={"resectability": "unresectable"})
    assert "hai-floxuridine" not in offered(pelvic)


# --- 1.3 targeted therapy and precision medicine ----------------------------------------------------------
def test_s33_without_treatable_biomarkers_chemotherapy_is_the_treatment(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers=RAS_MUTANT)
    precision = {
        "braf_inhibitor",
        "kras_g12c_inhibitor",
        "her2_targeted",
        "trk_inhibitor",
        "ret_inhibitor",
        "checkpoint_inhibitor",
        "anti_egfr",
    }
    assert not [o.id for o in systemic(rec) if any(has_class(kb, o, c) for c in precision)]
    assert has_class(kb, systemic(rec)[0], "chemotherapy")
    dmmr = run(make_case, kb, biomarkers={**RAS_MUTANT, "mmr": "dmmr_msi_h"})
    assert has_class(kb, systemic(dmmr)[0], "checkpoint_inhibitor")


def test_s34_targeted_therapy_is_usually_added_to_chemotherapy_and_may_be_used_alone(
    make_case: Make, kb: KnowledgeBase
) -> None:
    first = systemic(run(make_case, kb))
    preferred = [o for o in first if o.strength == "preferred"]
    assert preferred and all(has_class(kb, o, "chemotherapy") and has_class(kb, o, "targeted") for o in preferred)
    refractory = offered(run(make_case, kb, **REFRACTORY))
    assert refractory["panitumumab"].components == ("panitumumab",)
    assert "panitumumab" not in offered(run(make_case, kb))


def test_s35_s44_ras_status_chooses_the_biologic(make_case: Make, kb: KnowledgeBase) -> None:
    wild = run(make_case, kb)
    assert systemic(wild)[0].id == "folfox-panitumumab" and systemic(wild)[0].strength == "preferred"
    mutant = run(make_case, kb, biomarkers={"nras": "mutant"})
    assert "anti-egfr-ras-wild-type" in listed(mutant)["folfox-panitumumab"].rules
    assert has_class(kb, systemic(mutant)[0], "anti_vegf")


def test_s36_bevacizumab_goes_with_folfiri_or_folfox(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers=RAS_MUTANT))
    assert rec["folfiri-bevacizumab"].strength == rec["folfox-bevacizumab"].strength == "preferred"
    recent = run(make_case, kb, biomarkers=RAS_MUTANT, health={"days_since_major_surgery": 7})
    assert "anti-vegf-recent-surgery" in listed(recent)["folfox-bevacizumab"].rules


def test_s37_cetuximab_with_irinotecan_for_ras_wild_type(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, prior={"systemic_lines": [FOLFOX_BEV]}))
    assert (rec["irinotecan-cetuximab"].strength, rec["irinotecan-cetuximab"].phase) == (
        "alternative",
        "second_line",
    )
    mutant = run(make_case, kb, biomarkers=RAS_MUTANT, prior={"systemic_lines": [FOLFOX_BEV]})
    assert "anti-egfr-ras-wild-type" in listed(mutant)["irinotecan-cetuximab"].rules
    after_egfr = run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX, "panitumumab")]})
    assert "irinotecan-cetuximab" not in offered(after_egfr)


def test_s38_panitumumab_alone_only_in_refractory_disease(make_case: Make, kb: KnowledgeBase) -> None:
    # RAS/BRAF wild-type and never an anti-EGFR antibody: panitumumab leads the refractory agents
    option = offered(run(make_case, kb, **REFRACTORY))["panitumumab"]
    assert (option.strength, option.phase, option.setting) == (
        "preferred",
        "later_line",
        "panitumumab-refractory-egfr-naive",
    )
    assert outcome(make_case, kb, "panitumumab").status == "not_applicable"  # never alone in first line


def test_s39_regorafenib_after_most_other_treatments(make_case: Make, kb: KnowledgeBase) -> None:
    option = offered(run(make_case, kb, biomarkers=RAS_MUTANT, **REFRACTORY))["regorafenib"]
    assert (option.strength, option.phase) == ("preferred", "later_line")
    before_anti_egfr = offered(run(make_case, kb, **REFRACTORY))["regorafenib"]  # label: anti-EGFR first
    assert (before_anti_egfr.strength, before_anti_egfr.setting) == ("alternative", "regorafenib-before-anti-egfr")
    assert outcome(make_case, kb, "regorafenib").status == "not_applicable"
    assert outcome(make_case, kb, "regorafenib", prior={"systemic_lines": [FOLFOX_BEV]}).status == "not_applicable"


def test_s41_no_targeted_drug_before_curative_surgery(make_case: Make, kb: KnowledgeBase) -> None:
    curative = run(make_case, kb, metastases=[{"site": "liver", "count": 2, "resectability": "resectable"}])
    for option_id in ("folfox-bevacizumab", "folfoxiri-bevacizumab"):
        assert "targeted-not-before-curative-surgery" in listed(curative)[option_id].rules
    # the anti-EGFR exclusion gives its own reason (New EPOC), not bevacizumab's
    assert "anti-egfr-not-around-curative-surgery" in listed(curative)["folfox-panitumumab"].rules
    assert "cetuximab" not in " ".join(listed(curative)["folfox-bevacizumab"].reasons)
    assert not [o.id for o in systemic(curative) if has_class(kb, o, "targeted")]
    conversion = run(
        make_case, kb, metastases=[{"site": "liver", "count": 4, "resectability": "potentially_resectable"}]
    )
    assert "folfox-panitumumab" in offered(conversion) and "folfox-bevacizumab" in offered(conversion)


def test_s42_unknown_markers_hold_the_drugs_that_need_them(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"kras": None})
    assert listed(rec)["folfox-panitumumab"].held and "ras" in {t.test for t in rec.tests_needed}
    assert "folfox-panitumumab" in offered(run(make_case, kb))


def test_s45_braf_v600e_combination_after_prior_therapy(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"braf": "v600e"}, prior={"systemic_lines": [FOLFOX_BEV]})
    assert systemic(rec)[0].id == "encorafenib-cetuximab" and systemic(rec)[0].strength == "preferred"
    assert offered(rec)["folfiri-bevacizumab"].strength == "alternative"
    wild = assess(make_case(prior={"systemic_lines": [FOLFOX_BEV]}), kb)
    assert next(o for o in wild.outcomes if o.option.id == "encorafenib-cetuximab").status == "not_indicated"


def test_s46_braf_v600e_first_line_is_now_encorafenib_cetuximab_mfolfox6(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"braf": "v600e"})
    assert systemic(rec)[0].id == "encorafenib-cetuximab-mfolfox6"
    assert "encorafenib-cetuximab" not in offered(rec)  # the doublet is for previously treated disease
    later = run(make_case, kb, biomarkers={"braf": "v600e"}, prior={"systemic_lines": [FOLFIRI_BEV]})
    assert "encorafenib-cetuximab-mfolfox6" not in offered(later)


def test_s47_msi_h_gets_checkpoint_inhibitors_first(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"})
    top = [o.id for o in systemic(rec)[:2]]
    assert sorted(top) == ["nivolumab-ipilimumab", "pembrolizumab"]
    assert all(o.strength != "preferred" for o in systemic(rec) if has_class(kb, o, "chemotherapy"))
    pmmr = assess(make_case(), kb)
    assert {o.status for o in pmmr.outcomes if o.option.id == "pembrolizumab"} == {"not_indicated"}


def test_s49_s50_her2_positive_is_a_relative_reason_against_anti_egfr(make_case: Make, kb: KnowledgeBase) -> None:
    """Seed B's "should be avoided" is encoded as relative (brief C-23): offered, never preferred, warned."""
    positive = run(make_case, kb, biomarkers={"her2": "positive"})
    anti_egfr = offered(positive)["folfox-panitumumab"]
    assert anti_egfr.strength == "alternative" and anti_egfr.setting == "folfox-panitumumab-first-line-her2-positive"
    assert any("relative" in w for w in anti_egfr.warnings)
    assert offered(positive)["folfox-bevacizumab"].strength == "preferred"
    unknown = run(make_case, kb, biomarkers={"her2": None})
    assert offered(unknown)["folfox-panitumumab"].strength == "preferred"
    assert "her2" in {t.test for t in unknown.tests_needed}


def test_s51_her2_directed_combinations_after_chemotherapy(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers={"her2": "positive"}, **REFRACTORY))
    assert rec["tucatinib-trastuzumab"].strength == "preferred"
    assert rec["trastuzumab-lapatinib"].strength == rec["trastuzumab-pertuzumab"].strength == "alternative"
    assert rec["tucatinib-trastuzumab"].rank < rec["trifluridine-tipiracil-bevacizumab"].rank
    negative = offered(run(make_case, kb, **REFRACTORY))
    assert not {"tucatinib-trastuzumab", "trastuzumab-lapatinib", "trastuzumab-pertuzumab"} & set(negative)
    mutant = run(make_case, kb, biomarkers={"her2": "positive", **RAS_MUTANT}, **REFRACTORY)
    assert "tucatinib-trastuzumab-ras-wild-type" in listed(mutant)["tucatinib-trastuzumab"].rules


def test_s52_ntrk_fusion_gets_a_trk_inhibitor(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers={"ntrk_fusion": "positive"}, **REFRACTORY))
    assert rec["larotrectinib"].strength == rec["entrectinib"].strength == "preferred"
    assert rec["larotrectinib"].rank < rec["trifluridine-tipiracil-bevacizumab"].rank
    assert not {"larotrectinib", "entrectinib"} & set(offered(run(make_case, kb, **REFRACTORY)))
