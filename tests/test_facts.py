"""Each derived fact, pinned: unknown stays unknown, absence means what contract 1 says it means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.facts import case_facts
from rectoplan.core.knowledge import KnowledgeBase


def facts(make_case: Callable[..., Case], kb: KnowledgeBase, **changes: Any) -> dict[str, Any]:
    return case_facts(make_case(**changes), kb.resistance_class, kb.drug_classes)


def test_every_fact_of_the_schema_is_derived(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    derived = set(facts(make_case, kb))
    case_schema = {name for name, t in kb.schema.items() if not t.option and name != "plan.intent"}
    assert derived == case_schema


def test_ras_combines_kras_and_nras(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    def ras(kras: str | None, nras: str | None) -> Any:
        return facts(make_case, kb, biomarkers={"kras": kras, "nras": nras})["biomarkers.ras"]

    assert ras("wild_type", "wild_type") == "wild_type"
    assert ras("mutant", None) == "mutant"
    assert ras(None, "mutant") == "mutant"
    assert ras("wild_type", None) is None
    assert ras("wild_type", "unknown") is None


def test_kras_g12c(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    def g12c(**b: Any) -> Any:
        return facts(make_case, kb, biomarkers=b)["biomarkers.kras_g12c"]

    assert g12c(kras="mutant", kras_variant="g12c ") is True  # normalised at the edge
    assert g12c(kras="mutant", kras_variant="G12D") is False
    assert g12c(kras="mutant", kras_variant=None) is None
    assert g12c(kras="wild_type") is False
    assert g12c(kras=None) is None


def test_absent_metastases_are_unknown_but_empty_means_none(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    recurrence = {"primary": {"status": "resected"}, "local_recurrence": {"resectability": "resectable"}}
    unknown = facts(make_case, kb, metastases=None, **recurrence)
    assert unknown["metastases.known"] is False
    assert unknown["metastases.sites"] is None and unknown["metastases.liver.count"] is None
    assert unknown["disease.resectability"] is None  # the resectable recurrence does not make it resectable
    none = facts(make_case, kb, metastases=[], **recurrence)
    assert none["metastases.sites"] == frozenset() and none["metastases.liver.resectability"] == "none"
    assert none["metastases.resectability"] == "none" and none["disease.resectability"] == "resectable"


def test_resectability_takes_the_least_favourable_lesion(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    def disease(*values: str | None) -> Any:
        mets = [{"site": s, "resectability": v} for s, v in zip(("liver", "lung", "bone"), values, strict=False)]
        mets = [{k: v for k, v in m.items() if v is not None} for m in mets]
        return facts(make_case, kb, metastases=mets)["disease.resectability"]

    assert disease("resectable", "resectable") == "resectable"
    assert disease("resectable", "potentially_resectable") == "potentially_resectable"
    assert disease("resectable", None) is None
    assert disease(None, "unresectable") == "unresectable"  # decided even with an unknown lesion
    assert disease("unknown", "resectable") is None


def test_counts_and_sites(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    f = facts(make_case, kb, metastases=[{"site": "liver", "count": 3}, {"site": "lung", "count": 2}])
    assert f["metastases.sites"] == {"liver", "lung"} and f["metastases.site_count"] == 2
    assert f["metastases.total_count"] == 5 and f["metastases.liver.count"] == 3 and f["metastases.bone.count"] == 0
    g = facts(make_case, kb, metastases=[{"site": "liver", "count": 3}, {"site": "lung"}])
    assert g["metastases.total_count"] is None and g["metastases.lung.count"] is None


def test_prior_lines(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    lines = [
        {"agents": ["capecitabine", "oxaliplatin"], "stopped_for": "progression"},
        {"agents": ["irinotecan", "cetuximab"], "stopped_for": "intolerance"},
    ]
    f = facts(make_case, kb, prior={"systemic_lines": lines})
    assert f["prior.line_count"] == 2 and f["prior.systemic_recorded"] is True
    assert f["prior.progressed_agents"] == {"capecitabine", "oxaliplatin"}
    assert f["prior.intolerant_agents"] == {"irinotecan", "cetuximab"}
    assert f["prior.progressed_classes"] == {"fluoropyrimidine", "platinum"}
    assert {"fluoropyrimidine", "platinum", "topoisomerase_i_inhibitor", "anti_egfr"} <= f["prior.classes"]
    absent = facts(make_case, kb, prior={"systemic_lines": None})
    assert absent["prior.systemic_recorded"] is False and absent["prior.line_count"] == 0


def test_symptoms_union_and_unknown(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    both = facts(
        make_case,
        kb,
        primary={"status": "resected", "symptoms": ["pain"]},
        local_recurrence={"resectability": "unresectable", "symptoms": ["bleeding"]},
    )
    assert both["symptoms"] == {"pain", "bleeding"}
    assert facts(make_case, kb, primary={"symptoms": None})["symptoms"] is None
    assert facts(make_case, kb)["local_recurrence.resectability"] == "none"
