"""Hypothesis strategies for cases of contract 2 (and 1): every enumeration, absence as 'unknown', valid scope,
treatment histories as contract 1 lines or contract 2 courses, the declared fields, KRAS notations."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rectoplan.core.case import SITES, SYMPTOMS
from rectoplan.core.fields import DECLARED, DeclaredField
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
            "kras_variant": draw(_optional(st.sampled_from(VARIANTS))) if kras == "mutant" else None,
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
    history: dict[str, Any] = {"systemic_lines": lines}
    v2 = draw(st.booleans())
    if v2 and draw(st.booleans()):
        history = {"courses": draw(courses())}
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
            "prior": _drop_none({"pelvic_radiation": draw(_optional(st.booleans())), **history}),
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
    if v2:
        case["format"] = "rectoplan.case/2"
        case["advanced_disease_months_ago"] = draw(_optional(st.integers(0, 3)))
        for f in DECLARED:
            if f.fact in ("biomarkers.her2_result",) or (f.derived_from == "prior.courses" and "courses" in history):
                continue
            value = draw(_optional(_declared_value(f)))
            if value is not None:
                case.setdefault(f.path[0], {})[f.path[1]] = value
        case = _drop_none(case)
    return case


VARIANTS = ["G12C", "G12D", "G13D", "p.G12C", "p.Gly12Cys", "c.34G>T", "KRAS G12D", "c.35G>A"]


def _declared_value(f: DeclaredField) -> st.SearchStrategy[Any]:
    if f.kind == "bool":
        return st.booleans()
    if f.kind == "int":
        return st.integers(f.low, min(f.high, f.low + 24))
    return st.sampled_from(f.values)


@st.composite
def courses(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid contract 2 courses: adjuvant and finished lines, then perhaps an ongoing line (and maintenance)."""
    regimen = st.sampled_from(REGIMENS).map(list)
    out: list[dict[str, Any]] = []
    if draw(st.booleans()):
        out.append(
            {
                "agents": draw(regimen),
                "setting": "adjuvant",
                "status": "completed",
                "end_months_ago": draw(st.integers(0, 36)),
            }
        )
    for _ in range(draw(st.integers(0, 2))):
        out.append(
            {
                "agents": draw(regimen),
                "setting": "advanced",
                "status": "stopped",
                "stopped_for": draw(st.sampled_from(["progression", "toxicity", "planned_end"])),
                "best_response": draw(st.sampled_from(["partial", "stable", "progression", "not_assessed"])),
            }
        )
    if draw(st.booleans()):
        out.append(
            {
                "agents": draw(regimen),
                "setting": "advanced",
                "status": "ongoing",
                "start_months_ago": draw(st.integers(0, 9)),
            }
        )
    return out
