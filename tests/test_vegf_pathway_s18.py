"""Stop 18, review 15 finding 1: regorafenib and fruquintinib under the anti-VEGF safety stops.

Regorafenib (class multikinase_inhibitor) and fruquintinib (vegfr_tki) block the VEGF receptors but were not
`anti_vegf`, and every gate and invariant on recent surgery, bleeding and a bleeding tumour read
`option.classes contains anti_vegf`. With surgery 10 days ago (m01), active bleeding (m07) or a bleeding
pelvic recurrence without the team's judgement (m09), trifluridine/tipiracil + bevacizumab was excluded and
both drugs became "preferred". Now every drug that blocks VEGF or its receptors carries the class
`vegf_pathway` (vocabulary.yaml); the gates `vegfr-tki-*` (gates.yaml) stop the VEGFR inhibitors as the
`anti-vegf-*` gates stop the antibodies, and the invariants range over the class, so `kb verify` proves them
for the inhibitors too. These tests fail on the knowledge before (be440a2): the class is absent there.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from rectoplan import api
from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import load_invariants, option_facts
from rectoplan.kb.loader import load_knowledge
from tests._kb_cases import (
    recorded_health,
    review15_case,
    review15_liver_and_lung,
    review15_prior,
    review15_two_lines,
)

CLASS = "vegf_pathway"
# Drugs known to block VEGF or its receptors (bevacizumab, aflibercept: VEGF; ramucirumab: VEGFR2; regorafenib:
# VEGFR1-3 among other kinases; fruquintinib: VEGFR1-3).
KNOWN_VEGF_DRUGS = {"bevacizumab", "aflibercept", "ramucirumab", "regorafenib", "fruquintinib"}
TKIS = ("regorafenib", "fruquintinib")
# Each safety topic: the gates of which one must be bound to every option with a drug of the class.
GATE_TOPICS = {
    "recent surgery": {"anti-vegf-recent-surgery", "vegfr-tki-recent-surgery"},
    "bleeding": {"anti-vegf-bleeding", "vegfr-tki-bleeding"},
    "bleeding tumour": {"anti-vegf-bleeding-tumour", "vegfr-tki-bleeding-tumour"},
}
CLASS_INVARIANTS = (
    "anti-vegf-not-within-28-days-of-surgery",
    "anti-vegf-not-with-bleeding",
    "vegf-pathway-not-with-unjudged-bleeding-tumour",
    "anti-vegf-not-preferred-after-arterial-thrombosis",
)
SURGERY = "Major surgery less than 28 days ago: regorafenib and fruquintinib block the VEGF receptors"
BLEEDING = "Active bleeding or high bleeding risk: regorafenib and fruquintinib can cause serious"
TUMOUR = "The tumour is recorded as bleeding and the care team's judgement of that bleeding is not recorded"
CONFIRM_SURGERY = "Confirm at least 28 days since any major surgery and a fully healed wound before regorafenib"
CONFIRM_BLEEDING = "Confirm there is no active bleeding or high bleeding risk before regorafenib or fruquintinib."

# Review 15's m07-3rd-line-bleeding-risk, as given (third line after FOLFOX-bev and FOLFIRI-bev, KRAS G12D).
M07: dict[str, Any] = review15_case(
    "m07-3rd-line-bleeding-risk",
    "2025-02-15",
    metastases=review15_liver_and_lung(),
    prior=review15_prior(review15_two_lines()),
    health=recorded_health(bleeding_risk=True),
)


def _m07(**health: Any) -> dict[str, Any]:
    case = copy.deepcopy(M07)
    for key, value in health.items():
        if value is None:
            del case["health"][key]
        else:
            case["health"][key] = value
    return case


def _m01() -> dict[str, Any]:
    """Review 15's m01-3rd-line-surgery-10d: m07 with no bleeding risk and surgery 10 days ago."""
    case = _m07(bleeding_risk=False, days_since_major_surgery=10)
    case["id"] = "m01-3rd-line-surgery-10d"
    return case


def _m09(bleeding_risk: bool | None = None) -> dict[str, Any]:
    """Review 15's m09-3rd-line-lr-bleeding-unjudged: a bleeding pelvic recurrence, bleeding_risk not recorded."""
    case = _m07(bleeding_risk=bleeding_risk)
    case["id"] = "m09-3rd-line-lr-bleeding-unjudged"
    case["local_recurrence"] = {"resectability": "unresectable", "symptoms": ["bleeding"]}
    return case


def _result(case: dict[str, Any], kb: KnowledgeBase) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    result = recommend(case, kb).to_dict()
    offered = {o["id"]: o for o in result["options"]}
    excluded = {e["id"]: " ".join(e["reasons"]) for e in result["excluded"]}
    return offered, excluded


# --- the class: every VEGF(R) drug, under every gate and invariant meant for it ----------------------------------


def test_every_vegf_or_vegfr_drug_carries_the_class(kb: KnowledgeBase) -> None:
    drugs = kb.vocabulary.drugs
    in_class = {d.id for d in drugs.values() if CLASS in d.classes}
    assert in_class >= KNOWN_VEGF_DRUGS
    # a new anti-VEGF antibody or VEGFR tyrosine-kinase inhibitor must join the class too
    assert {d.id for d in drugs.values() if {"anti_vegf", "vegfr_tki"} & set(d.classes)} <= in_class
    assert {"anti_vegf", "multikinase_inhibitor", "vegfr_tki"} <= {c for d in in_class for c in drugs[d].classes}


def test_every_option_with_a_class_drug_is_under_each_safety_gate(kb: KnowledgeBase) -> None:
    class_drugs = {d.id for d in kb.vocabulary.drugs.values() if CLASS in d.classes}
    options = [o for o in kb.options if class_drugs & set(o.components)]
    assert {c for o in options for c in o.components} >= KNOWN_VEGF_DRUGS  # every drug is in some option
    for option in options:
        bound = {g.id for g in option.gates}
        for topic, gates in GATE_TOPICS.items():
            assert bound & gates, f"{option.id} escapes every {topic} gate"


def test_every_option_with_a_class_drug_is_under_each_class_invariant(kb: KnowledgeBase) -> None:
    invariants = {inv.id: inv for inv in load_invariants(kb)}
    class_drugs = {d.id for d in kb.vocabulary.drugs.values() if CLASS in d.classes}
    for option in (o for o in kb.options if class_drugs & set(o.components)):
        for ident in CLASS_INVARIANTS:
            assert invariants[ident].bound(option_facts(option, kb)) is not None, (ident, option.id)


def test_the_inhibitors_gates_leave_the_antibodies_to_their_own(kb: KnowledgeBase) -> None:
    tki_gates = {g for gates in GATE_TOPICS.values() for g in gates if g.startswith("vegfr-tki-")}
    for option in kb.options:
        bound = {g.id for g in option.gates}
        assert bool(bound & tki_gates) == (option.id in TKIS), option.id


# --- review 15's cases --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "reason"),
    [(_m01, SURGERY), (lambda: _m07(), BLEEDING), (lambda: _m09(), TUMOUR)],
    ids=["m01-surgery-10d", "m07-bleeding-risk", "m09-bleeding-unjudged"],
)
def test_review_cases_exclude_the_inhibitors_with_the_bevacizumab_regimen(
    kb: KnowledgeBase, build: Any, reason: str
) -> None:
    offered, excluded = _result(build(), kb)
    for tki in TKIS:
        assert tki not in offered
        assert reason in excluded[tki], (tki, excluded.get(tki))
    assert "trifluridine-tipiracil-bevacizumab" in excluded
    assert "trifluridine-tipiracil" in offered  # the chemotherapy without a VEGF(R) drug stays


def test_m09_bleeding_judged_not_active_lists_the_inhibitors_again(kb: KnowledgeBase) -> None:
    offered, excluded = _result(_m09(bleeding_risk=False), kb)
    assert set(TKIS) <= offered.keys()
    assert not any(TUMOUR in excluded.get(tki, "") for tki in TKIS)
    for tki in TKIS:  # with the inhibitors' own bleeding warning (cautions.yaml vegfr-tki-bleeding-tumour-warning)
        assert any(w.startswith("The tumour is recorded as bleeding, while") for w in offered[tki]["warnings"])


@pytest.mark.parametrize("days", [28, 29, 400])
def test_surgery_28_days_or_more_ago_does_not_exclude(kb: KnowledgeBase, days: int) -> None:
    offered, excluded = _result(_m07(bleeding_risk=False, days_since_major_surgery=days), kb)
    assert set(TKIS) <= offered.keys(), excluded
    for tki in TKIS:
        assert not any(w.startswith(("Major surgery", "Confirm at least 28")) for w in offered[tki]["warnings"])


def test_surgery_27_days_ago_still_excludes(kb: KnowledgeBase) -> None:
    _, excluded = _result(_m07(bleeding_risk=False, days_since_major_surgery=27), kb)
    assert all(SURGERY in excluded[tki] for tki in TKIS)


def test_no_bleeding_offers_the_inhibitors_without_a_bleeding_word(kb: KnowledgeBase) -> None:
    offered, _ = _result(_m07(bleeding_risk=False), kb)
    for tki in TKIS:
        assert not any("bleeding" in w.lower() for w in offered[tki]["warnings"]), offered[tki]["warnings"]


def test_unrecorded_surgery_and_bleeding_warn_on_the_inhibitors(kb: KnowledgeBase) -> None:
    offered, _ = _result(_m07(bleeding_risk=None, days_since_major_surgery=None), kb)
    for tki in TKIS:
        warnings = offered[tki]["warnings"]
        assert any(w.startswith(CONFIRM_SURGERY) for w in warnings), warnings
        assert CONFIRM_BLEEDING in warnings


# --- kb verify: the invariants fail when the inhibitors' gates lose the class --------------------------------------


def test_invariants_are_violated_when_the_gates_lose_the_class(tmp_path: Path) -> None:
    pytest.importorskip("z3")
    from rectoplan.verify.prove import prove

    root = tmp_path / "knowledge"
    shutil.copytree(Path(api.__file__).parent / "knowledge", root)
    gates = root / "gates.yaml"
    text = gates.read_text(encoding="utf-8")
    planted = (
        "      - {fact: option.classes, contains: vegf_pathway}\n"
        "      - {not: {fact: option.classes, contains: anti_vegf}}"
    )
    assert text.count(planted) == 1, "the planted edit no longer matches gates.yaml: update the test"
    # the inhibitors' gates read the old classes again (anti_vegf only): regorafenib and fruquintinib escape
    gates.write_text(text.replace(planted, "      - {fact: option.classes, contains: anti_vegf}"), encoding="utf-8")
    kb = load_knowledge(root)
    wanted = set(CLASS_INVARIANTS[:3])
    invariants = tuple(inv for inv in load_invariants(kb, root / "invariants.yaml") if inv.id in wanted)
    report = prove(kb, invariants, shrink=False)
    verdicts = {r.invariant.id: (r.verdict, r.option) for r in report.results}
    assert {ident for ident, (verdict, _) in verdicts.items() if verdict == "violated"} == wanted, verdicts
    assert {option for _, option in verdicts.values()} <= set(TKIS)
