"""Stop 19 (K11): the anti-VEGF cautions that still named the antibodies only, extended to the VEGFR inhibitors.

- A running line with regorafenib or fruquintinib and uncontrolled hypertension: both labels withhold or stop the
  drug for it (Stivarga highlights; Fruzaqla highlights), so the warning and the plan's first sentence speak, as
  they do for a running antibody (`running-line-anti-vegf-proteinuria-hypertension`).
- A running fruquintinib line with significant proteinuria (Fruzaqla 6.1). Regorafenib gets none: the Stivarga
  label's proteinuria wording was not found (stops 18 and 19), and a test pins that it stays silent.
- A primary tumour in place: the NHS Scotland note on bleeding (`anti-vegf-primary-in-situ`) for regorafenib and
  fruquintinib too, whose labels both warn of serious bleeding.
- Irinotecan with raised bilirubin keeps no `lowers`: its label lowers the dose, not the regimen's rank (pinned).

The trigger tests fail on main before this change (a5ae491): the cautions are absent there.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import options_by_id
from tests.test_cautions_r15_s18 import _third_line
from tests.test_knowledge_review3 import course, rec, with_courses

TKI_HYPERTENSION = "The running line includes regorafenib or fruquintinib, with uncontrolled hypertension"
TKI_HYPERTENSION_LEAD = "once its VEGF receptor inhibitor is checked against its label (uncontrolled hypertension"
FRUQ_PROTEINURIA = "The running line includes fruquintinib, with significant proteinuria"
FRUQ_PROTEINURIA_LEAD = "once fruquintinib is checked against its label (proteinuria"
ANTIBODY_RUNNING = "The running line includes an anti-VEGF drug"
TKI_PRIMARY = "Primary tumour in place: regorafenib and fruquintinib can cause serious bleeding"
ANTIBODY_PRIMARY = "Primary tumour in place: prescribe an anti-VEGF drug with caution"
CONTINUE = "Palliative intent. Continue the ongoing line while it works and is tolerated."


def _running(kb: KnowledgeBase, agents: list[str], **health: Any) -> tuple[tuple[str, ...], str]:
    """The warnings and summary of a case whose line (`agents`) started on 2026-10-01 and is still given."""
    result = rec(with_courses(course(agents, "2026-10-01"), **health), kb)
    return result.warnings, result.summary


# --- the running line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("drug", ["regorafenib", "fruquintinib"])
def test_running_inhibitor_with_uncontrolled_hypertension_warns_and_words_the_plan(
    kb: KnowledgeBase, drug: str
) -> None:
    warnings, summary = _running(kb, [drug], uncontrolled_hypertension=True)
    assert any(w.startswith(TKI_HYPERTENSION) for w in warnings), warnings
    assert not any(w.startswith(ANTIBODY_RUNNING) for w in warnings)  # the bevacizumab wording stays the antibodies'
    assert TKI_HYPERTENSION_LEAD in summary.split(". At progression")[0]


@pytest.mark.parametrize(
    ("agents", "health"),
    [
        (["regorafenib"], {"uncontrolled_hypertension": False}),
        (["fruquintinib"], {"uncontrolled_hypertension": False, "proteinuria": False}),
        (["leucovorin", "fluorouracil", "irinotecan"], {"uncontrolled_hypertension": True}),  # no VEGFR inhibitor
    ],
)
def test_no_inhibitor_warning_without_its_condition_or_its_drug(
    kb: KnowledgeBase, agents: list[str], health: dict[str, Any]
) -> None:
    warnings, summary = _running(kb, agents, **health)
    assert not any(w.startswith((TKI_HYPERTENSION, FRUQ_PROTEINURIA)) for w in warnings), warnings
    assert summary.startswith(CONTINUE)


def test_running_bevacizumab_keeps_the_antibody_warning_only(kb: KnowledgeBase) -> None:
    folfiri_bev = ["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"]
    warnings, _ = _running(kb, folfiri_bev, uncontrolled_hypertension=True)
    assert any(w.startswith(ANTIBODY_RUNNING) for w in warnings)
    assert not any(w.startswith(TKI_HYPERTENSION) for w in warnings)


def test_running_fruquintinib_with_proteinuria_warns_and_words_the_plan(kb: KnowledgeBase) -> None:
    warnings, summary = _running(kb, ["fruquintinib"], proteinuria=True)
    assert any(w.startswith(FRUQ_PROTEINURIA) for w in warnings), warnings
    assert FRUQ_PROTEINURIA_LEAD in summary.split(". At progression")[0]


def test_running_regorafenib_with_proteinuria_stays_silent_until_its_label_is_read(kb: KnowledgeBase) -> None:
    """The Stivarga label's proteinuria text was not confirmed: no warning is invented for it."""
    warnings, summary = _running(kb, ["regorafenib"], proteinuria=True)
    assert not any(w.startswith((FRUQ_PROTEINURIA, TKI_HYPERTENSION, ANTIBODY_RUNNING)) for w in warnings)
    assert summary.startswith(CONTINUE)


def test_the_running_line_warnings_cite_the_drugs_own_labels(kb: KnowledgeBase) -> None:
    cautions = {c.id: c for c in kb.global_cautions}
    hypertension = cautions["running-line-vegfr-tki-hypertension"]
    assert {c.source for c in hypertension.cite} == {"fda-regorafenib", "fruzaqla-label"}
    assert {c.source for c in cautions["running-line-fruquintinib-proteinuria"].cite} == {"fruzaqla-label"}


# --- a primary tumour in place ------------------------------------------------------------------------------------


def _notes(option: dict[str, Any]) -> list[str]:
    return [c["text"] for c in option["cautions"]]


def test_primary_in_place_notes_the_bleeding_risk_on_both_inhibitors(kb: KnowledgeBase) -> None:
    options = options_by_id(_third_line(primary={"status": "in_place", "stoma": False}), kb)
    for oid in ("regorafenib", "fruquintinib"):
        (note,) = (c for c in options[oid]["cautions"] if c["text"].startswith(TKI_PRIMARY))
        assert note["severity"] == "note"
        assert {s["id"] for s in note["sources"]} == {"fda-regorafenib", "fruzaqla-label", "nhs-scotland-vegf-bleeding"}
        assert not any(t.startswith(ANTIBODY_PRIMARY) for t in _notes(options[oid]))
    antibody = options["trifluridine-tipiracil-bevacizumab"]
    assert any(t.startswith(ANTIBODY_PRIMARY) for t in _notes(antibody))
    assert not any(t.startswith(TKI_PRIMARY) for t in _notes(antibody))


def test_primary_resected_gives_no_inhibitor_primary_note(kb: KnowledgeBase) -> None:
    options = options_by_id(_third_line(), kb)  # primary resected
    for oid in ("regorafenib", "fruquintinib"):
        assert not any(t.startswith(TKI_PRIMARY) for t in _notes(options[oid])), oid


# --- irinotecan with raised bilirubin -----------------------------------------------------------------------------


def test_irinotecan_raised_bilirubin_warns_without_lowering(kb: KnowledgeBase) -> None:
    """Its label reduces the starting dose; the rank changes only with UGT1A1 poor too, in first line."""
    rows = [s.id for o in kb.options for s in o.settings]
    plain = "--irinotecan-raised-bilirubin"
    assert not [r for r in rows if r.endswith(plain) or f"{plain}--" in r]
    assert [r for r in rows if r.endswith("--irinotecan-ugt1a1-poor-and-raised-bilirubin")]
