"""Stop 19, review 16 F1 and F2: label "not recommended" and "withhold" become exclusions (gates.yaml).

- F1: with total bilirubin above 3 times the upper limit of normal (severe hepatic impairment), regorafenib,
  fruquintinib and trifluridine/tipiracil (alone or with bevacizumab) are excluded, each with its own label's or
  study's words; best supportive care then comes before every remaining treatment. An unrecorded magnitude
  changes nothing (as for irinotecan): the raised-bilirubin cautions name the threshold.
- F2: with significant proteinuria (2 g or more per 24 h, or nephrotic), every option with bevacizumab,
  ziv-aflibercept, ramucirumab or fruquintinib is excluded (each label withholds its drug there); the doublet
  without the antibody leads. Regorafenib stays offered: its label's proteinuria wording was not found.

Each trigger test fails on the knowledge before this change (main 88d2416); the non-trigger tests pass there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rectoplan import api
from rectoplan.api import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import load_invariants
from rectoplan.kb.loader import load_knowledge
from tests._kb_cases import (
    RARE_RISKS_ABSENT,
    known_health,
    known_panel,
    merged_case,
    progressed_course,
    review13_case,
)

BASE: dict[str, Any] = review13_case(
    "s19-kf1",
    63,
    biomarkers=known_panel(kras="mutant"),
    health=known_health(400, **RARE_RISKS_ABSENT, uncontrolled_hypertension=False, proteinuria=False),
)
FOLFOX_BEV = ["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"]
FOLFIRI_BEV = ["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"]
THIRD_LINE = {
    "courses": [
        progressed_course(FOLFOX_BEV, "2025-06-20", "2026-02-10"),
        progressed_course(FOLFIRI_BEV, "2026-02-25", "2026-11-10"),
    ]
}
SECOND_LINE = {"courses": [progressed_course(FOLFOX_BEV, "2025-06-20", "2026-11-10")]}
REFRACTORY = ("regorafenib", "fruquintinib", "trifluridine-tipiracil", "trifluridine-tipiracil-bevacizumab")
SEVERE_HEPATIC = "Total bilirubin above 3 times the upper limit of normal (severe hepatic impairment)"
PROTEINURIA = "Significant proteinuria (2 g or more per 24 hours, or nephrotic)"
TRIAL_KINDS = ("clinical_trial",)


def _plan(kb: KnowledgeBase, prior: dict[str, Any], **health: Any) -> dict[str, Any]:
    """The JSON plan of BASE with `prior` and the health fields `health` (None removes a field)."""
    case = merged_case(BASE, prior=prior, health={k: v for k, v in health.items() if v is not None})
    for name in [k for k, v in health.items() if v is None]:
        case["health"].pop(name, None)
    return recommend(case, kb).to_dict()


def _offered(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in plan["options"]}


def _excluded(plan: dict[str, Any]) -> dict[str, str]:
    return {e["id"]: " ".join(e["reasons"]) for e in plan["excluded"]}


# --- F1: bilirubin above 3 x ULN --------------------------------------------------------------------------------


def test_refractory_drugs_are_excluded_above_3_uln_with_their_label(kb: KnowledgeBase) -> None:
    plan = _plan(kb, THIRD_LINE, bilirubin_raised=True, bilirubin_over_3_uln=True)
    excluded, offered = _excluded(plan), _offered(plan)
    for oid in REFRACTORY:
        assert oid not in offered
        assert SEVERE_HEPATIC in excluded[oid]
    assert "Stivarga" in excluded["regorafenib"] and "not been studied" in excluded["regorafenib"]
    assert "Fruzaqla" in excluded["fruquintinib"]
    assert "moderate or severe hepatic impairment" in excluded["trifluridine-tipiracil-bevacizumab"]


def test_best_supportive_care_leads_the_remaining_treatments_above_3_uln(kb: KnowledgeBase) -> None:
    plan = _plan(kb, THIRD_LINE, bilirubin_raised=True, bilirubin_over_3_uln=True)
    treatments = [o for o in plan["options"] if o["kind"] not in TRIAL_KINDS]
    assert treatments and treatments[0]["id"] == "best-supportive-care"


def test_the_magnitude_alone_excludes_them(kb: KnowledgeBase) -> None:
    """`bilirubin_over_3_uln: true` without `bilirubin_raised` is enough."""
    excluded = _excluded(_plan(kb, THIRD_LINE, bilirubin_raised=None, bilirubin_over_3_uln=True))
    assert all(SEVERE_HEPATIC in excluded[oid] for oid in REFRACTORY)


def test_raised_but_not_over_3_uln_keeps_them_with_their_cautions(kb: KnowledgeBase) -> None:
    offered = _offered(_plan(kb, THIRD_LINE, bilirubin_raised=True, bilirubin_over_3_uln=False))
    assert set(REFRACTORY) <= set(offered)
    assert "check the value before starting" in " ".join(c["text"] for c in offered["fruquintinib"]["cautions"])


def test_an_unrecorded_magnitude_keeps_them_and_names_the_threshold(kb: KnowledgeBase) -> None:
    offered = _offered(_plan(kb, THIRD_LINE, bilirubin_raised=True, bilirubin_over_3_uln=None))
    assert set(REFRACTORY) <= set(offered)
    regorafenib = " ".join(c["text"] for c in offered["regorafenib"]["cautions"])
    assert "severe hepatic impairment (total bilirubin above 3 times the upper limit of normal)" in regorafenib


def test_normal_bilirubin_keeps_them(kb: KnowledgeBase) -> None:
    plan = _plan(kb, THIRD_LINE, bilirubin_raised=False, bilirubin_over_3_uln=False)
    assert set(REFRACTORY) <= set(_offered(plan))
    assert not any(SEVERE_HEPATIC in r for r in _excluded(plan).values())


# --- F2: significant proteinuria -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prior,oid,label",
    [
        ({}, "folfox-bevacizumab", "bevacizumab (Avastin) label"),
        ({}, "folfiri-bevacizumab", "bevacizumab (Avastin) label"),
        (SECOND_LINE, "folfiri-aflibercept", "ziv-aflibercept (Zaltrap) label"),
        (SECOND_LINE, "folfiri-ramucirumab", "ramucirumab (Cyramza)"),
        (THIRD_LINE, "trifluridine-tipiracil-bevacizumab", "bevacizumab (Avastin) label"),
        (THIRD_LINE, "fruquintinib", "fruquintinib (Fruzaqla) label"),
    ],
)
def test_proteinuria_excludes_the_drugs_whose_label_withholds_them(
    prior: dict[str, Any], oid: str, label: str, kb: KnowledgeBase
) -> None:
    without = _offered(_plan(kb, prior, proteinuria=False))
    assert oid in without  # offered here when proteinuria is absent: the exclusion below is the gate's
    plan = _plan(kb, prior, proteinuria=True)
    assert oid not in _offered(plan)
    reason = _excluded(plan)[oid]
    assert PROTEINURIA in reason and label in reason


@pytest.mark.parametrize("proteinuria", [False, None])
def test_no_or_unrecorded_proteinuria_excludes_nothing(proteinuria: bool | None, kb: KnowledgeBase) -> None:
    for prior in ({}, SECOND_LINE, THIRD_LINE):
        plan = _plan(kb, prior, proteinuria=proteinuria)
        assert not any(PROTEINURIA in r for r in _excluded(plan).values())


def test_first_line_doublet_without_the_antibody_leads_with_proteinuria(kb: KnowledgeBase) -> None:
    plan = _plan(kb, {}, proteinuria=True)
    treatments = [o for o in plan["options"] if o["kind"] not in TRIAL_KINDS]
    assert treatments[0]["id"] in {"folfox", "folfiri", "capox"}
    assert not any("bevacizumab" in o["components"] for o in plan["options"])


def test_regorafenib_stays_offered_with_proteinuria(kb: KnowledgeBase) -> None:
    """The Stivarga label's proteinuria wording was not found: no exclusion is invented for it."""
    assert "regorafenib" in _offered(_plan(kb, THIRD_LINE, proteinuria=True))


# --- the invariants that kb verify proves -----------------------------------------------------------------------

INVARIANTS = ("no-refractory-drug-with-bilirubin-over-3-uln", "no-vegf-drug-withheld-for-proteinuria-offered")
# Each planted edit narrows one gate to miss one option; kb verify must then find that option offered.
NARROWED = {
    "no-refractory-drug-with-bilirubin-over-3-uln": (
        "trifluridine-tipiracil-bilirubin-over-3-uln",
        "applies_to: {fact: option.components, contains: trifluridine_tipiracil}",
        "applies_to: {fact: option.id, is: trifluridine-tipiracil}",
        "trifluridine-tipiracil-bevacizumab",
    ),
    "no-vegf-drug-withheld-for-proteinuria-offered": (
        "bevacizumab-withheld-for-proteinuria",
        "applies_to: {fact: option.components, contains: bevacizumab}",
        "applies_to: {all: [{fact: option.components, contains: bevacizumab},"
        " {not: {fact: option.id, is: folfox-bevacizumab}}]}",
        "folfox-bevacizumab",
    ),
}


def test_the_invariants_are_proved_on_the_shipped_knowledge(kb: KnowledgeBase) -> None:
    pytest.importorskip("z3")
    from rectoplan.verify.prove import prove

    invariants = tuple(inv for inv in load_invariants(kb) if inv.id in INVARIANTS)
    assert {inv.id for inv in invariants} == set(INVARIANTS)
    report = prove(kb, invariants, shrink=False)
    assert {r.invariant.id: r.verdict for r in report.results} == dict.fromkeys(INVARIANTS, "proved")


@pytest.mark.parametrize("invariant", INVARIANTS)
def test_a_narrowed_gate_violates_its_invariant(invariant: str, tmp_path: Path) -> None:
    pytest.importorskip("z3")
    from rectoplan.verify.prove import prove

    gate, planted, narrowed, escaped = NARROWED[invariant]
    root = tmp_path / "knowledge"
    shutil.copytree(Path(api.__file__).parent / "knowledge", root)
    gates = root / "gates.yaml"
    text = gates.read_text(encoding="utf-8")
    start = text.index(f"- id: {gate}\n")
    at = text.index(planted, start)
    gates.write_text(text[:at] + narrowed + text[at + len(planted) :], encoding="utf-8")
    kb = load_knowledge(root)
    (inv,) = (inv for inv in load_invariants(kb, root / "invariants.yaml") if inv.id == invariant)
    (result,) = prove(kb, (inv,), shrink=False).results
    assert (result.verdict, result.option) == ("violated", escaped)
