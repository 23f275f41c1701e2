"""Stop 17 (S2), review 14 finding 9: brain radiation at ECOG 3-4.

With ECOG 3 and six brain metastases (review 14's d03) radiation for brain metastases was "preferred" beside
best supportive care. A first row of `radiation-brain-metastases` now makes it "consider" at ECOG 3-4, for
symptom control, citing QUARTZ (whole-brain radiotherapy added nothing to supportive care with dexamethasone
in non-small-cell lung cancer: extrapolated, and said so). ECOG 0-2 and unknown ECOG keep the rows they had.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import RARE_RISKS_ABSENT, known_health, known_panel, options_by_id, review14_case

OPTION = "radiation-brain-metastases"
ECOG_ROW = "radiation-brain-metastases-ecog-3-4"

# Review 14's d03: ECOG 3, 6 brain and 8 liver metastases, not fit for intensive therapy.
D03: dict[str, Any] = review14_case(
    "s17-s2-brain",
    ecog=3,
    primary={"status": "resected", "stoma": False},
    metastases=[
        {"site": "brain", "count": 6, "resectability": "unresectable"},
        {"site": "liver", "count": 8, "resectability": "unresectable"},
    ],
    biomarkers=known_panel(kras="mutant", kras_variant="G12D"),
    health=known_health(400, **RARE_RISKS_ABSENT, autoimmune_disease=False, fit_for_intensive_therapy=False),
)


def _brain_option(kb: KnowledgeBase, ecog: int | None, brain_count: int = 6) -> dict[str, Any]:
    case = copy.deepcopy(D03)
    if ecog is None:
        del case["ecog"]
    else:
        case["ecog"] = ecog
    case["metastases"][0]["count"] = brain_count
    return options_by_id(case, kb)[OPTION]


@pytest.mark.parametrize("ecog", [3, 4])
def test_ecog_3_4_brain_radiation_is_consider_for_symptom_control(kb: KnowledgeBase, ecog: int) -> None:
    option = _brain_option(kb, ecog)
    why = " ".join(option["rationale"])
    assert option["trace"]["setting"] == ECOG_ROW
    assert option["strength"] == "consider"
    assert "symptom control" in why and "QUARTZ" in why and "extrapolated" in why
    assert option["evidence"]["level"] == "extrapolated"
    assert "quartz" in {s["id"] for s in option["sources"]}


def test_ecog_3_single_brain_metastasis_is_consider_too(kb: KnowledgeBase) -> None:
    option = _brain_option(kb, 3, brain_count=1)
    assert (option["trace"]["setting"], option["strength"]) == (ECOG_ROW, "consider")


@pytest.mark.parametrize(
    ("ecog", "brain_count", "row"),
    [
        (2, 6, "radiation-brain-metastases-present"),
        (1, 2, "radiation-brain-metastases-one-to-four"),
        (None, 6, "radiation-brain-metastases-present"),  # unknown ECOG is not read as 3-4
    ],
)
def test_ecog_below_3_or_unknown_keeps_the_preferred_rows(
    kb: KnowledgeBase, ecog: int | None, brain_count: int, row: str
) -> None:
    option = _brain_option(kb, ecog, brain_count)
    assert (option["trace"]["setting"], option["strength"]) == (row, "preferred")
    assert "QUARTZ" not in " ".join(option["rationale"])


def test_ecog_row_comes_first_in_the_table(kb: KnowledgeBase) -> None:
    (option,) = (o for o in kb.options if o.id == OPTION)
    assert option.settings[0].id == ECOG_ROW  # the first TRUE row applies
