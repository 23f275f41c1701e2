"""Hypothesis strategies for contract 1 cases: every enumeration, absence as 'unknown', valid scope."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rectoplan.core.case import SITES, SYMPTOMS
from rectoplan.synthetic import REGIMENS

RESECT = st.sampled_from(["resectable", "potentially_resectable", "unresectable", "unknown"])
RAS = st.sampled_from(["wild_type", "mutant", "unknown"])
BIN = st.sampled_from(["positive", "negative", "unknown"])


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    recurrence = draw(st.booleans())
    sites = draw(st.lists(st.sampled_from(SITES), unique=True, max_size=4))
    mets = [
        _drop_none(
            {
                "site": s,
                "count": draw(_optional(st.integers(1, 12))),
                "resectability": draw(_optional(RESECT)),
            }
        )
        for s in sites
    ]
    metastases: list[dict[str, Any]] | None = mets
    if recurrence and draw(st.booleans()):
        metastases = mets or None  # absent distant staging sometimes
    if not recurrence and not mets:
        metastases = [{"site": "liver"}]
    kras = draw(_optional(RAS))
    biomarkers = _drop_none(
        {
            "kras": kras,
            "kras_variant": draw(_optional(st.sampled_from(["G12C", "G12D", "G13D"]))) if kras == "mutant" else None,
            "nras": draw(_optional(RAS)),
            "braf": draw(_optional(st.sampled_from(["v600e", "other_mutation", "wild_type", "unknown"]))),
            "mmr": draw(_optional(st.sampled_from(["dmmr_msi_h", "pmmr_mss", "unknown"]))),
            "her2": draw(_optional(BIN)),
            "ntrk_fusion": draw(_optional(BIN)),
            "ret_fusion": draw(_optional(BIN)),
        }
    )
    lines = draw(
        _optional(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "agents": st.sampled_from(REGIMENS).map(list),
                        "stopped_for": st.sampled_from(["progression", "intolerance", "completed"]),
                    }
                ),
                max_size=3,
            )
        )
    )
    case = _drop_none(
        {
            "id": "h",
            "age": draw(_optional(st.integers(18, 95))),
            "ecog": draw(_optional(st.integers(0, 4))),
            "primary": _drop_none(
                {
                    "status": "resected" if recurrence else draw(_optional(st.sampled_from(["in_place", "resected"]))),
                    "symptoms": draw(_optional(st.lists(st.sampled_from(SYMPTOMS), unique=True))),
                }
            ),
            "local_recurrence": _drop_none(
                {
                    "resectability": draw(_optional(RESECT)),
                    "symptoms": draw(_optional(st.lists(st.sampled_from(SYMPTOMS), unique=True))),
                }
            )
            if recurrence
            else None,
            "metastases": metastases,
            "biomarkers": biomarkers,
            "prior": _drop_none({"pelvic_radiation": draw(_optional(st.booleans())), "systemic_lines": lines}),
            "health": _drop_none(
                {
                    "dpyd": draw(_optional(st.sampled_from(["normal", "intermediate", "poor", "unknown"]))),
                    "days_since_major_surgery": draw(_optional(st.integers(0, 400))),
                    "bleeding_risk": draw(_optional(st.booleans())),
                    "fit_for_intensive_therapy": draw(_optional(st.booleans())),
                }
            ),
            "wants_clinical_trials": draw(_optional(st.booleans())),
        }
    )
    return case
