"""Review 14, finding 7: the MRI staging of a primary in place is read before the rectal resection.

a01: MRI showed an involved circumferential margin (mesorectal fascia) and the rectal resections were listed
'depending on the location of the tumour', with pelvic radiation only an alternative. A threatened or involved
mesorectal fascia, or a T4b tumour, now puts pelvic radiotherapy (or total neoadjuvant therapy) before the rectal
resection in the resections' rationale and makes short-course radiation and chemoradiation preferred (RAPIDO
enrolled such MRI high-risk tumours). Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.engine import recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests._kb_cases import PELVIC_RADIATION, PRIMARY_RESECTIONS, offered_of

Make = Callable[..., Case]
RESECTIONS = PRIMARY_RESECTIONS
RADIATION = PELVIC_RADIATION


def _rec(make_case: Make, kb: KnowledgeBase, **primary: Any) -> Recommendation:
    case = make_case(
        format="rectoplan.case/2",
        primary={"status": "in_place", **primary},
        metastases=[{"site": "liver", "count": 3, "resectability": "resectable"}],
    )
    return recommend(case, kb, what_if=False)


def test_involved_margin_puts_pelvic_radiation_before_the_resection(make_case: Make, kb: KnowledgeBase) -> None:
    rec = _rec(make_case, kb, crm_involved=True, mri_t="T3")
    assert rec.intent == "curative"
    offered = offered_of(rec)
    for option_id in RESECTIONS:
        option = offered[option_id]
        assert option.setting == f"{option_id}-margin-at-risk", option.setting
        assert "mesorectal fascia" in option.rationale[0] and "before the rectal resection" in option.rationale[0]
        assert "RAPIDO" in option.rationale[0]
        assert any("RAPIDO" in s.label for s in option.sources)
    for option_id in RADIATION:
        assert (offered[option_id].strength, offered[option_id].setting) == (
            "preferred",
            f"{option_id}-margin-at-risk",
        )


def test_t4b_tumour_is_read_too(make_case: Make, kb: KnowledgeBase) -> None:
    offered = offered_of(_rec(make_case, kb, crm_involved=False, mri_t="T4b"))
    for option_id in RESECTIONS:
        assert offered[option_id].setting == f"{option_id}-t4b"
        assert "T4b" in offered[option_id].rationale[0]
    assert offered["short-course-radiotherapy"].strength == "preferred"


def test_clear_margin_keeps_the_usual_rows(make_case: Make, kb: KnowledgeBase) -> None:
    for primary in ({"crm_involved": False, "mri_t": "T3"}, {}):  # clear, and not recorded
        offered = offered_of(_rec(make_case, kb, **primary))
        for option_id in RESECTIONS:
            assert offered[option_id].setting == f"{option_id}-curative", (primary, option_id)
        assert offered["chemoradiation-capecitabine"].strength == "alternative"
        assert offered["short-course-radiotherapy"].setting == "short-course-radiotherapy-curative"
