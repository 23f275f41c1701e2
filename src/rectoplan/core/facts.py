"""Flatten a `Case` into named facts, the only thing rules can read.

`None` is *unknown*. Where contract 1 makes absence meaningful, the fact says so explicitly: an absent
local recurrence gives `local_recurrence.present = false` and `local_recurrence.resectability = "none"`,
while absent metastases leave every metastasis fact unknown. Each derivation below is mirrored by the
cohort compiler and the verifier, so keep them simple and documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rectoplan.core.case import (
    BINARY_STATUS,
    BRAF_STATUS,
    DPYD_STATUS,
    MMR_STATUS,
    PRIMARY_STATUS,
    RAS_STATUS,
    SITES,
    SYMPTOMS,
    Case,
)
from rectoplan.core.schema import INTENTS, KINDS, FactType, boolean, enum, integer, set_of

Facts = dict[str, Any]

RESECTABLE: tuple[str, ...] = ("resectable", "potentially_resectable", "unresectable")
_RANK = {"resectable": 0, "potentially_resectable": 1, "unresectable": 2}


def _known(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for v in values if v != "unknown")


def fact_schema(
    drugs: tuple[str, ...],
    procedures: tuple[str, ...],
    resistance_classes: tuple[str, ...],
    drug_classes: tuple[str, ...],
    option_ids: tuple[str, ...],
    tags: tuple[str, ...] = (),
) -> dict[str, FactType]:
    """The schema for one knowledge base (its vocabulary fixes the domains of sets)."""
    schema: dict[str, FactType] = {
        "age": integer(18, 120, "age in years"),
        "ecog": integer(0, 4, "ECOG performance status"),
        "primary.status": enum(PRIMARY_STATUS, "in_place: stage 4 at diagnosis; resected: recurrence"),
        "symptoms": set_of(SYMPTOMS, "union of primary and local-recurrence symptoms; unknown if neither lists any"),
        "local_recurrence.present": boolean("a local (pelvic) recurrence is recorded; absent means none known"),
        "local_recurrence.resectability": enum(
            (*RESECTABLE, "none"), "'none' when there is no local recurrence; unknown when not assessed"
        ),
        "metastases.known": boolean("distant staging is recorded (metastases given, possibly empty)"),
        "metastases.sites": set_of(SITES, "organs with metastases"),
        "metastases.site_count": integer(0, len(SITES), "number of distinct metastatic sites"),
        "metastases.total_count": integer(0, 7000, "sum of metastasis counts; unknown if any count is missing"),
        "metastases.resectability": enum(
            (*RESECTABLE, "none"), "least favourable resectability over all metastases; 'none' when there are none"
        ),
        "disease.resectability": enum(
            RESECTABLE,
            "least favourable resectability over the local recurrence and all metastases; unresectable as soon as"
            " any lesion is, otherwise unknown while any lesion or the distant staging is unknown",
        ),
        "biomarkers.kras": enum(_known(RAS_STATUS), "KRAS status"),
        "biomarkers.nras": enum(_known(RAS_STATUS), "NRAS status"),
        "biomarkers.ras": enum(
            _known(RAS_STATUS), "mutant if KRAS or NRAS is mutant; wild_type only if both are wild-type"
        ),
        "biomarkers.kras_g12c": boolean(
            "KRAS G12C: true if the variant is G12C; false if KRAS is wild-type or another variant is named"
        ),
        "biomarkers.braf": enum(_known(BRAF_STATUS), "BRAF status"),
        "biomarkers.mmr": enum(_known(MMR_STATUS), "mismatch repair / microsatellite status"),
        "biomarkers.her2": enum(_known(BINARY_STATUS), "HER2 amplification / overexpression"),
        "biomarkers.ntrk_fusion": enum(_known(BINARY_STATUS), "NTRK1/2/3 gene fusion"),
        "biomarkers.ret_fusion": enum(_known(BINARY_STATUS), "RET gene fusion"),
        "prior.pelvic_radiation": boolean("radiation to the pelvis was given before"),
        "prior.systemic_recorded": boolean("prior.systemic_lines is present (possibly empty)"),
        "prior.line_count": integer(0, 20, "number of prior systemic lines; 0 when none are recorded"),
        "prior.agents": set_of(drugs, "every drug of every prior line"),
        "prior.progressed_agents": set_of(drugs, "drugs of lines stopped for progression"),
        "prior.intolerant_agents": set_of(drugs, "drugs of lines stopped for intolerance"),
        "prior.classes": set_of(drug_classes, "drug classes of every prior line"),
        "prior.progressed_classes": set_of(
            resistance_classes, "cross-resistance classes of the drugs of lines stopped for progression"
        ),
        "prior.surgeries": set_of(procedures, "operations already done"),
        "health.dpyd": enum(_known(DPYD_STATUS), "DPYD metaboliser phenotype"),
        "health.days_since_major_surgery": integer(0, 36500, "days since the last major operation"),
        "health.bleeding_risk": boolean("active bleeding or high bleeding risk"),
        "health.fit_for_intensive_therapy": boolean("clinician judges the patient fit for intensive therapy"),
        "wants_clinical_trials": boolean("the patient wishes to hear about clinical trials"),
        "plan.intent": enum(INTENTS, "decided by the intent rules of the knowledge base"),
        "option.id": enum(option_ids, "the option under evaluation"),
        "option.kind": enum(KINDS, "the option's kind"),
    }
    for site in SITES:
        schema[f"metastases.{site}.count"] = integer(0, 1000, f"number of {site} metastases (0 if none)")
        schema[f"metastases.{site}.resectability"] = enum(
            (*RESECTABLE, "none"), f"resectability of {site} metastases; 'none' when there are none"
        )
    schema["option.components"] = set_of((*drugs, *procedures), "the option's drugs and procedures", option=True)
    schema["option.classes"] = set_of(drug_classes, "drug classes of the option's components", option=True)
    schema["option.resistance_classes"] = set_of(
        resistance_classes, "cross-resistance classes of the option's anticancer drugs", option=True
    )
    schema["option.tags"] = set_of(tags, "tags of the option (e.g. pelvic_radiation)", option=True)
    return schema


def _worst(values: list[str | None]) -> str | None:
    """Least favourable resectability: an unresectable lesion decides even when others are unknown."""
    known = [v for v in values if v is not None]
    if any(v == "unresectable" for v in known):
        return "unresectable"
    if len(known) < len(values):
        return None
    return max(known, key=_RANK.__getitem__) if known else None


def case_facts(case: Case, resistance_class: Mapping[str, str], drug_classes: Mapping[str, tuple[str, ...]]) -> Facts:
    """All facts of one case. `resistance_class` and `drug_classes` come from the vocabulary."""
    b, p, h = case.biomarkers, case.prior, case.health
    f: Facts = {
        "age": case.age,
        "ecog": case.ecog,
        "primary.status": case.primary.status,
        "wants_clinical_trials": case.wants_clinical_trials,
    }
    lr = case.local_recurrence
    symptom_lists = [s for s in (case.primary.symptoms, lr.symptoms if lr else None) if s is not None]
    f["symptoms"] = frozenset(x for s in symptom_lists for x in s) if symptom_lists else None
    f["local_recurrence.present"] = lr is not None
    f["local_recurrence.resectability"] = "none" if lr is None else lr.resectability

    mets = case.metastases
    f["metastases.known"] = mets is not None
    lesion_resectability: list[str | None] = [lr.resectability] if lr is not None else []
    if mets is None:
        for key in ("sites", "site_count", "total_count", "resectability"):
            f[f"metastases.{key}"] = None
        for site in SITES:
            f[f"metastases.{site}.count"] = None
            f[f"metastases.{site}.resectability"] = None
        lesion_resectability.append(None)
    else:
        sites = frozenset(m.site for m in mets)
        f["metastases.sites"] = sites
        f["metastases.site_count"] = len(sites)
        counts = [m.count for m in mets]
        f["metastases.total_count"] = None if None in counts else sum(c for c in counts if c is not None)
        met_res = [m.resectability for m in mets]
        f["metastases.resectability"] = _worst(met_res) if mets else "none"
        lesion_resectability += met_res
        for site in SITES:
            here = [m for m in mets if m.site == site]
            if not here:
                f[f"metastases.{site}.count"] = 0
                f[f"metastases.{site}.resectability"] = "none"
            else:
                site_counts = [m.count for m in here]
                f[f"metastases.{site}.count"] = (
                    None if None in site_counts else sum(c for c in site_counts if c is not None)
                )
                f[f"metastases.{site}.resectability"] = _worst([m.resectability for m in here])
    f["disease.resectability"] = _worst(lesion_resectability)

    f["biomarkers.kras"] = b.kras
    f["biomarkers.nras"] = b.nras
    if "mutant" in (b.kras, b.nras):
        f["biomarkers.ras"] = "mutant"
    elif b.kras == "wild_type" and b.nras == "wild_type":
        f["biomarkers.ras"] = "wild_type"
    else:
        f["biomarkers.ras"] = None
    if b.kras_variant is not None:
        f["biomarkers.kras_g12c"] = b.kras_variant == "G12C"
    else:
        f["biomarkers.kras_g12c"] = False if b.kras == "wild_type" else None
    f["biomarkers.braf"] = b.braf
    f["biomarkers.mmr"] = b.mmr
    f["biomarkers.her2"] = b.her2
    f["biomarkers.ntrk_fusion"] = b.ntrk_fusion
    f["biomarkers.ret_fusion"] = b.ret_fusion

    f["prior.pelvic_radiation"] = p.pelvic_radiation
    lines = p.systemic_lines
    f["prior.systemic_recorded"] = lines is not None
    lines = lines or ()
    f["prior.line_count"] = len(lines)
    agents = frozenset(a for line in lines for a in line.agents)
    progressed = frozenset(a for line in lines if line.stopped_for == "progression" for a in line.agents)
    f["prior.agents"] = agents
    f["prior.progressed_agents"] = progressed
    f["prior.intolerant_agents"] = frozenset(
        a for line in lines if line.stopped_for == "intolerance" for a in line.agents
    )
    f["prior.classes"] = frozenset(c for a in agents for c in drug_classes.get(a, ()))
    f["prior.progressed_classes"] = frozenset(resistance_class[a] for a in progressed if a in resistance_class)
    f["prior.surgeries"] = None if p.surgeries is None else frozenset(p.surgeries)

    f["health.dpyd"] = h.dpyd
    f["health.days_since_major_surgery"] = h.days_since_major_surgery
    f["health.bleeding_risk"] = h.bleeding_risk
    f["health.fit_for_intensive_therapy"] = h.fit_for_intensive_therapy
    return f
