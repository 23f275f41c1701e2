"""Stop 17 (K8), review 13's case x04: when nothing is for now, the handout says so and does not lead with a trial.

x04 (tests/fixtures/s17-k8-handout, copied from review 11's case): a first line of FOLFOX + bevacizumab
stopped for a break after six weeks, no growth since. The plan is to resume that line (a case warning); every
listed treatment is "only if the cancer grows again", and the clinical trial was the one option not waiting
for progression, so the handout listed it first under "most likely to discuss". Now the treatments come
first (in rank order), the trial is an option to discuss, and a plain sentence above the options says that
nothing on the list is for now. The CDS card shares the order (`likely_options`). Plans with an option for
now, and plans that do not wait, are unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from rectoplan.adapters.handout import NOTHING_NOW, TRIAL_TO_DISCUSS, handout_html, handout_view, nothing_for_now
from rectoplan.core.continuation import waits_for_progression
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.service.cards import cards_for
from tests.conftest import FIXTURES
from tests.test_knowledge_review3 import course, rec
from tests.test_knowledge_review5 import _ras_wild_type

X04 = FIXTURES / "s17-k8-handout" / "x04-folfoxbev-6weeks-break-no-growth.json"
FOLFOX_PANI = ["leucovorin", "fluorouracil", "oxaliplatin", "panitumumab"]
FOLFOX_BEV = ["leucovorin", "fluorouracil", "oxaliplatin", "bevacizumab"]
SOURCE = {"label": "rectoplan knowledge base test", "url": "http://127.0.0.1:8080/"}


def x04() -> dict[str, Any]:
    case: dict[str, Any] = json.loads(X04.read_text())
    return case


def test_x04_lists_no_treatment_for_now_and_offers_a_trial(kb: KnowledgeBase) -> None:
    """The premise: every treatment waits for progression; the trial does not."""
    r = rec(x04(), kb)
    treatments = [o for o in r.options if o.kind != "clinical_trial" and o.strength != "consider"]
    assert treatments and all(waits_for_progression(o) for o in treatments)
    assert any(o.kind == "clinical_trial" and not waits_for_progression(o) for o in r.options)
    assert nothing_for_now(r.options)


def test_x04_handout_leads_with_a_treatment_not_the_trial(kb: KnowledgeBase) -> None:
    case = x04()
    view = handout_view(rec(case, kb), kb, case)
    kinds = {o.title: o.kind for o in rec(case, kb).options}
    assert kinds[view["likely"][0]["title"]] != "clinical_trial"
    assert view["likely"][0]["title"] == "FOLFOX + bevacizumab"  # the first ranked treatment
    titles = [o["title"] for o in view["likely"] + view["others"]]
    first_trial = next(i for i, t in enumerate(titles) if kinds[t] == "clinical_trial")
    assert all(kinds[t] != "clinical_trial" for t in titles[:first_trial]) and first_trial >= 1


def test_x04_handout_says_plainly_that_nothing_is_for_now(kb: KnowledgeBase) -> None:
    case = x04()
    r = rec(case, kb)
    view = handout_view(r, kb, case)
    assert view["not_now"] == [NOTHING_NOW, TRIAL_TO_DISCUSS]  # the trial is not among the likely three
    html = handout_html(r, kb, case)
    assert html.index("Nothing on this list is for now.") < html.index("<h3>FOLFOX + bevacizumab</h3>")


def test_x04_trial_declined_no_trial_sentence(kb: KnowledgeBase) -> None:
    case = x04()
    case["wants_clinical_trials"] = False
    view = handout_view(rec(case, kb), kb, case)
    assert view["not_now"] == [NOTHING_NOW]


def test_x04_plan_card_leads_with_a_treatment(kb: KnowledgeBase) -> None:
    r = rec(x04(), kb)
    detail = cards_for(r, SOURCE, None, None, kb.vocabulary.display)[0]["detail"]
    first_listed = next(line for line in detail.splitlines() if line.startswith("- **"))
    assert "Clinical trial" not in first_listed and "FOLFOX + bevacizumab" in first_listed


def test_an_option_for_now_keeps_the_lead_and_no_sentence(kb: KnowledgeBase) -> None:
    case = _ras_wild_type(
        course(FOLFOX_PANI, "2026-03-01", "2026-09-01", stopped_for="toxicity", best_response="partial")
    )
    case["prior"]["progressed_since_last_line"] = False
    r = rec(case, kb)
    view = handout_view(r, kb, case)
    assert not nothing_for_now(r.options) and view["not_now"] == []
    assert view["likely"][0]["title"] == "Maintenance 5-FU/leucovorin + panitumumab"
    assert "Nothing on this list is for now" not in handout_html(r, kb, case)


def test_a_plan_that_does_not_wait_has_no_sentence(kb: KnowledgeBase) -> None:
    first = course(FOLFOX_BEV, "2025-01-01", "2025-10-01", stopped_for="progression", best_response="partial")
    case = _ras_wild_type(first)
    r = rec(case, kb)
    assert not any(waits_for_progression(o) for o in r.options)
    assert handout_view(r, kb, case)["not_now"] == []


def test_x04_handout_stays_plain(kb: KnowledgeBase) -> None:
    """The added sentences keep the handout at the reading level the handout tests hold every example to."""
    import textstat

    from tests.test_handout import prose

    case = x04()
    text = prose(handout_html(rec(case, kb), kb, case))
    assert textstat.flesch_kincaid_grade(text) <= 8
    assert textstat.flesch_kincaid_grade(f"{NOTHING_NOW} {TRIAL_TO_DISCUSS}") <= 6
    assert text.count("Nothing on this list is for now.") == 1
