"""Review 16, F4, F10 and F5 (stop 19, KF3).

- F4: after a planned break (or maintenance) from FOLFOX/FOLFIRI + panitumumab or FOLFOX + cetuximab that
  controlled a RAS/BRAF wild-type cancer, with no growth on the antibody or the partner drug, the induction is
  re-introduced at progression (IMPROVE, Avallone et al., J Clin Oncol 2025, PMID 39576946, NCT04425239;
  COIN-B, Wasan et al., Lancet Oncol 2014), as the bevacizumab doublets are (CAIRO3). Growth on the antibody,
  on the partner drug, side effects of either, a RAS mutation or a running line keep it out; HER2-positive
  disease has it as an alternative only.
- F10: growth on 5-FU + panitumumab maintenance: the case warning names what may come back (the oxaliplatin
  doublet) and says the antibody it grew on is not part of it.
- F5: after tucatinib + trastuzumab, the "plan tucatinib for a later line" warning is silent, and trastuzumab
  deruxtecan (label: no satisfactory alternative treatment options) is not preferred while irinotecan-based
  chemotherapy is still open.

Each trigger fails on the knowledge before this change; each comes with cases that must not change."""

from __future__ import annotations

import copy
from typing import Any

from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation
from rectoplan.core.reintroduction import HEADLINE_WORDS
from tests._kb_cases import (
    offered_of,
    progressed_course,
    review16_case,
    review16_liver_and_lung,
)

FOLFOX_PANI = ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"]
FOLFIRI_PANI = ["leucovorin", "fluorouracil", "irinotecan", "panitumumab"]
FOLFOX_CETUX = ["leucovorin", "fluorouracil", "oxaliplatin", "cetuximab"]
FU_PANI = ["leucovorin", "fluorouracil", "panitumumab"]
REINTRODUCTION_WORDS = "re-introducing oxaliplatin (FOLFOX or CAPOX)"
NOT_THE_ANTIBODY = "The antibody it grew on is not part of that re-introduction"
PLAN_TUCATINIB = "plan it for a later line"

# Review 16's i02: RAS/BRAF wild-type, FOLFOX + panitumumab for 5.5 months (partial response), a planned break,
# growth off treatment.
I02: dict[str, Any] = review16_case(
    "i02-wt-break-folfoxpani-prog-off",
    advanced_disease_date="2026-01-01",
    primary={"status": "in_place", "stoma": False, "distance_from_anal_verge_cm": 8},
    metastases=review16_liver_and_lung(),
    prior={
        "pelvic_radiation": False,
        "surgeries": [],
        "courses": [
            {
                "agents": FOLFOX_PANI,
                "setting": "advanced",
                "start": "2026-01-01",
                "status": "stopped",
                "best_response": "partial",
                "end": "2026-06-15",
                "stopped_for": "treatment_break",
            }
        ],
        "progressed_since_last_line": True,
    },
)


def _with_course(agents: list[str], **changes: Any) -> dict[str, Any]:
    """I02 with its one course of `agents` (and the course's fields in `changes`)."""
    case = copy.deepcopy(I02)
    case["prior"]["courses"][0] = {**case["prior"]["courses"][0], "agents": agents, **changes}
    return case


def _i11() -> dict[str, Any]:
    """Review 16's i11: FOLFOX + panitumumab induction (completed, partial response), then 5-FU/leucovorin +
    panitumumab maintenance that the cancer outgrew."""
    case = copy.deepcopy(I02)
    case["prior"]["courses"] = [
        {
            "agents": FOLFOX_PANI,
            "setting": "advanced",
            "start": "2026-01-01",
            "status": "completed",
            "best_response": "partial",
            "end": "2026-05-15",
        },
        {
            "agents": FU_PANI,
            "setting": "maintenance",
            "start": "2026-05-16",
            "status": "stopped",
            "best_response": "stable",
            "end": "2026-11-20",
            "stopped_for": "progression",
        },
    ]
    del case["prior"]["progressed_since_last_line"]
    return case


def _g11(courses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Review 16's g11: HER2 IHC 2+/ISH+, RAS/BRAF wild-type; FOLFOX + panitumumab, then tucatinib +
    trastuzumab, each stopped for progression; irinotecan never given."""
    case = copy.deepcopy(I02)
    case["biomarkers"] = {**case["biomarkers"], "her2_result": "ihc2_ish_positive"}
    case["prior"]["courses"] = courses or [
        progressed_course(FOLFOX_PANI, "2025-01-01", "2025-09-01"),
        progressed_course(["trastuzumab", "tucatinib"], "2025-09-10", "2026-11-10"),
    ]
    del case["prior"]["progressed_since_last_line"]
    return case


def _rec(case: dict[str, Any], kb: KnowledgeBase) -> Recommendation:
    return recommend(validate_case(case, kb), kb, what_if=False)


def _cites(option: OptionResult, name: str) -> bool:
    return any(name in str(c) for c in option.sources)


# --- F4: the anti-EGFR induction comes back after a planned break --------------------------------------------


def test_folfox_panitumumab_is_reintroduced_after_a_break(kb: KnowledgeBase) -> None:
    r = _rec(I02, kb)
    option = offered_of(r)["folfox-panitumumab"]
    assert option.setting == "folfox-panitumumab-reintroduction"
    assert option.strength == "preferred"
    assert _cites(option, "IMPROVE")
    assert r.options[0].id == "folfox-panitumumab"  # ranked with the switch, ahead of it as the bevacizumab row is
    assert HEADLINE_WORDS in r.summary


def test_folfiri_panitumumab_is_reintroduced_after_a_break(kb: KnowledgeBase) -> None:
    option = offered_of(_rec(_with_course(FOLFIRI_PANI), kb))["folfiri-panitumumab"]
    assert option.setting == "folfiri-panitumumab-reintroduction"
    assert option.strength == "preferred"
    assert _cites(option, "IMPROVE")


def test_folfox_cetuximab_is_reintroduced_after_a_break(kb: KnowledgeBase) -> None:
    option = offered_of(_rec(_with_course(FOLFOX_CETUX), kb))["folfox-cetuximab"]
    assert option.setting == "folfox-cetuximab-reintroduction"
    assert _cites(option, "COIN-B")


def test_reintroduction_after_maintenance_without_the_antibody(kb: KnowledgeBase) -> None:
    """Growth on 5-FU alone after FOLFOX + panitumumab (PANAMA's control arm): the cancer never grew on the
    antibody, so the induction comes back."""
    case = _i11()
    case["prior"]["courses"][1]["agents"] = ["leucovorin", "fluorouracil"]
    option = offered_of(_rec(case, kb))["folfox-panitumumab"]
    assert option.setting == "folfox-panitumumab-reintroduction"


def test_her2_positive_reintroduction_is_an_alternative_with_the_her2_warning(kb: KnowledgeBase) -> None:
    case = _with_course(FOLFOX_PANI)
    case["biomarkers"]["her2_result"] = "ihc3"
    option = offered_of(_rec(case, kb))["folfox-panitumumab"]
    assert option.setting == "folfox-panitumumab-reintroduction-her2-positive"
    assert option.strength == "alternative"
    assert any("HER2" in w for w in option.warnings + option.notes)


def test_no_reintroduction_after_growth_on_the_antibody_or_the_regimen(kb: KnowledgeBase) -> None:
    grew_on_regimen = _with_course(FOLFOX_PANI, stopped_for="progression")
    assert "folfox-panitumumab" not in offered_of(_rec(grew_on_regimen, kb))
    grew_on_maintenance = offered_of(_rec(_i11(), kb))
    assert "folfox-panitumumab" not in grew_on_maintenance  # PANAMA maintenance outgrown: a rechallenge instead
    assert "folfox-cetuximab" not in grew_on_maintenance


def test_no_reintroduction_after_side_effects_ras_mutation_or_while_running(kb: KnowledgeBase) -> None:
    side_effects = offered_of(_rec(_with_course(FOLFOX_PANI, stopped_for="toxicity"), kb)).get("folfox-panitumumab")
    assert side_effects is None or side_effects.setting != "folfox-panitumumab-reintroduction"
    mutant = _with_course(FOLFOX_PANI)
    mutant["biomarkers"]["kras"] = "mutant"
    r = _rec(mutant, kb)
    assert "folfox-panitumumab" not in offered_of(r)
    assert "folfox-panitumumab" in {e.id for e in r.excluded}
    running = _with_course(FOLFOX_PANI, status="ongoing")
    for key in ("end", "stopped_for"):
        del running["prior"]["courses"][0][key]
    del running["prior"]["progressed_since_last_line"]
    assert "folfox-panitumumab" not in offered_of(_rec(running, kb))


def test_no_panitumumab_reintroduction_after_a_cetuximab_induction(kb: KnowledgeBase) -> None:
    offered = offered_of(_rec(_with_course(FOLFOX_CETUX), kb))
    assert "folfox-panitumumab" not in offered
    assert "folfiri-panitumumab" not in offered  # a switch of backbone with the antibody: no source, no row


# --- F10: the warning after growth on anti-EGFR maintenance names the drugs ---------------------------------


def test_progression_on_panitumumab_maintenance_names_what_comes_back(kb: KnowledgeBase) -> None:
    warnings = " ".join(_rec(_i11(), kb).warnings)
    assert REINTRODUCTION_WORDS in warnings
    assert NOT_THE_ANTIBODY in warnings
    assert "re-introducing the induction regimen is an option" not in warnings


def test_progression_on_fluorouracil_maintenance_keeps_the_induction_words(kb: KnowledgeBase) -> None:
    case = _i11()
    case["prior"]["courses"][1]["agents"] = ["leucovorin", "fluorouracil"]
    warnings = " ".join(_rec(case, kb).warnings)
    assert "re-introducing the induction regimen is an option" in warnings
    assert NOT_THE_ANTIBODY not in warnings


# --- F5: HER2 after tucatinib + trastuzumab ------------------------------------------------------------------


def test_no_plan_tucatinib_warning_after_tucatinib(kb: KnowledgeBase) -> None:
    assert not any(PLAN_TUCATINIB in w for w in _rec(_g11(), kb).warnings)


def test_plan_tucatinib_warning_before_tucatinib(kb: KnowledgeBase) -> None:
    case = _g11([progressed_course(FOLFOX_PANI, "2025-01-01", "2026-09-01")])
    assert any(PLAN_TUCATINIB in w for w in _rec(case, kb).warnings)


def test_trastuzumab_deruxtecan_not_preferred_while_irinotecan_is_open(kb: KnowledgeBase) -> None:
    r = _rec(_g11(), kb)
    offered = offered_of(r)
    tdxd, folfiri_bev = offered["trastuzumab-deruxtecan"], offered["folfiri-bevacizumab"]
    assert tdxd.setting == "trastuzumab-deruxtecan-after-anti-her2-chemotherapy-left"
    assert tdxd.strength == "alternative" == folfiri_bev.strength
    assert folfiri_bev.rank < tdxd.rank


def test_trastuzumab_deruxtecan_stays_preferred_after_all_three_drugs(kb: KnowledgeBase) -> None:
    case = _g11(
        [
            progressed_course(FOLFOX_PANI, "2024-01-01", "2024-09-01"),
            progressed_course(["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"], "2024-09-10", "2025-08-01"),
            progressed_course(["trastuzumab", "tucatinib"], "2025-08-10", "2026-11-10"),
        ]
    )
    tdxd = offered_of(_rec(case, kb))["trastuzumab-deruxtecan"]
    assert tdxd.setting == "trastuzumab-deruxtecan-after-anti-her2"
    assert tdxd.strength == "preferred"
