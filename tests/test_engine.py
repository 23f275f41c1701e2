"""Engine behaviour that does not depend on any single option: intent, holds, tests, ranking, purity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.engine import assess, recommend
from rectoplan.core.knowledge import KnowledgeBase


def test_intent_follows_resectability(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    def intent(**changes: Any) -> str:
        return recommend(make_case(**changes), kb, what_if=False).intent_rule + "]"

    liver = lambda r: [{"site": "liver", "count": 2, "resectability": r}]  # noqa: E731
    assert intent(metastases=liver("resectable")) == "intent-curative]"
    assert intent(metastases=liver("potentially_resectable")) == "intent-conversion]"
    assert intent(metastases=liver("unresectable")) == "intent-palliative]"
    assert intent(metastases=liver("unknown")) == "intent-undetermined]"
    mixed = [
        {"site": "liver", "resectability": "resectable"},
        {"site": "lung", "resectability": "unresectable"},
    ]
    assert intent(metastases=mixed) == "intent-palliative]"


def test_unknown_distant_staging_is_never_curative(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    case = make_case(primary={"status": "resected"}, metastases=None, local_recurrence={"resectability": "resectable"})
    rec = recommend(case, kb, what_if=False)
    assert rec.intent != "curative"
    assert "distant_staging" in {t.test for t in rec.tests_needed}


def test_unknown_biomarker_holds_dependent_options_and_requests_the_test(
    make_case: Callable[..., Case], kb: KnowledgeBase
) -> None:
    known = assess(make_case(), kb)
    unknown = assess(make_case(biomarkers={"kras": None}), kb)
    held = {o.option.id for o in unknown.outcomes if o.status == "held"}
    offered_before = {o.option.id for o in known.outcomes if o.status == "offered"}
    anti_egfr = {
        o.id
        for o in kb.options
        if "anti_egfr" in {c for d in o.components for c in kb.vocabulary.drugs.get(d, _NONE).classes}
    }
    # every anti-EGFR option offered when RAS was known wild-type is held, never offered, when KRAS is unknown
    for option_id in offered_before & anti_egfr:
        assert option_id in held
    rec = recommend(make_case(biomarkers={"kras": None}), kb, what_if=False)
    assert "ras" in {t.test for t in rec.tests_needed}
    assert all(e.held for e in rec.excluded if e.id in held)


class _NoDrug:
    classes: tuple[str, ...] = ()


_NONE: Any = _NoDrug()


def test_fully_characterised_case_needs_no_molecular_test(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    tests = {t.test for t in recommend(make_case(), kb, what_if=False).tests_needed}
    assert not tests & {"ras", "braf", "mmr", "her2", "ntrk", "ret", "dpyd", "liquid_biopsy"}


def test_summary_names_the_top_option_and_the_intent(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    rec = recommend(make_case(), kb, what_if=False)
    assert rec.options, "a characterised metastatic case must get options"
    assert rec.summary.startswith("Palliative intent, first line: " + rec.options[0].title)
    assert rec.disclaimer and "care team" in rec.disclaimer


def test_every_option_explains_itself_to_clinician_and_patient(
    make_case: Callable[..., Case], kb: KnowledgeBase
) -> None:
    rec = recommend(make_case(), kb, what_if=False)
    for option in rec.options:
        assert option.trace["setting"] == option.setting and option.setting not in " ".join(option.rationale)
        assert option.trace["rank"] == option.rank and "priority" not in " ".join(option.rationale)
        assert len(option.patient_explanation) > 30
    data = rec.to_dict()
    assert data["format"] == "rectoplan.recommendation/1" and data["knowledge_version"] == kb.version


def test_progression_on_a_regimen_excludes_it(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    lines = [{"agents": ["fluorouracil", "leucovorin", "oxaliplatin"], "stopped_for": "progression"}]
    rec = recommend(make_case(prior={"systemic_lines": lines}), kb, what_if=False)
    for option in rec.options:
        classes = {kb.resistance_class[d] for d in option.components if d in kb.resistance_class}
        assert not (option.kind == "systemic" and classes and classes <= {"fluoropyrimidine", "platinum"}), option.id
    repeat = [e for e in rec.excluded if "no-repeat-after-progression" in e.rules]
    assert repeat, "a regimen that failed by progression must be listed as excluded"


def test_warn_gates_offer_with_a_warning(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    rec = recommend(make_case(health={"days_since_major_surgery": None}), kb, what_if=False)
    bev = [o for o in rec.options if "bevacizumab" in o.components]
    assert bev, "bevacizumab options stay offered when the surgery date is unknown"
    assert all(any("28 days" in w for w in o.warnings) for o in bev)
    recent = recommend(make_case(health={"days_since_major_surgery": 10}), kb, what_if=False)
    assert not [o for o in recent.options if "bevacizumab" in o.components]
    assert any("anti-vegf-recent-surgery" in e.rules for e in recent.excluded)


def test_repeat_gate_covers_every_systemic_option_with_a_resistance_class(kb: KnowledgeBase) -> None:
    """The gate lists the resistance classes it applies to; a class added to the vocabulary must be added there.
    Anti-EGFR rechallenge is the deliberate exception: it is given again after progression, under its own gates."""
    for option in kb.options:
        classes = {kb.resistance_class[c] for c in option.components if c in kb.resistance_class}
        has_gate = any(g.id == "no-repeat-after-progression" for g in option.gates)
        rechallenge = "anti_egfr_rechallenge" in option.tags
        assert has_gate == (option.kind == "systemic" and bool(classes) and not rechallenge), option.id


def test_rank_line_reads_naturally_for_options_of_any_phase(make_case: Callable[..., Case], kb: KnowledgeBase) -> None:
    """Ranking details (strength, priority, rules) are in the trace, not in the clinician's rationale."""
    rec = recommend(make_case(), kb, what_if=False)
    assert all({"strength", "priority", "rules", "facts_used"} <= set(o.trace) for o in rec.options)
    assert not [o for o in rec.options for line in o.rationale if line.startswith(("Ranked ", "Facts used"))]
