"""Safety invariants of issue 2, checked over generated cases (hypothesis).

Each property states what must hold for every offered option, whatever the knowledge files say; a
knowledge change that breaks one fails here with a shrunk counterexample.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from rectoplan.adapters.variants import canonical_variant
from rectoplan.api import validate_case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from rectoplan.kb.loader import default_knowledge
from tests.strategies import cases

KB: KnowledgeBase = default_knowledge()
ANTI_EGFR = {"cetuximab", "panitumumab"}
CHECKPOINT = {"pembrolizumab", "nivolumab", "ipilimumab", "dostarlimab"}
ANTI_VEGF = {"bevacizumab", "ramucirumab", "aflibercept"}
TARGETED = {d.id for d in KB.vocabulary.drugs.values() if "targeted" in d.classes}
FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(data: dict[str, Any]) -> tuple[Recommendation, dict[str, Any]]:
    case = validate_case(data, KB)
    return recommend(case, KB, what_if=False), data


@FAST
@given(cases())
def test_anti_egfr_only_when_safe(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    b = data.get("biomarkers", {})
    for option in rec.options:
        parts = set(option.components)
        if not parts & ANTI_EGFR:
            continue
        ras_wt = b.get("kras") == "wild_type" and b.get("nras") == "wild_type"
        # HER2 positivity is a relative reason against (never preferred, with a warning), not an exclusion
        her2_ok = b.get("her2") != "positive" or option.strength != "preferred"
        plain_ok = ras_wt and b.get("braf") in ("wild_type", "other_mutation") and her2_ok
        braf_ok = "encorafenib" in parts and b.get("braf") == "v600e"
        g12c_ok = bool(parts & {"sotorasib", "adagrasib"}) and canonical_variant(b.get("kras_variant", "")) == "G12C"
        assert plain_ok or braf_ok or g12c_ok, (option.id, b)


@FAST
@given(cases())
def test_checkpoint_inhibitors_only_for_dmmr(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    for option in rec.options:
        if set(option.components) & CHECKPOINT:
            assert data.get("biomarkers", {}).get("mmr") == "dmmr_msi_h", option.id


@FAST
@given(cases())
def test_no_anti_vegf_within_28_days_of_surgery(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    days = data.get("health", {}).get("days_since_major_surgery")
    for option in rec.options:
        if set(option.components) & ANTI_VEGF:
            assert days is None or days >= 28, (option.id, days)
            if days is None:
                assert any("28 days" in w for w in option.warnings), option.id


@FAST
@given(cases())
def test_pelvic_radiation_after_prior_pelvic_radiation_always_warned(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    prior = data.get("prior", {}).get("pelvic_radiation")
    for option in rec.options:
        tags = set(KB.option(option.id).tags)
        if "pelvic_radiation" in tags and prior is not False:
            assert option.warnings, option.id
            assert any("pelvi" in w.lower() for w in option.warnings), option.id


@FAST
@given(cases())
def test_no_targeted_therapy_when_curative(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    if rec.intent == "curative":
        for option in rec.options:
            assert not set(option.components) & TARGETED, option.id


@FAST
@given(cases())
def test_ranks_sources_and_structure(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    assert [o.rank for o in rec.options] == list(range(1, len(rec.options) + 1))
    assert len({o.id for o in rec.options}) == len(rec.options)
    offered = {o.id for o in rec.options}
    assert not offered & {e.id for e in rec.excluded}
    for item in (*rec.options, *rec.excluded):
        assert item.sources, item.id
    for e in rec.excluded:
        assert e.reasons, e.id
    order = {"preferred": 0, "alternative": 1, "consider": 2}
    strengths = [order[o.strength] for o in rec.options]
    assert strengths == sorted(strengths)


@FAST
@given(cases())
def test_unknown_biomarkers_request_tests(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    b = data.get("biomarkers", {})
    tests = {t.test for t in rec.tests_needed}
    if b.get("mmr", "unknown") == "unknown":
        assert "mmr" in tests
    if "unknown" in (b.get("kras", "unknown"), b.get("nras", "unknown")) and "mutant" not in (
        b.get("kras"),
        b.get("nras"),
    ):
        assert "ras" in tests
    for e in rec.excluded:
        if e.held:
            assert e.id not in {o.id for o in rec.options}


@FAST
@given(cases())
def test_no_fluoropyrimidine_for_dpyd_poor(data: dict[str, Any]) -> None:
    rec, _ = run(data)
    if data.get("health", {}).get("dpyd") == "poor":
        for option in rec.options:
            if option.kind in ("systemic", "chemoradiation"):
                assert not set(option.components) & {"fluorouracil", "capecitabine"}, option.id


@FAST
@given(cases())
def test_deterministic(data: dict[str, Any]) -> None:
    first, _ = run(data)
    second, _ = run(data)
    assert first.to_dict() == second.to_dict()
