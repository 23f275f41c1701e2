"""The shortcuts that make 'what would change' fast give exactly what the slow way gives.

Each probe's facts come from patching one fact or re-deriving one part of the case; each touched option
is re-decided by a compiled decider. Both are compared here with the full derivation and the engine.
"""

from __future__ import annotations

from rectoplan.api import validate_case
from rectoplan.core._whatif_index import whatif_index
from rectoplan.core.engine import assess_option, facts_with_intent
from rectoplan.core.facts import case_facts
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.whatif import probe_facts, probes
from rectoplan.synthetic import random_cases, registry_cases

PARTS = ("biomarkers", "metastases", "local_recurrence", "primary", "prior")


def test_probe_facts_equal_the_facts_of_the_changed_case(kb: KnowledgeBase) -> None:
    groups: set[str] = set()
    for data in [*random_cases(150, 41), *registry_cases(100, 42)]:
        case = validate_case(data, kb)
        base, intent = facts_with_intent(case, kb)
        for probe in probes(case, kb):
            facts, changed = probe_facts(probe, base, intent.intent, kb)
            full = case_facts(probe.case, kb.resistance_class, kb.drug_classes)
            full["plan.intent"] = intent.intent
            assert facts == full, (data["id"], probe.condition)
            assert changed == {k for k, v in full.items() if base[k] != v}, (data["id"], probe.condition)
            groups.add(probe.edit[0] if probe.edit is not None else "patch")
    assert groups >= {"patch", *PARTS}  # every derivation of a part alone was exercised


def test_deciders_agree_with_the_engine(kb: KnowledgeBase) -> None:
    deciders = whatif_index(kb).deciders
    offered = 0
    for data in [*random_cases(200, 43), *registry_cases(100, 44)]:
        facts, _ = facts_with_intent(validate_case(data, kb), kb)
        for i, option in enumerate(kb.options):
            outcome = assess_option(option, facts)
            expected = -1
            if outcome.status == "offered":
                expected = next(j for j, s in enumerate(option.settings) if s is outcome.setting)
                offered += 1
            assert deciders[i](facts) == expected, (data["id"], option.id)
    assert offered > 500
