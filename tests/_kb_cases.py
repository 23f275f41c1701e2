"""Pieces that the hand-written cases of the knowledge tests share (review 3, stop 16's review-13 findings, stop 17).

Why: those test modules each spelled out the same recorded health section, biomarker panel and "offered options
by id" helper (two of them also the same metastases), and a copy that drifts (one field changed in one file only)
would quietly make two cases differ in what they are not about. Each case still names, in its own file, what it
changes or adds, so a reader sees the whole case where the test is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase

# A fit patient's health as these cases record it: each field known and unremarkable, so no outcome of theirs
# rests on an unknown value here. Read-only: `known_health` hands out fresh copies for cases to change.
KNOWN_HEALTH: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "dpyd": "normal",
        "bleeding_risk": False,
        "fit_for_intensive_therapy": True,
        "neuropathy_grade": 0,
        "creatinine_clearance": 90,
        "bilirubin_raised": False,
        "ugt1a1": "normal",
    }
)


# The rarer contraindications that stop 16's and 17's cases record as absent (each read by some rule), for
# `known_health(days, **RARE_RISKS_ABSENT, ...)`.
RARE_RISKS_ABSENT: Final[Mapping[str, bool]] = MappingProxyType(
    {"recent_arterial_thrombosis": False, "organ_transplant": False, "fluoropyrimidine_cardiotoxicity": False}
)


def known_health(days_since_major_surgery: int, **more: Any) -> dict[str, Any]:
    """A new health section: `KNOWN_HEALTH`, then `more` (added or overriding fields), then the days since surgery.

    The days are required because the cases differ in them (400 or 700) and the surgery rules read them.
    """
    return {**KNOWN_HEALTH, **more, "days_since_major_surgery": days_since_major_surgery}


def recorded_health(**changes: Any) -> dict[str, Any]:
    """Review 15's health section (stop 18): every field of it recorded and unremarkable (surgery 400 days ago),
    with `changes` (the fact a test is about) set or added."""
    unremarkable = {"coronary_disease": False, "uncontrolled_hypertension": False, "proteinuria": False}
    quiet = {"autoimmune_disease": False, "frail": False}
    return {**known_health(400, **RARE_RISKS_ABSENT, **unremarkable, **quiet), **changes}


# What these cases record as tested: RAS and BRAF wild-type, pMMR/MSS, HER2 IHC 0-1+, no NTRK or RET fusion.
KNOWN_PANEL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "kras": "wild_type",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2_result": "ihc0_1",
        "ntrk_fusion": "negative",
        "ret_fusion": "negative",
    }
)


def known_panel(**changes: str) -> dict[str, str]:
    """A new biomarker section: `KNOWN_PANEL` with `changes` (the result a test is about) set or added."""
    return {**KNOWN_PANEL, **changes}


def unresectable_liver_and_lung() -> list[dict[str, Any]]:
    """Review 13's z11 and z32 disease, as a new list: 6 liver (largest 40 mm) and 4 lung (largest 15 mm)
    metastases, none resectable."""
    return [
        {"site": "liver", "count": 6, "resectability": "unresectable", "largest_mm": 40},
        {"site": "lung", "count": 4, "resectability": "unresectable", "largest_mm": 15},
    ]


def progressed_course(agents: list[str], start: str, end: str) -> dict[str, Any]:
    """A new course of advanced-disease treatment with `agents`, stopped for progression after a partial response."""
    return {
        "agents": agents,
        "setting": "advanced",
        "start": start,
        "end": end,
        "status": "stopped",
        "stopped_for": "progression",
        "best_response": "partial",
    }


def options_by_id(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """The offered options of `case` as the JSON output has them (rank, strength, trace, cautions), by option id."""
    return {o["id"]: o for o in recommend(case, kb).to_dict()["options"]}
