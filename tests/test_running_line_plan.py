"""Ninth review (#4): a warning about the running line words the plan's first sentence.

"Continue the ongoing line while it works" is wrong when the line must lose a drug (grade 3 neuropathy on
oxaliplatin; a stroke on bevacizumab) or stop (pembrolizumab at 2 years, KEYNOTE-177): the warning's own
`continuation` sentence (cautions.yaml) then leads the summary. Without such a warning the lead is unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rectoplan.core.errors import KnowledgeError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge
from tests.test_knowledge_lowering import _copy_with_caution_change
from tests.test_knowledge_review3 import course, rec, with_courses

FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
CONTINUE = "Palliative intent. Continue the ongoing line while it works and is tolerated."


def _ongoing(kb: KnowledgeBase, agents: list[str], start: str, **health: Any) -> str:
    return rec(with_courses(course(agents, start), **health), kb).summary


@pytest.mark.parametrize(
    ("agents", "start", "health", "lead"),
    [
        (FOLFOX_BEV, "2026-08-01", {"neuropathy_grade": 3}, "Continue the ongoing line without oxaliplatin"),
        (FOLFOX_BEV, "2026-08-01", {"neuropathy_grade": 2}, "Continue the ongoing line with a lower dose or a pause"),
        (FOLFOX_BEV, "2026-08-01", {"recent_arterial_thrombosis": True}, "without its anti-VEGF drug"),
        (FOLFOX_BEV, "2026-08-01", {"proteinuria": True}, "once its anti-VEGF drug is checked against its label"),
        (["pembrolizumab"], "2024-10-01", {}, "Plan the stop of pembrolizumab"),
    ],
)
def test_a_running_line_warning_words_the_plan(
    kb: KnowledgeBase, agents: list[str], start: str, health: dict[str, Any], lead: str
) -> None:
    summary = _ongoing(kb, agents, start, **health)
    assert lead in summary.split(". At progression")[0]
    assert "while it works and is tolerated" not in summary


@pytest.mark.parametrize(
    ("agents", "start", "health"),
    [
        (FOLFOX_BEV, "2026-08-01", {"neuropathy_grade": 1}),
        (["leucovorin", "fluorouracil", "irinotecan"], "2026-08-01", {"neuropathy_grade": 3}),  # no oxaliplatin
        (["pembrolizumab"], "2025-06-01", {}),  # 17 months
    ],
)
def test_without_such_a_warning_the_plan_is_to_continue(
    kb: KnowledgeBase, agents: list[str], start: str, health: dict[str, Any]
) -> None:
    assert _ongoing(kb, agents, start, **health).startswith(CONTINUE)


def test_a_stopped_line_is_not_continued(kb: KnowledgeBase) -> None:
    stopped = course(FOLFOX_BEV, "2026-01-01", "2026-06-01", stopped_for="progression")
    summary = rec(with_courses(stopped, neuropathy_grade=3), kb).summary
    assert "ongoing line" not in summary


def test_continuation_only_on_a_case_level_warning(tmp_path: Path) -> None:
    root = _copy_with_caution_change(tmp_path, "resection-declined-stoma", continuation="Continue without.")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    assert "resection-declined-stoma.continuation" in str(err.value)
    assert "only on a case-level warning" in str(err.value)


# --- ninth review (v02): the progression-on-maintenance warning names only the induction drug given ------


def _maintenance_progressed(kb: KnowledgeBase, induction: list[str]) -> tuple[str, ...]:
    courses = (
        course(induction, "2025-09-01", "2026-02-15", status="completed", best_response="partial"),
        course(
            ["capecitabine", "bevacizumab"],
            "2026-02-16",
            "2026-11-01",
            setting="maintenance",
            stopped_for="progression",
            best_response="stable",
        ),
    )
    return tuple(w for w in rec(with_courses(*courses), kb).warnings if "grew during maintenance" in w)


@pytest.mark.parametrize(
    ("induction", "named", "unnamed"),
    [
        (["capecitabine", "oxaliplatin", "bevacizumab"], "the oxaliplatin given in the induction", "irinotecan"),
        (["leucovorin", "fluorouracil", "irinotecan", "bevacizumab"], "its oxaliplatin or irinotecan, as given", ""),
        (["capecitabine", "bevacizumab"], "the drugs given only in the induction,", "irinotecan"),
    ],
)
def test_progression_on_maintenance_names_the_induction_drug_given(
    kb: KnowledgeBase, induction: list[str], named: str, unnamed: str
) -> None:
    (warning,) = _maintenance_progressed(kb, induction)
    assert named in warning
    assert not unnamed or unnamed not in warning
