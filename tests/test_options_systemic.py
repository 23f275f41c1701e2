"""Current-practice rules (brief C-xx) and the sequencing table (Q-xx) as encoded by the systemic options.

Cases start from conftest's BASE_CASE (fit, untreated, RAS/BRAF wild-type, pMMR, HER2-negative,
unresectable liver-only metastases); each test checks a triggering case and a case that must not trigger.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rectoplan.core.knowledge import KnowledgeBase
from tests.test_rules_systemic import (
    FOLFIRI,
    FOLFIRI_BEV,
    FOLFOX,
    FOLFOX_BEV,
    RAS_MUTANT,
    REFRACTORY,
    Make,
    has_class,
    line,
    listed,
    offered,
    outcome,
    run,
    systemic,
)

OPTION_FILES = ("10_chemotherapy.yaml", "20_biologics.yaml", "30_biomarker_directed.yaml", "40_hai.yaml")
G12C = {"kras": "mutant", "kras_variant": "G12C"}


def test_c112_no_anti_egfr_antibody_with_capecitabine(kb: KnowledgeBase) -> None:
    for option in kb.options:
        classes = {c for d in option.components for c in kb.drug_classes.get(d, ())}
        assert not ("anti_egfr" in classes and "capecitabine" in option.components), option.id


def test_every_systemic_option_file_entry_is_loaded_with_stable_setting_ids(kb: KnowledgeBase) -> None:
    folder = Path(__file__).resolve().parents[1] / "src" / "rectoplan" / "knowledge" / "options"
    by_id = {o.id: o for o in kb.options}
    for name in OPTION_FILES:
        for entry in yaml.safe_load((folder / name).read_text(encoding="utf-8")):
            option = by_id[entry["id"]]
            assert all(not s.id.startswith(f"{option.id}#") for s in option.settings), option.id
            assert option.cite and all(s.cite for s in option.settings), option.id


def test_q01_c62_ras_wild_type_rectal_first_line_prefers_anti_egfr_over_bevacizumab(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = offered(run(make_case, kb))
    for egfr in ("folfox-panitumumab", "folfox-cetuximab", "folfiri-panitumumab", "folfiri-cetuximab"):
        assert rec[egfr].strength == "preferred"
        assert rec[egfr].rank < rec["folfox-bevacizumab"].rank
    assert rec["folfox-bevacizumab"].strength == "alternative"
    braf_other = offered(run(make_case, kb, biomarkers={"braf": "other_mutation"}))
    assert braf_other["folfox-panitumumab"].strength == "preferred"  # only V600E rules anti-EGFR out (C-21)


def test_q10_ras_mutant_first_line_never_gets_anti_egfr(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, biomarkers=RAS_MUTANT)
    assert not [o.id for o in rec.options if has_class(kb, o, "anti_egfr")]
    assert {o.id for o in systemic(rec)[:3]} == {
        "folfiri-bevacizumab",
        "folfox-bevacizumab",
        "capox-bevacizumab",
    }


@pytest.mark.parametrize(
    ("age", "ecog", "fit", "status", "rule"),
    [
        (65, 1, True, "offered", None),
        (70, 0, True, "offered", None),
        (73, 0, True, "offered", None),
        (65, 2, True, "excluded", "folfoxiri-ecog-2"),
        (73, 1, True, "excluded", "folfoxiri-age"),
        (76, 0, True, "excluded", "folfoxiri-age"),
        (65, 1, False, "excluded", "folfoxiri-unfit"),
        (None, 0, True, "held", "folfoxiri-age"),
        (65, None, True, "held", "folfoxiri-ecog-2"),
    ],
)
def test_c63_c74_folfoxiri_follows_tribe_eligibility_and_avoids_ecog_2(
    make_case: Make,
    kb: KnowledgeBase,
    age: int | None,
    ecog: int | None,
    fit: bool,
    status: str,
    rule: str | None,
) -> None:
    result = outcome(
        make_case, kb, "folfoxiri-bevacizumab", age=age, ecog=ecog, health={"fit_for_intensive_therapy": fit}
    )
    assert result.status == status
    if rule is not None:
        assert rule in {g.id for g in (*result.blocking, *result.holding)}


def test_c65_frail_patients_get_a_fluoropyrimidine_with_bevacizumab(make_case: Make, kb: KnowledgeBase) -> None:
    frail = run(make_case, kb, health={"fit_for_intensive_therapy": False}, biomarkers=RAS_MUTANT)
    assert [o.id for o in systemic(frail)[:2]] == [
        "capecitabine-bevacizumab",
        "fluorouracil-leucovorin-bevacizumab",
    ]
    assert "folfoxiri-bevacizumab" not in offered(frail)


def test_q03_c68_second_line_switches_backbone_and_keeps_anti_vegf(make_case: Make, kb: KnowledgeBase) -> None:
    after_ox = offered(run(make_case, kb, prior={"systemic_lines": [FOLFOX_BEV]}))
    assert {o for o, r in after_ox.items() if r.strength == "preferred" and r.kind == "systemic"} == {
        "folfiri-bevacizumab",
        "folfiri-ramucirumab",
        "folfiri-aflibercept",
    }
    assert after_ox["folfiri-cetuximab"].strength == "alternative"  # anti-EGFR not used in first line
    after_iri = offered(run(make_case, kb, prior={"systemic_lines": [FOLFIRI_BEV]}))
    assert after_iri["folfox-bevacizumab"].strength == after_iri["capox-bevacizumab"].strength == "preferred"
    assert not {"folfiri-ramucirumab", "folfiri-aflibercept"} & set(after_iri)
    after_egfr = offered(run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX, "panitumumab")]}))
    assert not [o for o in after_egfr.values() if has_class(kb, o, "anti_egfr")]


def test_c66_ramucirumab_is_preferred_only_after_first_line_bevacizumab(make_case: Make, kb: KnowledgeBase) -> None:
    after_bev = offered(run(make_case, kb, prior={"systemic_lines": [FOLFOX_BEV]}))["folfiri-ramucirumab"]
    assert (
        after_bev.setting == "folfiri-ramucirumab-second-line-after-bevacizumab" and after_bev.strength == "preferred"
    )
    no_bev = offered(run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX)]}))["folfiri-ramucirumab"]
    assert no_bev.strength == "alternative"
    assert (
        offered(run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX)]}))["folfiri-aflibercept"].strength
        == "preferred"
    )


def test_c80_c82_c83_refractory_disease(make_case: Make, kb: KnowledgeBase) -> None:
    # after an anti-EGFR antibody: the labels' order (RAS wild-type without one: tests/test_corrections.py)
    rec = offered(run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX, "panitumumab"), FOLFIRI_BEV]}))
    for option_id in ("trifluridine-tipiracil-bevacizumab", "regorafenib", "fruquintinib"):
        assert (rec[option_id].strength, rec[option_id].phase) == ("preferred", "later_line")
    assert rec["trifluridine-tipiracil-bevacizumab"].rank < rec["trifluridine-tipiracil"].rank  # C-82
    bleeding = run(
        make_case,
        kb,
        health={"bleeding_risk": True},
        prior={"systemic_lines": [line(*FOLFOX, "panitumumab"), FOLFIRI_BEV]},
    )
    assert "anti-vegf-bleeding" in listed(bleeding)["trifluridine-tipiracil-bevacizumab"].rules
    assert offered(bleeding)["trifluridine-tipiracil"].strength == "alternative"
    first = offered(run(make_case, kb))
    assert not {
        "trifluridine-tipiracil-bevacizumab",
        "regorafenib",
        "fruquintinib",
        "trifluridine-tipiracil",
    } & set(first)


def test_c84_trials_enrolled_ecog_0_1_so_ecog_2_only_considers_trifluridine(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, ecog=2, **REFRACTORY))
    assert rec["trifluridine-tipiracil-bevacizumab"].strength == rec["trifluridine-tipiracil"].strength == "consider"
    assert rec["regorafenib"].strength == rec["fruquintinib"].strength == "consider"  # CORRECT, FRESCO-2


def test_c10_c14_immunotherapy_ranks_ahead_of_every_chemotherapy(make_case: Make, kb: KnowledgeBase) -> None:
    rec = systemic(run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}))
    first_chemo = min(o.rank for o in rec if has_class(kb, o, "chemotherapy"))
    io = [o for o in rec if has_class(kb, o, "checkpoint_inhibitor")]
    assert {o.id for o in io} == {"pembrolizumab", "nivolumab-ipilimumab"}  # nivolumab alone: not first line
    assert all(o.rank < first_chemo for o in io)
    unknown = run(make_case, kb, biomarkers={"mmr": None})
    assert listed(unknown)["pembrolizumab"].held and "mmr" in {t.test for t in unknown.tests_needed}


def test_c11_c12_q41_immunotherapy_after_other_treatment(make_case: Make, kb: KnowledgeBase) -> None:
    naive = offered(run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}, prior={"systemic_lines": [FOLFOX_BEV]}))
    assert naive["nivolumab-ipilimumab"].rank == 1 and naive["nivolumab-ipilimumab"].phase == "second_line"
    assert naive["dostarlimab"].strength == "alternative"
    assert naive["folfiri-bevacizumab"].strength == "alternative"
    after_pd1 = run(make_case, kb, biomarkers={"mmr": "dmmr_msi_h"}, prior={"systemic_lines": [line("pembrolizumab")]})
    assert "pembrolizumab" not in offered(after_pd1) and "dostarlimab" not in offered(after_pd1)
    assert offered(after_pd1)["nivolumab-ipilimumab"].strength == "consider"
    assert offered(after_pd1)["folfox-bevacizumab"].strength == "preferred"
    after_both = run(
        make_case,
        kb,
        biomarkers={"mmr": "dmmr_msi_h"},
        prior={"systemic_lines": [line("nivolumab", "ipilimumab")]},
    )
    assert not [o for o in after_both.options if has_class(kb, o, "checkpoint_inhibitor")]


def test_c13_dostarlimab_only_after_prior_treatment(make_case: Make, kb: KnowledgeBase) -> None:
    assert outcome(make_case, kb, "dostarlimab", biomarkers={"mmr": "dmmr_msi_h"}).status == "not_applicable"
    later = outcome(make_case, kb, "dostarlimab", biomarkers={"mmr": "dmmr_msi_h"}, **REFRACTORY)
    assert later.status == "offered" and later.setting is not None and later.setting.phase == "later_line"


def test_c31_c32_braf_v600e_first_line(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers={"braf": "v600e"}))
    assert rec["encorafenib-cetuximab-mfolfox6"].strength == "preferred"
    assert rec["encorafenib-cetuximab-folfiri"].strength == "alternative"
    assert rec["folfox-bevacizumab"].strength == rec["folfoxiri-bevacizumab"].strength == "alternative"
    with_msi = offered(run(make_case, kb, biomarkers={"braf": "v600e", "mmr": "dmmr_msi_h"}))
    assert with_msi["encorafenib-cetuximab-mfolfox6"].strength == "alternative"
    assert with_msi["pembrolizumab"].rank < with_msi["encorafenib-cetuximab-mfolfox6"].rank
    frail = offered(run(make_case, kb, biomarkers={"braf": "v600e"}, ecog=2))
    assert frail["encorafenib-cetuximab-mfolfox6"].strength == "consider"
    assert "dpyd" not in {t.test for t in run(make_case, kb, biomarkers={"braf": "v600e"}).tests_needed}


def test_c30_encorafenib_cetuximab_not_repeated_after_progression(make_case: Make, kb: KnowledgeBase) -> None:
    triplet = line("encorafenib", "cetuximab", *FOLFOX)
    rec = run(make_case, kb, biomarkers={"braf": "v600e"}, prior={"systemic_lines": [triplet]})
    assert "no-repeat-after-progression" in listed(rec)["encorafenib-cetuximab"].rules
    assert offered(rec)["folfiri-bevacizumab"].strength == "preferred"


def test_c43_c45_kras_g12c_combinations_only_after_three_chemotherapies(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers=G12C, **REFRACTORY))
    assert rec["sotorasib-panitumumab"].strength == rec["adagrasib-cetuximab"].strength == "preferred"
    for option_id in ("sotorasib-panitumumab", "adagrasib-cetuximab"):  # Q-22 before Q-23
        assert rec[option_id].rank < rec["trifluridine-tipiracil-bevacizumab"].rank
    first = run(make_case, kb, biomarkers=G12C)
    assert not {"sotorasib-panitumumab", "adagrasib-cetuximab"} & set(offered(first))
    assert "anti-egfr-ras-wild-type" in listed(first)["folfox-panitumumab"].rules
    no_iri = offered(run(make_case, kb, biomarkers=G12C, prior={"systemic_lines": [FOLFOX_BEV, line(*FOLFOX)]}))
    assert "sotorasib-panitumumab" not in no_iri
    other_variant = offered(run(make_case, kb, biomarkers=RAS_MUTANT, **REFRACTORY))
    assert "sotorasib-panitumumab" not in other_variant


def test_c40_c42_q52_q53_her2_sequencing(make_case: Make, kb: KnowledgeBase) -> None:
    her2_mutant = offered(
        run(
            make_case,
            kb,
            biomarkers={"her2": "positive", **RAS_MUTANT},
            prior={"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV]},
        )
    )
    assert her2_mutant["trastuzumab-deruxtecan"].strength == "alternative"
    her2_wild = offered(
        run(make_case, kb, biomarkers={"her2": "positive"}, prior={"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV]})
    )
    assert her2_wild["trastuzumab-deruxtecan"].strength == "consider"
    # review 13, finding 6: at second line FOLFIRI with a biologic is a satisfactory alternative (label)
    second = offered(run(make_case, kb, biomarkers={"her2": "positive"}, prior={"systemic_lines": [FOLFOX_BEV]}))
    assert "trastuzumab-deruxtecan" not in second
    after_anti_her2 = offered(
        run(
            make_case,
            kb,
            biomarkers={"her2": "positive"},
            prior={"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV, line("tucatinib", "trastuzumab")]},
        )
    )
    assert after_anti_her2["trastuzumab-deruxtecan"].strength == "preferred"
    assert "tucatinib-trastuzumab" not in after_anti_her2
    assert outcome(make_case, kb, "trastuzumab-deruxtecan", biomarkers={"her2": "positive"}).status == "not_applicable"


def test_c50_c52_q60_trk_inhibitors(make_case: Make, kb: KnowledgeBase) -> None:
    after_trk = run(
        make_case,
        kb,
        biomarkers={"ntrk_fusion": "positive"},
        prior={"systemic_lines": [FOLFOX_BEV, FOLFIRI_BEV, line("larotrectinib")]},
    )
    assert offered(after_trk)["repotrectinib"].strength == "preferred"
    assert "no-repeat-after-progression" in listed(after_trk)["entrectinib"].rules
    naive = offered(run(make_case, kb, biomarkers={"ntrk_fusion": "positive"}, **REFRACTORY))
    assert naive["repotrectinib"].strength == "consider"
    first = offered(run(make_case, kb, biomarkers={"ntrk_fusion": "positive"}))
    assert first["larotrectinib"].strength == "consider" and first["larotrectinib"].phase == "first_line"


def test_c53_q61_selpercatinib_for_ret_fusion(make_case: Make, kb: KnowledgeBase) -> None:
    rec = offered(run(make_case, kb, biomarkers={"ret_fusion": "positive"}, **REFRACTORY))
    assert rec["selpercatinib"].strength == "preferred"
    unknown = run(make_case, kb, biomarkers={"ret_fusion": None}, **REFRACTORY)
    assert listed(unknown)["selpercatinib"].held and "ret" in {t.test for t in unknown.tests_needed}


def test_c70_g1_dpyd_poor_replaces_fluoropyrimidines(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, health={"dpyd": "poor"})
    assert not [o.id for o in systemic(rec) if has_class(kb, o, "fluoropyrimidine")]
    assert offered(rec)["raltitrexed"].strength == offered(rec)["irinotecan"].strength == "alternative"
    intolerant = offered(
        run(
            make_case,
            kb,
            prior={"systemic_lines": [line("capecitabine", "oxaliplatin", stopped_for="intolerance")]},
        )
    )
    assert intolerant["raltitrexed"].strength == "consider"
    assert "raltitrexed" not in offered(run(make_case, kb))


def test_curative_switch_to_folfiri_after_earlier_oxaliplatin(make_case: Make, kb: KnowledgeBase) -> None:
    resectable = [{"site": "liver", "count": 1, "resectability": "resectable"}]
    rec = offered(
        run(
            make_case,
            kb,
            metastases=resectable,
            prior={"systemic_lines": [line(*FOLFOX, stopped_for="completed")]},
        )
    )
    assert (rec["folfiri"].phase, rec["folfiri"].strength) == ("perioperative", "alternative")
    assert "folfiri" not in offered(run(make_case, kb, metastases=resectable))


def test_reintroduction_only_without_progression(make_case: Make, kb: KnowledgeBase) -> None:
    completed = offered(run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX, stopped_for="completed")]}))
    assert completed["folfox"].setting == "folfox-reintroduction" and completed["folfox"].strength == "consider"
    progressed = run(make_case, kb, prior={"systemic_lines": [line(*FOLFOX)]})
    assert "no-repeat-after-progression" in listed(progressed)["folfox"].rules
    assert "folfiri" not in listed(
        run(make_case, kb, prior={"systemic_lines": [line(*FOLFIRI, stopped_for="completed")]})
    )


def test_c71_ugt1a1_note_on_every_irinotecan_option_only(make_case: Make, kb: KnowledgeBase) -> None:
    rec = run(make_case, kb, **REFRACTORY)
    with_irinotecan = [o for o in systemic(rec) if "irinotecan" in o.components]
    without = [o for o in systemic(rec) if "irinotecan" not in o.components]
    assert with_irinotecan and without
    assert all(any("UGT1A1" in n for n in o.notes) for o in with_irinotecan)
    assert not any("UGT1A1" in text for o in without for text in (*o.notes, *o.warnings))
