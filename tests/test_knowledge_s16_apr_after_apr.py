"""Stop 16 (review 13, finding 4): after an abdominoperineal resection (APR) nothing that needs a rectum is
offered, and the permanent colostomy the patient already has is not offered again as if new.

Review 13's z26 (pelvic recurrence after APR and pelvic radiation) and z42 (after APR, no radiation) were
offered "Colostomy or ileostomy after bowel resection" (patient text: "The 2 ends of the bowel may be joined
again later") and local excision, although the tool excluded APR itself because "the rectum has been
removed". Now, with `abdominoperineal_resection` in `prior.surgeries`:

- local excision is excluded (no-rectum-after-abdominoperineal-resection), in curative and palliative plans;
- the colostomy or ileostomy after bowel resection is excluded
  (colostomy-or-ileostomy-after-abdominoperineal-resection);
- a diverting colostomy is excluded even when `primary.stoma` is not recorded
  (diverting-colostomy-after-abdominoperineal-resection);
- pelvic exenteration's patient text no longer presents the colostomy as new.

Each rule has a case that triggers it (after APR) and one that must not (after a low anterior resection).
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

import pytest

from rectoplan.adapters.handout import handout_html
from rectoplan.adapters.render_text import render_text
from rectoplan.api import recommend, validate_case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from tests._kb_cases import known_health, known_panel
from tests.test_knowledge_review3 import excluded, offered, rec

APR = ["abdominoperineal_resection", "total_mesorectal_excision"]
LAR = ["low_anterior_resection", "total_mesorectal_excision"]
NO_RECTUM = "no-rectum-after-abdominoperineal-resection"
STOMA_AFTER_RESECTION = "colostomy-or-ileostomy-after-abdominoperineal-resection"
DIVERTING_AFTER_APR = "diverting-colostomy-after-abdominoperineal-resection"

# Review 13's z42: resectable pelvic recurrence after APR (stoma recorded), no earlier pelvic radiation.
Z42: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "s16-apr",
    "as_of": "2026-12-01",
    "advanced_disease_date": "2026-11-01",
    "age": 62,
    "ecog": 1,
    "primary": {"status": "resected", "stoma": True},
    "metastases": [],
    "local_recurrence": {"resectability": "resectable", "symptoms": []},
    "biomarkers": known_panel(kras="mutant", kras_variant="G12D"),
    "prior": {
        "pelvic_radiation": False,
        "surgeries": APR,
        "courses": [
            {
                "agents": ["capecitabine", "oxaliplatin"],
                "setting": "adjuvant",
                "start": "2024-01-10",
                "end": "2024-06-20",
                "status": "completed",
                "best_response": "not_assessed",
            }
        ],
    },
    "health": known_health(700, frail=False),
    "preferences": {"goal": "balanced", "declines": []},
    "wants_clinical_trials": True,
}


def case(surgeries: list[str], *, stoma: bool | None = True, radiation: bool = False, **changes: Any) -> dict[str, Any]:
    """z42 after the given operations; `stoma=None` leaves the stoma unrecorded; z26 is `radiation=True`."""
    out = copy.deepcopy(Z42)
    out["prior"]["surgeries"] = list(surgeries)
    out["prior"]["pelvic_radiation"] = radiation
    out["primary"] = {"status": "resected"} if stoma is None else {"status": "resected", "stoma": stoma}
    out.update(copy.deepcopy(changes))
    return out


def rules_of(r: Recommendation, option_id: str) -> tuple[str, ...]:
    return next(e.rules for e in r.excluded if e.id == option_id)


def prose(html: str) -> str:
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- local excision ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("radiation", [False, True], ids=["z42", "z26"])
def test_local_excision_excluded_after_apr(radiation: bool, kb: KnowledgeBase) -> None:
    r = rec(case(APR, radiation=radiation), kb)
    assert "local-excision" not in offered(r)
    assert NO_RECTUM in rules_of(r, "local-excision")
    (reason,) = excluded(r)["local-excision"]
    assert "rectum and anus have been removed" in reason
    assert {s.source for s in next(e for e in r.excluded if e.id == "local-excision").sources} >= {
        "statpearls-apr",
        "beyond-tme",
    }
    # the operation the board discusses stays first
    assert r.options[0].id == "pelvic-exenteration"


def test_local_excision_kept_after_low_anterior_resection(kb: KnowledgeBase) -> None:
    r = rec(case(LAR, stoma=False), kb)
    assert offered(r)["local-excision"].setting == "local-excision-recurrence"
    assert "local-excision" not in excluded(r)


def test_palliative_local_excision_for_pain_excluded_after_apr_only(kb: KnowledgeBase) -> None:
    # a resectable recurrence with pain, but unresectable liver metastases: a palliative plan
    changes = {
        "metastases": [{"site": "liver", "count": 6, "resectability": "unresectable", "largest_mm": 40}],
        "local_recurrence": {"resectability": "resectable", "symptoms": ["pain"]},
    }
    after_apr = rec(case(APR, **changes), kb)
    assert after_apr.intent == "palliative"
    assert "local-excision" not in offered(after_apr)
    after_lar = rec(case(LAR, stoma=False, **changes), kb)
    # review 16 (F6): palliative local excision is for a primary in place, not a recurrence after TME
    assert "local-excision" not in offered(after_lar)
    assert "local-excision" not in excluded(after_lar)


# --- the stoma -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stoma", [True, None], ids=["stoma-recorded", "stoma-unrecorded"])
def test_stoma_after_bowel_resection_excluded_after_apr(stoma: bool | None, kb: KnowledgeBase) -> None:
    r = rec(case(APR, stoma=stoma), kb)
    assert "colostomy-or-ileostomy" not in offered(r)
    assert STOMA_AFTER_RESECTION in rules_of(r, "colostomy-or-ileostomy")
    (reason,) = excluded(r)["colostomy-or-ileostomy"]
    assert "permanent" in reason and "joined again" in reason


def test_stoma_after_bowel_resection_kept_after_low_anterior_resection(kb: KnowledgeBase) -> None:
    r = rec(case(LAR, stoma=False), kb)
    assert "colostomy-or-ileostomy" in offered(r)


def test_diverting_colostomy_not_offered_again_after_apr(kb: KnowledgeBase) -> None:
    # an obstruction with the stoma not recorded: the APR alone says a permanent colostomy exists
    obstructed = {"local_recurrence": {"resectability": "unresectable", "symptoms": ["obstruction"]}}
    after_apr = rec(case(APR, stoma=None, **obstructed), kb)
    assert "diverting-colostomy" not in offered(after_apr)
    assert DIVERTING_AFTER_APR in rules_of(after_apr, "diverting-colostomy")
    after_lar = rec(case(LAR, stoma=None, **obstructed), kb)
    assert "diverting-colostomy" in offered(after_lar)
    assert "diverting-colostomy" not in excluded(after_lar)


# --- what the clinician and the patient read -----------------------------------------------------------------
@pytest.mark.parametrize("radiation", [False, True], ids=["z42", "z26"])
def test_no_text_after_apr_promises_a_rectum_or_a_rejoined_bowel(radiation: bool, kb: KnowledgeBase) -> None:
    valid = validate_case(case(APR, radiation=radiation), kb)
    r = recommend(valid, kb, what_if=False)
    patient_texts = " ".join(o.patient_explanation for o in r.options)
    handout = prose(handout_html(r, kb, valid))
    clinician = "\n".join(f"{o.title}: {' '.join(o.rationale)}" for o in r.options)
    for text in (patient_texts, handout, clinician):
        assert "joined again" not in text
        assert "Local excision" not in text
        assert "Colostomy or ileostomy after bowel resection" not in text
    # the exenteration text no longer presents the colostomy as new
    assert "Afterwards a colostomy is needed" not in patient_texts
    assert "already has a permanent colostomy keeps one" in offered(r)["pelvic-exenteration"].patient_explanation
    # the full clinician text lists them as excluded, with the reason
    text = render_text(r, kb, color=False)
    assert "Local excision (local resection)" in text.split("EXCLUDED")[1]


def test_after_low_anterior_resection_the_texts_are_as_before(kb: KnowledgeBase) -> None:
    r = rec(case(LAR, stoma=False), kb)
    stoma = offered(r)["colostomy-or-ileostomy"]
    assert "may be joined again later" in stoma.patient_explanation


# --- a contradictory record: the primary 'in place' after an APR ----------------------------------------------
RECTAL_PRIMARY = {
    "low-anterior-resection-tme": "low-anterior-resection-after-abdominoperineal-resection",
    "synchronous-resection": "synchronous-resection-after-abdominoperineal-resection",
    "staged-resection": "staged-resection-after-abdominoperineal-resection",
    "short-course-radiotherapy": "short-course-radiotherapy-after-abdominoperineal-resection",
}


def primary_in_place(surgeries: list[str]) -> dict[str, Any]:
    """A rectal primary recorded as in place, one resectable liver metastasis, no local recurrence."""
    out = case(surgeries, stoma=False, metastases=[{"site": "liver", "count": 1, "resectability": "resectable"}])
    out["primary"] = {"status": "in_place", "stoma": False}
    del out["local_recurrence"]
    return out


def test_rectal_primary_treatments_listed_as_impossible_after_apr(kb: KnowledgeBase) -> None:
    # The validator refuses this record now (stop 17: tests/test_s17_k6_apr_inputs.py); these rules stay as
    # a second guard, reached here by a `Case` changed after validation.
    valid = validate_case(primary_in_place([]), kb)
    r = recommend(replace(valid, prior=replace(valid.prior, surgeries=tuple(APR))), kb, what_if=False)
    for option_id, rule in RECTAL_PRIMARY.items():
        assert option_id not in offered(r)
        assert rule in rules_of(r, option_id)
        assert "check the record" in excluded(r)[option_id][0]


def test_rectal_primary_treatments_offered_without_apr(kb: KnowledgeBase) -> None:
    r = rec(primary_in_place([]), kb)
    assert set(RECTAL_PRIMARY) <= set(offered(r))
