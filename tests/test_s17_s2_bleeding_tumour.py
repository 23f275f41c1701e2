"""Stop 17 (S2), review 14 finding 2: a tumour recorded as bleeding, and anti-VEGF drugs.

Anti-VEGF regimens were excluded only through `health.bleeding_risk: true`. With the primary (or a local
recurrence) recorded as bleeding and `bleeding_risk` false or absent, bevacizumab doublets led the list as
"preferred" with no word of the bleeding (review 14's p-bleeding-symptom-no-risk-flag and -risk-unknown).

- bleeding recorded, the team's judgement (`bleeding_risk`) absent: read as active bleeding, every anti-VEGF
  option is excluded (gate `anti-vegf-bleeding-tumour`; the bevacizumab label: not with serious hemorrhage);
- bleeding recorded, `bleeding_risk` false (the team judged it not active): listed with a warning
  (`anti-vegf-bleeding-tumour-warning`) to confirm that judgement and control the bleeding first;
- primary in place: a note on anti-VEGF options (NHS Scotland acute oncology guidance: prescribe with caution,
  5% risk of bleeding while the primary is in situ).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import RARE_RISKS_ABSENT, known_health, known_panel, options_by_id, review14_case

ANTI_VEGF_FIRST_LINE = {
    "folfox-bevacizumab",
    "folfiri-bevacizumab",
    "capox-bevacizumab",
    "folfoxiri-bevacizumab",
    "capecitabine-bevacizumab",
    "fluorouracil-leucovorin-bevacizumab",
}
EXCLUSION = "The tumour is recorded as bleeding and the care team's judgement of that bleeding is not recorded"
WARNING = "The tumour is recorded as bleeding, while active bleeding and a high bleeding risk are recorded as absent"
IN_SITU = "Primary tumour in place: prescribe an anti-VEGF drug with caution"
BLEEDING_SOURCES = {"fda-bevacizumab", "avastin-smpc", "nhs-scotland-vegf-bleeding"}
CONFIRM = "Confirm there is no active bleeding or high bleeding risk before an anti-VEGF drug."

# Review 14's p-bleeding-symptom-no-risk-flag: primary in place, bleeding, 15 unresectable liver metastases,
# KRAS G12D (no anti-EGFR), fit, first line.
BASE: dict[str, Any] = review14_case(
    "s17-s2-bleeding",
    primary={
        "status": "in_place",
        "distance_from_anal_verge_cm": 7,
        "resectability": "resectable",
        "stoma": False,
        "symptoms": ["bleeding"],
    },
    metastases=[{"site": "liver", "count": 15, "resectability": "unresectable"}],
    biomarkers=known_panel(kras="mutant", kras_variant="G12D"),
    health=known_health(
        400, **RARE_RISKS_ABSENT, uncontrolled_hypertension=False, proteinuria=False, autoimmune_disease=False
    ),
)


def _case(bleeding_risk: bool | None, symptoms: list[str] | None) -> dict[str, Any]:
    case = copy.deepcopy(BASE)
    if bleeding_risk is None:
        del case["health"]["bleeding_risk"]
    else:
        case["health"]["bleeding_risk"] = bleeding_risk
    if symptoms is None:
        del case["primary"]["symptoms"]
    else:
        case["primary"]["symptoms"] = symptoms
    return case


def _local_recurrence_case(bleeding_risk: bool | None) -> dict[str, Any]:
    """Primary resected (no symptoms of its own); an unresectable pelvic recurrence that bleeds."""
    case = _case(bleeding_risk, None)
    case["primary"] = {"status": "resected", "stoma": False}
    case["prior"]["surgeries"] = ["low_anterior_resection", "total_mesorectal_excision"]
    case["local_recurrence"] = {"resectability": "unresectable", "symptoms": ["bleeding"]}
    return case


def _result(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    return recommend(case, kb).to_dict()


def _offered(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in result["options"]}


def _excluded(result: dict[str, Any]) -> dict[str, str]:
    return {e["id"]: " ".join(e["reasons"]) for e in result["excluded"]}


@pytest.mark.parametrize("build", [lambda: _case(None, ["bleeding"]), lambda: _local_recurrence_case(None)])
def test_bleeding_tumour_without_a_judgement_excludes_anti_vegf(kb: KnowledgeBase, build: Any) -> None:
    result = _result(build(), kb)
    offered, excluded = _offered(result), _excluded(result)
    assert not ANTI_VEGF_FIRST_LINE & offered.keys()
    for oid in ANTI_VEGF_FIRST_LINE:
        assert EXCLUSION in excluded[oid], oid
        assert "serious hemorrhage" in excluded[oid]
    assert "folfox" in offered and "palliative-radiation" in offered  # chemotherapy alone and the RT stay


def test_bleeding_tumour_judged_not_active_warns_on_every_anti_vegf_option(kb: KnowledgeBase) -> None:
    offered = options_by_id(_case(False, ["bleeding"]), kb)
    assert offered.keys() >= ANTI_VEGF_FIRST_LINE
    for oid in ANTI_VEGF_FIRST_LINE:
        option = offered[oid]
        (caution,) = (c for c in option["cautions"] if c["text"].startswith(WARNING))
        assert caution["severity"] == "warning" and caution["text"] in option["warnings"]
        assert "confirm that judgement" in caution["text"] and "red cell transfusion" in caution["text"]
        assert "serious hemorrhage" in caution["text"] and "palliative radiation" in caution["text"]
        assert {s["id"] for s in caution["sources"]} == BLEEDING_SOURCES
    assert not any(w.startswith(WARNING) for w in offered["folfox"]["warnings"])  # anti-VEGF options only


def test_no_bleeding_symptom_keeps_the_preferred_doublets(kb: KnowledgeBase) -> None:
    offered = options_by_id(_case(False, ["pain"]), kb)
    assert offered["folfiri-bevacizumab"]["strength"] == "preferred"
    assert not any(w.startswith(WARNING) for o in offered.values() for w in o["warnings"])


def test_unrecorded_symptoms_and_risk_keep_the_confirm_warning_only(kb: KnowledgeBase) -> None:
    result = _result(_case(None, None), kb)
    offered, excluded = _offered(result), _excluded(result)
    assert not any(EXCLUSION in reason for reason in excluded.values())
    assert CONFIRM in offered["folfiri-bevacizumab"]["warnings"]


def test_high_bleeding_risk_keeps_its_own_exclusion(kb: KnowledgeBase) -> None:
    excluded = _excluded(_result(_case(True, ["bleeding"]), kb))
    assert "Active bleeding or high bleeding risk" in excluded["folfox-bevacizumab"]
    assert EXCLUSION not in excluded["folfox-bevacizumab"]


def test_primary_in_place_note_on_anti_vegf_only(kb: KnowledgeBase) -> None:
    offered = options_by_id(_case(False, ["pain"]), kb)
    assert any(n.startswith(IN_SITU) for n in offered["folfox-bevacizumab"]["notes"])
    assert not any(n.startswith(IN_SITU) for n in offered["folfox"]["notes"])


def test_no_in_situ_note_after_the_primary_is_removed(kb: KnowledgeBase) -> None:
    case = _local_recurrence_case(False)
    case["local_recurrence"]["symptoms"] = ["pain"]
    offered = options_by_id(case, kb)
    assert "folfox-bevacizumab" in offered
    assert not any(n.startswith(IN_SITU) for o in offered.values() for n in o["notes"])
