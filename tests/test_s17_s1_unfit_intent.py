"""Review 14, findings 3 and 10: the plan is not curative when the curative operation is excluded.

F3: an ECOG-2 patient judged not fit for intensive treatment, with resectable peritoneal (c03) or liver (c05)
metastases, was told "the aim of treatment is to cure the cancer" while the operation was excluded (CRS) or
still preferred (liver resection), and the de-intensified palliative regimens (capecitabine with or without
bevacizumab, AVEX) were excluded as "targeted therapy before surgery". A pelvic recurrence in a patient who
declined a stoma (i04) kept a curative plan although every encoded operation that aims at cure makes one.
F10: the fitness gate of cytoreductive surgery cited a pelvic exenteration review; it now cites PRODIGE 7.
Each rule has a case that triggers it and one that does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rectoplan.core.case import Case
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import excluded_of, offered_of, recommend_made

Make = Callable[..., Case]
UNFIT = {"fit_for_intensive_therapy": False}
RESECTED = {"status": "resected"}
CURE_SENTENCE = "The aim of treatment is to cure the cancer"


def _site(site: str, count: int = 2, resectability: str = "resectable") -> list[dict[str, Any]]:
    return [{"site": site, "count": count, "resectability": resectability}]


def _elderly_ecog2(**more: Any) -> dict[str, Any]:
    return {"age": 76, "ecog": 2, "primary": RESECTED, **more}


# --- F3: unfit for the operation ------------------------------------------------------------------------------
def test_unfit_peritoneal_disease_is_palliative_with_capecitabine_bevacizumab(
    make_case: Make, kb: KnowledgeBase
) -> None:
    rec = recommend_made(make_case, kb, health=UNFIT, **_elderly_ecog2(metastases=_site("peritoneum")))
    assert (rec.intent, rec.intent_rule) == ("palliative", "intent-palliative-unfit-for-surgery")
    assert CURE_SENTENCE not in rec.patient_summary
    offered = offered_of(rec)
    assert offered["capecitabine-bevacizumab"].strength == "preferred"
    crs = excluded_of(rec)["crs-hipec"]
    assert "major-surgery-fitness" in crs.rules and "PRODIGE 7" in " ".join(crs.reasons)


def test_unfit_liver_disease_lists_liver_resection_as_excluded(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, health=UNFIT, **_elderly_ecog2(metastases=_site("liver")))
    assert rec.intent == "palliative"
    assert "liver-resection" not in offered_of(rec)
    assert "major-surgery-fitness" in excluded_of(rec)["liver-resection"].rules
    assert "capecitabine-bevacizumab" in offered_of(rec)


def test_unfit_synchronous_primary_lists_every_resection_as_excluded(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, health=UNFIT, metastases=_site("liver"))  # primary in place (base case)
    assert rec.intent == "palliative"
    excluded = excluded_of(rec)
    for operation in ("low-anterior-resection-tme", "abdominoperineal-resection-tme", "staged-resection"):
        assert "major-surgery-fitness" in excluded[operation].rules, operation
    assert "synchronous-resection" in excluded


def test_fit_patient_with_the_same_disease_stays_curative(make_case: Make, kb: KnowledgeBase) -> None:
    for site in ("peritoneum", "liver"):
        rec = recommend_made(make_case, kb, **_elderly_ecog2(metastases=_site(site)))
        assert rec.intent == "curative", site
        assert CURE_SENTENCE in rec.patient_summary
        assert "capecitabine-bevacizumab" not in offered_of(rec)
    liver = recommend_made(make_case, kb, **_elderly_ecog2(metastases=_site("liver")))
    assert offered_of(liver)["liver-resection"].strength == "preferred"


def test_unknown_fitness_is_not_read_as_unfit_but_warns(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(
        make_case, kb, health={"fit_for_intensive_therapy": None}, primary=RESECTED, metastases=_site("liver")
    )
    assert rec.intent == "curative"
    warnings = offered_of(rec)["liver-resection"].warnings
    assert any("Fitness for surgery is not recorded" in w for w in warnings)


def test_unfit_with_unresectable_disease_keeps_the_usual_palliative_rule(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, health=UNFIT)  # base case: unresectable liver metastases
    assert (rec.intent, rec.intent_rule) == ("palliative", "intent-palliative")
    assert "liver-resection" not in excluded_of(rec)


# --- F3: a declined stoma with a pelvic recurrence --------------------------------------------------------------
def _recurrence(**more: Any) -> dict[str, Any]:
    return {
        "primary": RESECTED,
        "metastases": [],
        "local_recurrence": {"resectability": "resectable", "symptoms": []},
        **more,
    }


def test_declined_stoma_with_pelvic_recurrence_is_not_curative(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, **_recurrence(preferences={"declines": ["stoma"]}))
    assert (rec.intent, rec.intent_rule) == ("palliative", "intent-palliative-stoma-declined-recurrence")
    assert CURE_SENTENCE not in rec.patient_summary
    excluded = excluded_of(rec)
    assert {"abdominoperineal-resection-tme", "pelvic-exenteration"} <= set(excluded)
    excision = offered_of(rec)["local-excision"]
    assert excision.setting == "local-excision-stoma-declined" and excision.strength == "consider"


def test_pelvic_recurrence_without_a_declined_stoma_stays_curative(make_case: Make, kb: KnowledgeBase) -> None:
    rec = recommend_made(make_case, kb, **_recurrence())
    assert rec.intent == "curative"
    assert offered_of(rec)["pelvic-exenteration"].strength == "preferred"
    assert offered_of(rec)["local-excision"].setting == "local-excision-recurrence"


# --- F10: each fitness gate cites a source about its own operation ----------------------------------------------
def test_fitness_gates_cite_their_own_operation(kb: KnowledgeBase) -> None:
    def cited(option_id: str) -> set[str]:
        option = next(o for o in kb.options if o.id == option_id)
        gate = next(g for g in option.gates if g.id == "major-surgery-fitness")
        return {c.source for c in gate.cite}

    assert "prodige-7" in cited("crs-hipec") and "exenteration-review" not in cited("crs-hipec")
    assert "exenteration-review" in cited("pelvic-exenteration")
    assert "transmet" in cited("liver-transplantation")
    assert "collision-protocol" in cited("liver-resection")
    for option_id in ("synchronous-resection", "staged-resection", "low-anterior-resection-tme", "lung-resection"):
        assert "exenteration-review" not in cited(option_id), option_id
