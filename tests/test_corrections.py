"""The clinical review's corrections (issue 12, section 3), each with a case that triggers it and one that
must not. Every test here failed on the knowledge base before its correction.

Cases are built from conftest's BASE_CASE: fit, untreated, RAS/BRAF wild-type, pMMR, HER2-negative,
unresectable liver-only metastases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation

Make = Callable[..., Case]
FOLFOX = ["fluorouracil", "leucovorin", "oxaliplatin"]
FOLFIRI = ["fluorouracil", "leucovorin", "irinotecan"]


def run(make_case: Make, kb: KnowledgeBase, **changes: Any) -> Recommendation:
    return recommend(make_case(**changes), kb, what_if=False)


def offered(rec: Recommendation) -> dict[str, OptionResult]:
    return {o.id: o for o in rec.options}


def lines(*regimens: list[str]) -> dict[str, Any]:
    return {"systemic_lines": [{"agents": r, "stopped_for": "progression"} for r in regimens]}


# --- dMMR/MSI-H with ECOG 3: immunotherapy stays an option to discuss (brief C-74) ----------------------
def test_ecog_3_dmmr_keeps_checkpoint_inhibitors_to_consider(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, ecog=3, biomarkers={"mmr": "dmmr_msi_h"})
    options = offered(rec)
    assert options["pembrolizumab"].strength == options["nivolumab-ipilimumab"].strength == "consider"
    assert "not established" in options["pembrolizumab"].rationale[0]
    assert options["best-supportive-care"].strength == "preferred"
    assert "folfox" not in options and "folfox-bevacizumab" not in options  # chemotherapy stays excluded


def test_ecog_3_pmmr_offers_no_checkpoint_inhibitor(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, ecog=3))
    assert not {"pembrolizumab", "nivolumab-ipilimumab", "nivolumab"} & set(options)


def test_ecog_1_dmmr_immunotherapy_stays_preferred(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}))
    assert options["pembrolizumab"].strength == "preferred"
    assert options["pembrolizumab"].setting == "pembrolizumab-first-line"


# --- RAS wild-type, third line, never an anti-EGFR antibody: anti-EGFR leads --------------------------
def test_ras_wild_type_third_line_without_anti_egfr_leads_with_anti_egfr(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, prior=lines([*FOLFOX, "bevacizumab"], [*FOLFIRI, "bevacizumab"]))
    options = offered(rec)
    assert rec.options[0].id == "folfiri-panitumumab" and rec.options[0].strength == "preferred"
    assert options["irinotecan-cetuximab"].strength == "preferred"
    for late in ("trifluridine-tipiracil-bevacizumab", "regorafenib", "fruquintinib"):
        assert options[late].strength == "alternative", late
        assert options[late].rank > options["folfiri-panitumumab"].rank


def test_third_line_after_anti_egfr_keeps_refractory_agents_preferred(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, prior=lines([*FOLFOX, "panitumumab"], [*FOLFIRI, "bevacizumab"]))
    options = offered(rec)
    assert rec.options[0].id == "trifluridine-tipiracil-bevacizumab"
    assert options["regorafenib"].strength == options["fruquintinib"].strength == "preferred"


def test_third_line_ras_mutant_keeps_refractory_agents_preferred(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(
        make_case,
        kb,
        biomarkers={"kras": "mutant", "kras_variant": "G12D"},
        prior=lines([*FOLFOX, "bevacizumab"], [*FOLFIRI, "bevacizumab"]),
    )
    assert rec.options[0].id == "trifluridine-tipiracil-bevacizumab"
    assert "folfiri-panitumumab" not in offered(rec)


# --- notes on treatment duration by regimen class ---------------------------------------------------------
MAINTENANCE = "maintenance with a fluoropyrimidine plus the biologic is standard"


def test_maintenance_note_only_on_induction_regimens(make_case: Make, kb: KnowledgeBase) -> None:
    msi = offered(run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}))
    assert not any(MAINTENANCE in n for n in msi["pembrolizumab"].notes)
    assert any("up to about 2 years" in n for n in msi["pembrolizumab"].notes)
    assert any("up to about 2 years" in n for n in msi["nivolumab-ipilimumab"].notes)
    refractory = offered(run(make_case, kb, prior=lines([*FOLFOX, "panitumumab"], [*FOLFIRI, "bevacizumab"])))
    assert not any(MAINTENANCE in n for n in refractory["regorafenib"].notes)
    assert any("until progression" in n for n in refractory["regorafenib"].notes)


def test_maintenance_note_stays_on_first_line_doublets(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb))
    assert any(MAINTENANCE in n for n in options["folfox-panitumumab"].notes)
    assert not any("up to about 2 years" in n for n in options["folfox-panitumumab"].notes)


# --- HER2: a relative reason against anti-EGFR; HER2 unknown does not hold it back (brief C-23) --------
def test_her2_unknown_does_not_hold_anti_egfr_back(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"her2": None})
    options = offered(rec)
    assert options["folfox-panitumumab"].strength == "preferred"
    assert options["folfox-bevacizumab"].strength == "alternative"
    assert any("HER2 status is not known" in w for w in options["folfox-panitumumab"].warnings)
    assert "folfox-panitumumab" not in {e.id for e in rec.excluded}


def test_her2_positive_offers_anti_egfr_only_as_alternative(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, biomarkers={"her2": "positive"}))
    assert options["folfox-panitumumab"].strength == "alternative"
    assert options["folfox-bevacizumab"].strength == "preferred"


def test_her2_negative_unchanged(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb))
    assert options["folfox-panitumumab"].strength == "preferred"
    assert not any("HER2" in w for w in options["folfox-panitumumab"].warnings)


# --- ECOG 2: regorafenib and fruquintinib are not preferred; the ReDOS schedule is offered -----------------
def test_ecog_2_refractory_regorafenib_and_fruquintinib_only_considered(make_case: Make, kb: KnowledgeBase) -> None:
    history = lines([*FOLFOX, "panitumumab"], [*FOLFIRI, "bevacizumab"])
    options = offered(run(make_case, kb, ecog=2, prior=history))
    assert options["regorafenib"].strength == options["fruquintinib"].strength == "consider"
    assert "80 mg a day, raised by 40 mg each week to 160 mg" in options["regorafenib"].rationale[0]
    assert {"redos", "correct"} <= {s["id"] for s in options["regorafenib"].to_dict()["sources"]}


def test_ecog_1_refractory_regorafenib_stays_preferred(make_case: Make, kb: KnowledgeBase) -> None:
    history = lines([*FOLFOX, "panitumumab"], [*FOLFIRI, "bevacizumab"])
    options = offered(run(make_case, kb, prior=history))
    assert options["regorafenib"].strength == options["fruquintinib"].strength == "preferred"


# --- earlier pelvic radiation: no standard-dose chemoradiation; hyperfractionated re-irradiation only ----
RECURRENCE = {"primary": {"status": "resected"}, "metastases": [], "local_recurrence": {"resectability": "resectable"}}


def test_prior_pelvic_radiation_excludes_standard_chemoradiation(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, prior={"pelvic_radiation": True}, **RECURRENCE)
    excluded = {e.id: e for e in rec.excluded}
    assert {"chemoradiation-capecitabine", "chemoradiation-fluorouracil"} <= set(excluded)
    assert "hyperfractionated" in excluded["chemoradiation-capecitabine"].reasons[0]
    reirradiation = offered(rec)["reirradiation-pelvis"]
    assert "hyperfractionated" in reirradiation.rationale[0] and "expert centre" in reirradiation.rationale[0]


def test_no_prior_pelvic_radiation_keeps_standard_chemoradiation(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, prior={"pelvic_radiation": False}, **RECURRENCE)
    assert offered(rec)["chemoradiation-capecitabine"].strength == "preferred"
    assert "reirradiation-pelvis" not in offered(rec)


# --- figures: T-DXd dose and lung warning, TRANSMET by intention to treat, the seed's "double survival" -----
def test_trastuzumab_deruxtecan_at_5_4_mg_kg_with_lung_warning(make_case: Make, kb: KnowledgeBase) -> None:
    option = kb.option("trastuzumab-deruxtecan")
    assert "5.4 mg/kg" in option.details and "6.4 mg/kg" not in option.details.split("against")[0]
    rec = run(
        make_case,
        kb,
        biomarkers={"her2": "positive"},
        prior=lines([*FOLFOX, "bevacizumab"], [*FOLFIRI, "bevacizumab"], ["tucatinib", "trastuzumab"]),
    )
    tdxd = offered(rec)["trastuzumab-deruxtecan"]
    assert any("interstitial lung disease" in w for w in tdxd.warnings)
    assert not any("interstitial lung disease" in w for o in rec.options if o.id != tdxd.id for w in o.warnings)


def test_transmet_survival_is_given_by_intention_to_treat(kb: KnowledgeBase) -> None:
    option = kb.option("liver-transplantation")
    assert "57% versus 13%" in option.details and "intention to treat" in option.details
    assert all("73%" not in s.because or "intention" in s.because for s in option.settings)


def test_double_survival_quote_no_longer_backs_beacon(kb: KnowledgeBase) -> None:
    cites = [c for s in kb.option("encorafenib-cetuximab").settings for c in s.base_cite]
    assert not any("double survival" in c.quote for c in cites)
    assert any(c.source == "beacon" for c in cites)


# --- MSI-H with BRAF V600E: sporadic, not Lynch syndrome ------------------------------------------------
def test_msi_h_with_braf_v600e_is_not_referred_as_lynch(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": "v600e"})
    text = " ".join(rec.warnings)
    assert "sporadic" in text and "refer for genetic counselling and germline testing" not in text


def test_msi_h_with_braf_wild_type_is_referred_for_lynch(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"})
    assert any("refer for genetic counselling and germline testing" in w for w in rec.warnings)
    unknown = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h", "braf": None})
    assert any("test BRAF V600E (or MLH1 promoter methylation)" in w for w in unknown.warnings)


# --- nivolumab alone is not a first-line option; peritoneal disease: cytoreduction, HIPEC optional -------
def test_nivolumab_alone_not_offered_first_line(make_case: Make, kb: KnowledgeBase) -> None:
    assert "nivolumab" not in offered(run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}))
    later = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}, prior=lines([*FOLFOX, "bevacizumab"]))
    assert "nivolumab" in offered(later)


def test_peritoneal_disease_gets_cytoreduction_not_a_hipec_package(make_case: Make, kb: KnowledgeBase) -> None:
    peritoneum = [{"site": "peritoneum", "count": 3, "resectability": "resectable"}]
    crs = offered(run(make_case, kb, primary={"status": "resected"}, metastases=peritoneum))["crs-hipec"]
    assert crs.components == ("cytoreductive_surgery",) and "with or without HIPEC" in crs.title
    assert "PRODIGE 7" in crs.rationale[0]
    assert "prodige-7" in {s["id"] for s in crs.to_dict()["sources"]}
    liver = offered(run(make_case, kb, metastases=[{"site": "liver", "count": 1, "resectability": "resectable"}]))
    assert "crs-hipec" not in liver


# --- DPYD poor metaboliser: fluoropyrimidine-free options, raltitrexed with its availability -------------
def test_dpyd_poor_offers_fluoropyrimidine_free_options(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, health={"dpyd": "poor"})
    options = offered(rec)
    assert {"irinotecan-cetuximab", "raltitrexed", "irinotecan"} <= set(options)
    assert "availability differs by country" in options["raltitrexed"].rationale[0]
    fluoro = {d for d, v in kb.vocabulary.drugs.items() if "fluoropyrimidine" in v.classes} - {"floxuridine"}
    assert not [o.id for o in rec.options if fluoro & set(o.components)]
    assert any("safety with DPD deficiency is not established" in w for w in options["hai-floxuridine"].warnings)


def test_dpyd_normal_keeps_irinotecan_cetuximab_out_of_first_line(make_case: Make, kb: KnowledgeBase) -> None:
    assert "irinotecan-cetuximab" not in offered(run(make_case, kb))


# --- intent covers the multimodal path: isolated local recurrence made resectable by chemoradiation ------
def test_isolated_recurrence_downstaged_by_chemoradiation_is_curative(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(
        make_case,
        kb,
        primary={"status": "resected"},
        metastases=[],
        local_recurrence={"resectability": "potentially_resectable"},
    )
    assert rec.intent == "curative" and rec.intent_rule == "intent-curative-local-recurrence"
    options = offered(rec)
    assert options["pelvic-exenteration"].setting == "pelvic-exenteration-after-downstaging"
    assert options["chemoradiation-capecitabine"].rank < options["pelvic-exenteration"].rank


def test_recurrence_with_distant_metastases_stays_conversion(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(
        make_case,
        kb,
        primary={"status": "resected"},
        metastases=[{"site": "liver", "count": 2, "resectability": "potentially_resectable"}],
        local_recurrence={"resectability": "potentially_resectable"},
    )
    assert rec.intent == "conversion"
    assert "pelvic-exenteration" not in offered(rec)


# --- lesion count limits for ablation (COLLISION: up to 10) and liver SBRT (1-3 lesions) ---------------
def liver(count: int | None, largest_mm: int | None = 20) -> list[dict[str, Any]]:
    lesion: dict[str, Any] = {"site": "liver", "resectability": "unresectable"}
    if largest_mm is not None:
        lesion["largest_mm"] = largest_mm
    return [lesion if count is None else {**lesion, "count": count}]


def test_many_liver_lesions_exclude_ablation_and_sbrt(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, metastases=liver(20))
    excluded = {e.id: e for e in rec.excluded if not e.held}
    assert {"radiofrequency-ablation", "microwave-ablation", "cryotherapy", "sbrt-liver"} <= set(excluded)
    eight = run(make_case, kb, metastases=liver(8))
    assert "radiofrequency-ablation" in offered(eight) and "sbrt-liver" not in offered(eight)


def test_few_liver_lesions_keep_ablation_and_sbrt(make_case: Make, kb: KnowledgeBase) -> None:
    options = offered(run(make_case, kb, metastases=liver(2)))
    assert {"radiofrequency-ablation", "sbrt-liver"} <= set(options)
    unknown = run(make_case, kb, metastases=liver(None))
    held = {e.id for e in unknown.excluded if e.held}
    assert {"radiofrequency-ablation", "sbrt-liver"} <= held  # an unknown count is never favourable


def test_large_liver_lesion_excludes_ablation(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, metastases=liver(2, largest_mm=45))
    excluded = {e.id: e for e in rec.excluded if not e.held}
    assert "ablation-lesion-size" in excluded["radiofrequency-ablation"].rules
    assert "sbrt-liver" in offered(rec)  # the size limit is ablation's
    unknown = offered(run(make_case, kb, metastases=liver(2, largest_mm=None)))
    assert any("only for lesions up to 3 cm" in w for w in unknown["radiofrequency-ablation"].warnings)


# --- what would change: facts that decide together, and waiting periods ---------------------------------
def test_ras_and_braf_unknown_are_probed_together(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend(make_case(biomarkers={"kras": None, "nras": None, "braf": None}), kb)
    pair = [c for c in rec.what_would_change if c.fact == "biomarkers.ras_braf"]
    assert pair and "FOLFOX + panitumumab becomes the preferred first-line option" in pair[0].then
    known = recommend(make_case(), kb)
    assert not [c for c in known.what_would_change if c.fact == "biomarkers.ras_braf"]


def test_recent_surgery_shows_when_bevacizumab_can_be_added(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend(make_case(health={"days_since_major_surgery": 10}), kb)
    wait = [c for c in rec.what_would_change if c.fact == "health.days_since_major_surgery"]
    assert wait and wait[0].condition.endswith("= 28 (in 18 days)") and "folfox-bevacizumab" in wait[0].added
    healed = recommend(make_case(health={"days_since_major_surgery": 365}), kb)
    assert not [c for c in healed.what_would_change if c.fact == "health.days_since_major_surgery"]
