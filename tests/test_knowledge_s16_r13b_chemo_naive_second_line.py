"""Review 13, finding 9 (stop 16): after first-line pembrolizumab alone (dMMR, z32), the second-line rows said
"switch the backbone to FOLFIRI and add (or continue ...) bevacizumab", although no chemotherapy had been given.

A row read when the first line held no drug of class `chemotherapy` (prior.classes) now comes before each
"switch the backbone" row, with the same strength and priority; after a chemotherapy first line the usual rows
apply unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import known_health, known_panel, options_by_id, unresectable_liver_and_lung

SWITCHED = (
    "folfiri-bevacizumab",
    "folfox-bevacizumab",
    "capox-bevacizumab",
    "folfox-panitumumab",
    "folfox-cetuximab",
    "folfiri-panitumumab",
    "folfiri-cetuximab",
    "folfox",
    "capox",
    "folfiri",
)

# Review 13's z32: dMMR, RAS and BRAF wild-type, progression after first-line pembrolizumab alone.
CASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "r13b-chemo-naive",
    "as_of": "2026-11-20",
    "advanced_disease_date": "2025-06-01",
    "age": 62,
    "ecog": 1,
    "primary": {"status": "resected", "stoma": False},
    "metastases": unresectable_liver_and_lung(),
    "biomarkers": known_panel(mmr="dmmr_msi_h"),
    "prior": {
        "courses": [
            {
                "agents": ["pembrolizumab"],
                "setting": "advanced",
                "start": "2025-06-20",
                "end": "2026-09-10",
                "status": "stopped",
                "stopped_for": "progression",
                "best_response": "partial",
            }
        ]
    },
    "health": known_health(
        700,
        recent_arterial_thrombosis=False,
        organ_transplant=False,
        fluoropyrimidine_cardiotoxicity=False,
        autoimmune_disease=False,
    ),
}


def _after(agents: list[str]) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    case["prior"]["courses"][0]["agents"] = agents
    case["biomarkers"]["mmr"] = "pmmr_mss"  # dMMR without immunotherapy yet reads the targeted-first rows
    return case


def test_no_backbone_switch_after_immunotherapy_alone(kb: KnowledgeBase) -> None:
    options = options_by_id(CASE, kb)
    for oid in SWITCHED:
        option = options[oid]
        assert option["trace"]["setting"] == f"{oid}-second-line-chemotherapy-naive", oid
        why = " ".join(option["rationale"])
        assert "without chemotherapy" in why and "no backbone to switch" in why
        assert "switch the backbone" not in why and "continue" not in why
    # the same strengths as the rows they stand in front of
    assert options["folfiri-bevacizumab"]["strength"] == "preferred"
    assert options["folfox-panitumumab"]["strength"] == options["folfiri"]["strength"] == "alternative"
    assert options["folfiri-bevacizumab"]["rank"] == 1


def test_usual_switch_after_an_oxaliplatin_first_line(kb: KnowledgeBase) -> None:
    options = options_by_id(_after(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"]), kb)
    bev = options["folfiri-bevacizumab"]
    assert bev["trace"]["setting"] == "folfiri-bevacizumab-second-line"
    assert "switch the backbone to FOLFIRI" in " ".join(bev["rationale"])
    assert options["folfiri"]["trace"]["setting"] == "folfiri-second-line"
    for option in options.values():
        assert not option["trace"]["setting"].endswith("-chemotherapy-naive")


def test_usual_switch_after_an_irinotecan_first_line(kb: KnowledgeBase) -> None:
    options = options_by_id(_after(["fluorouracil", "leucovorin", "irinotecan"]), kb)
    assert options["folfox-bevacizumab"]["trace"]["setting"] == "folfox-bevacizumab-second-line"
    assert "switch the backbone to FOLFOX" in " ".join(options["folfox-bevacizumab"]["rationale"])
    assert options["folfox"]["trace"]["setting"] == "folfox-second-line"


def test_chemotherapy_naive_rows_only_at_second_line(kb: KnowledgeBase) -> None:
    rows = [s for o in kb.options for s in o.settings if s.id.endswith("-second-line-chemotherapy-naive")]
    assert {r.id.removesuffix("-second-line-chemotherapy-naive") for r in rows} == set(SWITCHED)
    assert all(r.phase == "second_line" for r in rows)
