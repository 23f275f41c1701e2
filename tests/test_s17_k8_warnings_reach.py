"""Stop 17 (K8): every warning of a recommendation reaches the handout, the HTML plan and the CDS Hooks card.

Before this stop each output had tests for chosen warnings (Lynch on the handout and the page, an option's
caution without plain words on the handout, the case-warning cards); none checked that *every* warning gets
through. These tests do, over the shipped examples, review 13's case x04 and generated cases (a fixed seed of
`rectoplan.synthetic.random_case`), for both kinds of warning:

- a case warning (`Recommendation.warnings`): the handout says it in plain words or says the team has notes
  (`UNSAID`); the HTML plan (`recommend --format html`, and the page a card links to) shows its text; the CDS
  Hooks answer has a warning card with it;
- an option's warning (`OptionResult.warnings`): the handout, for every option it lists, says it in plain
  words (or a generic safety note) naming that option; the HTML plan shows it under the option; the CDS plan
  card shows it under every option the card details, and (see the last test) for the options it only names.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from rectoplan.adapters.handout import (
    PATIENT_WARNINGS,
    SAFETY_UNSAID,
    UNSAID,
    _plain_warnings,
    handout_html,
    handout_view,
    likely_options,
)
from rectoplan.adapters.render_html import render_html
from rectoplan.api import recommend, validate_case
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from rectoplan.examples import demo_cases
from rectoplan.service.cards import PREFERRED_SHOWN, cards_for, escape_md
from rectoplan.service.page import answer_link, plan_link
from rectoplan.synthetic import random_case
from tests.conftest import FIXTURES

SOURCE = {"label": "rectoplan knowledge base test", "url": "http://127.0.0.1:8080/"}
GENERATED = 120
Plans = list[tuple[str, Any, Recommendation]]


def _cases() -> Iterator[tuple[str, dict[str, Any]]]:
    yield from demo_cases()
    yield "x04", json.loads((FIXTURES / "s17-k8-handout" / "x04-folfoxbev-6weeks-break-no-growth.json").read_text())
    rng = random.Random(1717)
    for i in range(GENERATED):
        yield f"generated-{i}", random_case(rng, f"generated-{i}")


@pytest.fixture(scope="module")
def plans(kb: KnowledgeBase) -> list[tuple[str, Any, Recommendation]]:
    out = []
    for name, case in _cases():
        try:
            valid = validate_case(case, kb)
        except CaseError:
            continue  # a generated case the contract refuses: not a recommendation
        out.append((name, valid, recommend(valid, kb, what_if=False)))
    return out


def test_the_cases_hold_both_kinds_of_warning(plans: Plans) -> None:
    """The premise: enough warnings of each kind, and option warnings on options beyond the card's first."""
    assert len(plans) > 60
    assert sum(len(r.warnings) for _, _, r in plans) > 40
    assert sum(len(o.warnings) for _, _, r in plans for o in r.options) > 200


def _said(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_every_case_warning_reaches_the_handout(plans: Plans, kb: KnowledgeBase) -> None:
    plain = {c.text: c.patient for c in kb.global_cautions if c.patient}
    for name, case, r in plans:
        view = handout_view(r, kb, case)
        page = _said(handout_html(r, kb, case))
        for w in r.warnings:
            words = plain.get(str(w)) or next((p for key, p in PATIENT_WARNINGS if key in str(w)), None)
            assert (words or UNSAID) in view["warnings"], (name, str(w)[:80])
            assert " ".join((words or UNSAID).split()) in page, (name, str(w)[:80])


def test_every_option_warning_reaches_the_handout_with_its_option(plans: Plans, kb: KnowledgeBase) -> None:
    plain = _plain_warnings(kb)
    for name, case, r in plans:
        view = handout_view(r, kb, case)
        listed = {o["title"] for o in view["likely"] + view["others"]}
        page = _said(handout_html(r, kb, case))
        for o in r.options:
            if o.title not in listed:
                continue  # declined by the patient: the handout does not offer it
            for w in o.warnings:
                text = plain.get(w, SAFETY_UNSAID)
                entry = next((s for s in view["safety"] if s["text"] == text), None)
                assert entry is not None and o.title in entry["options"], (name, o.id, w[:80])
                assert " ".join(text.split()) in page, (name, o.id, w[:80])


def test_every_warning_reaches_the_html_plan(plans: Plans, kb: KnowledgeBase) -> None:
    for name, case, r in plans:
        page = _said(render_html(r, kb, None, case))
        for w in [str(w) for w in r.warnings] + [w for o in r.options for w in o.warnings]:
            assert " ".join(w.split()) in page, (name, w[:80])


def test_every_warning_reaches_the_page_a_card_links_to(plans: Plans, kb: KnowledgeBase) -> None:
    """The service's plan page (`/plan?case=...`), built again from the case in the card's link."""
    pytest.importorskip("fastapi")
    for name, _, r in plans[:: max(1, len(plans) // 25)]:  # a sample: each page recomputes the plan
        case = next(c for n, c in _cases() if n == name)
        status, page = answer_link(plan_link(SOURCE["url"], case).split("case=", 1)[1], kb)
        assert status == 200, name
        shown = _said(page)
        for w in [str(w) for w in r.warnings] + [w for o in r.options for w in o.warnings]:
            assert " ".join(w.split()) in shown, (name, w[:80])


def test_every_case_warning_has_its_card(plans: Plans, kb: KnowledgeBase) -> None:
    for name, _, r in plans:
        cards = cards_for(r, SOURCE, None, None, kb.vocabulary.display)
        details = [c["detail"] for c in cards[1:]]
        for w in r.warnings:
            assert escape_md(str(w)) in details, (name, str(w)[:80])
            assert next(c for c in cards[1:] if c["detail"] == escape_md(str(w)))["indicator"] in (
                "warning",
                "critical",
            )


def test_every_warning_of_a_detailed_option_is_on_the_plan_card(plans: Plans, kb: KnowledgeBase) -> None:
    for name, _, r in plans:
        detail = cards_for(r, SOURCE, None, None, kb.vocabulary.display)[0]["detail"]
        for o in likely_options(list(r.options), PREFERRED_SHOWN):
            for w in o.warnings:
                assert f"  - caution: {escape_md(w)}" in detail, (name, o.id, w[:80])


def test_every_option_warning_is_on_the_plan_card(plans: Plans, kb: KnowledgeBase) -> None:
    missing = []
    for name, _, r in plans:
        detail = cards_for(r, SOURCE, None, None, kb.vocabulary.display)[0]["detail"]
        missing += [(name, o.id) for o in r.options for w in o.warnings if escape_md(w) not in detail]
    assert not missing, f"{len(missing)} option warnings not on the card, e.g. {missing[:3]}"
