"""Flatten a `Case` into named facts, the only thing rules can read.

`None` is *unknown*. Where contract 1 makes absence meaningful, the fact says so explicitly: an absent
local recurrence gives `local_recurrence.present = false` and `local_recurrence.resectability = "none"`,
while absent metastases leave every metastasis fact unknown. Each derivation below is mirrored by the
cohort compiler and the verifier, so keep them simple and documented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    Biomarkers,
    Case,
    LocalRecurrence,
    Metastasis,
    SystemicLine,
)
from rectoplan.core.fields import DECLARED, DeclaredField
from rectoplan.core.knowledge import Drug
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
    """The schema for one knowledge base (its vocabulary fixes the domains of sets).

    Long by design: the fact table itself, one entry per fact."""
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
            (*RESECTABLE, "none"),
            "least favourable resectability over all metastases; 'none' when there are none",
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
        "prior.ongoing_line": boolean(
            "the last line for advanced disease is still being given (unknown when no lines are recorded)"
        ),
        "prior.surgeries": set_of(procedures, "operations already done"),
        "health.dpyd": enum(_known(DPYD_STATUS), "DPYD metaboliser phenotype"),
        "health.days_since_major_surgery": integer(0, 36500, "days since the last major operation"),
        "health.bleeding_risk": boolean("active bleeding or high bleeding risk"),
        "health.fit_for_intensive_therapy": boolean("clinician judges the patient fit for intensive therapy"),
        "wants_clinical_trials": boolean("the patient wishes to hear about clinical trials"),
        "plan.intent": enum(INTENTS, "decided by the intent rules of the knowledge base"),
        "option.id": FactType("enum", option_ids, doc="the option under evaluation", option=True),
        "option.kind": FactType("enum", KINDS, doc="the option's kind", option=True),
    }
    for declared in DECLARED:
        schema[declared.fact] = declared_type(declared)
    for site in SITES:
        schema[f"metastases.{site}.largest_mm"] = integer(
            0, 300, f"largest {site} metastasis in mm (0 if none; unknown if any entry lacks it)"
        )
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


def declared_type(f: DeclaredField) -> FactType:
    """The fact type of a declared case field (`rectoplan.core.fields`)."""
    if f.kind == "int":
        return integer(f.low, f.high, f.doc)
    if f.kind == "bool":
        return boolean(f.doc)
    return enum(f.values, f.doc)


_NO_DECLARED = {f.fact: None for f in DECLARED}


def option_facts(
    option_id: str, kind: str, components: Sequence[str], tags: Sequence[str], drugs: Mapping[str, Drug]
) -> Facts:
    """The `option.*` facts of one option: the loader binds them into its conditions, the verifier into
    the invariants, so both must read them from here."""
    here = [drugs[c] for c in components if c in drugs]
    return {
        "option.id": option_id,
        "option.kind": kind,
        "option.components": frozenset(components),
        "option.classes": frozenset(c for d in here for c in d.classes),
        "option.resistance_classes": frozenset(d.resistance_class for d in here if d.resistance_class),
        "option.tags": frozenset(tags),
    }


def _worst(values: list[str | None]) -> str | None:
    """Least favourable resectability: an unresectable lesion decides even when others are unknown."""
    known = [v for v in values if v is not None]
    if any(v == "unresectable" for v in known):
        return "unresectable"
    if len(known) < len(values):
        return None
    return max(known, key=_RANK.__getitem__) if known else None


_EMPTY: frozenset[str] = frozenset()
_NO_SITE = (
    {f"metastases.{site}.count": 0 for site in SITES}
    | {f"metastases.{site}.resectability": "none" for site in SITES}
    | {f"metastases.{site}.largest_mm": 0 for site in SITES}
)
_UNKNOWN_METS = {
    f"metastases.{site}.{key}": None for site in SITES for key in ("count", "resectability", "largest_mm")
} | {
    "metastases.sites": None,
    "metastases.site_count": None,
    "metastases.total_count": None,
    "metastases.resectability": None,
}


def case_facts(case: Case, resistance_class: Mapping[str, str], drug_classes: Mapping[str, tuple[str, ...]]) -> Facts:
    """All facts of one case. `resistance_class` and `drug_classes` come from the vocabulary.

    Written for speed (it runs once per case on the engine's hot path) but mirrors the schema's
    documentation line by line; `tests/test_facts.py` pins each derivation. What-if re-derives only the
    facts of the part of the case a probe changes, with the same functions (`part_facts`)."""
    p, h = case.prior, case.health
    f: Facts = {
        "age": case.age,
        "ecog": case.ecog,
        "primary.status": case.primary.status,
        "wants_clinical_trials": case.wants_clinical_trials,
        "symptoms": _symptoms(case),
        "prior.pelvic_radiation": p.pelvic_radiation,
        "prior.surgeries": None if p.surgeries is None else frozenset(p.surgeries),
        "health.dpyd": h.dpyd,
        "health.days_since_major_surgery": h.days_since_major_surgery,
        "health.bleeding_risk": h.bleeding_risk,
        "health.fit_for_intensive_therapy": h.fit_for_intensive_therapy,
    }
    f.update(biomarker_facts(case.biomarkers))
    f.update(line_facts(p.systemic_lines, resistance_class, drug_classes))
    f.update(_NO_DECLARED)
    if case.declared:
        f.update(case.declared)
    f.update(lesion_facts(case.local_recurrence, case.metastases))
    return f


def _symptoms(case: Case) -> frozenset[str] | None:
    return _symptom_union(case.primary.symptoms, case.local_recurrence)


def _symptom_union(primary_symptoms: tuple[str, ...] | None, lr: LocalRecurrence | None) -> frozenset[str] | None:
    """Union of the primary's and the local recurrence's symptoms; unknown if neither lists any."""
    lr_symptoms = lr.symptoms if lr is not None else None
    if primary_symptoms is None and lr_symptoms is None:
        return None
    return frozenset((primary_symptoms or ()) + (lr_symptoms or ()))


def biomarker_facts(b: Biomarkers) -> Facts:
    """The biomarker facts, RAS and KRAS G12C derived from KRAS, NRAS and the (canonical) variant."""
    kras, nras = b.kras, b.nras
    if kras == "mutant" or nras == "mutant":
        ras = "mutant"
    elif kras == "wild_type" and nras == "wild_type":
        ras = "wild_type"
    else:
        ras = None
    variant = b.kras_variant  # canonical at the edge (`rectoplan.adapters.variants`)
    g12c = (variant == "G12C") if variant is not None else (False if kras == "wild_type" else None)
    return {
        "biomarkers.kras": kras,
        "biomarkers.nras": nras,
        "biomarkers.ras": ras,
        "biomarkers.kras_g12c": g12c,
        "biomarkers.braf": b.braf,
        "biomarkers.mmr": b.mmr,
        "biomarkers.her2": b.her2,
        "biomarkers.ntrk_fusion": b.ntrk_fusion,
        "biomarkers.ret_fusion": b.ret_fusion,
    }


def line_facts(
    lines: tuple[SystemicLine, ...] | None,
    resistance_class: Mapping[str, str],
    drug_classes: Mapping[str, tuple[str, ...]],
) -> Facts:
    """The facts of the lines for advanced disease: count, agents, classes, what progressed, ongoing."""
    agents: frozenset[str] = _EMPTY
    progressed: frozenset[str] = _EMPTY
    intolerant: frozenset[str] = _EMPTY
    if lines:
        agents = frozenset(a for line in lines for a in line.agents)
        progressed = frozenset(a for line in lines for a in line.progressed_agents)
        intolerant = frozenset(a for line in lines if line.stopped_for == "intolerance" for a in line.agents)
    return {
        "prior.systemic_recorded": lines is not None,
        "prior.ongoing_line": None if lines is None else bool(lines) and lines[-1].stopped_for == "ongoing",
        "prior.line_count": len(lines) if lines else 0,
        "prior.agents": agents,
        "prior.progressed_agents": progressed,
        "prior.intolerant_agents": intolerant,
        "prior.classes": frozenset(c for a in agents for c in drug_classes.get(a, ())) if agents else _EMPTY,
        "prior.progressed_classes": (
            frozenset(resistance_class[a] for a in progressed if a in resistance_class) if progressed else _EMPTY
        ),
    }


def lesion_facts(lr: LocalRecurrence | None, mets: tuple[Metastasis, ...] | None) -> Facts:
    """The facts of the local recurrence and the metastases, and the resectability of the disease."""
    f: Facts = {
        "local_recurrence.present": lr is not None,
        "local_recurrence.resectability": "none" if lr is None else lr.resectability,
        "metastases.known": mets is not None,
    }
    lesions: list[str | None] = [lr.resectability] if lr is not None else []
    if mets is None:
        f.update(_UNKNOWN_METS)
        lesions.append(None)
    else:
        f.update(_NO_SITE)
        sites: dict[str, list[Metastasis]] = {}
        for m in mets:
            sites.setdefault(m.site, []).append(m)
        total: int | None = 0
        met_res: list[str | None] = []
        for site, here in sites.items():
            counts = [m.count for m in here]
            site_count = None if None in counts else sum(c for c in counts if c is not None)
            f[f"metastases.{site}.count"] = site_count
            sizes = [m.largest_mm for m in here]
            f[f"metastases.{site}.largest_mm"] = None if None in sizes else max(s for s in sizes if s is not None)
            res = [m.resectability for m in here]
            f[f"metastases.{site}.resectability"] = _worst(res)
            met_res += res
            total = None if total is None or site_count is None else total + site_count
        f["metastases.sites"] = frozenset(sites)
        f["metastases.site_count"] = len(sites)
        f["metastases.total_count"] = total
        f["metastases.resectability"] = _worst(met_res) if mets else "none"
        lesions += met_res
    f["disease.resectability"] = _worst(lesions)
    return f


def part_facts(
    case: Case,
    part: str,
    value: Any,
    resistance_class: Mapping[str, str],
    drug_classes: Mapping[str, tuple[str, ...]],
) -> Facts:
    """The facts derived from one attribute `part` of the case, were it `value` (the rest as in `case`).

    What-if changes one part of a case per probe and re-derives only its facts this way;
    `tests/test_engine_speed_whatif.py` checks that this equals `case_facts` of the changed case."""
    if part == "biomarkers":
        return biomarker_facts(value)
    if part == "metastases":
        return lesion_facts(case.local_recurrence, value)
    if part == "local_recurrence":
        return {"symptoms": _symptom_union(case.primary.symptoms, value), **lesion_facts(value, case.metastases)}
    if part == "primary":
        return {"primary.status": value.status, "symptoms": _symptom_union(value.symptoms, case.local_recurrence)}
    if part == "prior":
        return {
            "prior.pelvic_radiation": value.pelvic_radiation,
            "prior.surgeries": None if value.surgeries is None else frozenset(value.surgeries),
            **line_facts(value.systemic_lines, resistance_class, drug_classes),
        }
    raise ValueError(f"no derivation of the facts of part {part!r} alone")
