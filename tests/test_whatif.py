"""'What would change the plan': the fast incremental answer equals re-running the engine per probe.

Generic over the knowledge base: expectations are computed by assessing the changed case with the full
engine, never written as option ids. Cases come from `tests/strategies.py`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from hypothesis import Phase, event, given, settings

from rectoplan import api
from rectoplan.api import validate_case
from rectoplan.core.case import Case
from rectoplan.core.engine import assess
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.schema import STRENGTHS
from rectoplan.core.whatif import Effect, effects, probes, what_would_change
from tests.conftest import BASE_CASE, merge
from tests.strategies import cases, examples


def _offered(case: Case, kb: KnowledgeBase) -> tuple[str, dict[str, tuple[int, int, int]]]:
    a = assess(case, kb)
    keys = {
        o.option.id: (STRENGTHS.index(o.setting.strength), o.setting.priority, o.option.order)
        for o in a.outcomes
        if o.status == "offered" and o.setting is not None
    }
    return a.intent.intent, keys


def _expected(case: Case, changed: Case, kb: KnowledgeBase) -> Effect:
    """The effect of a probe computed the slow way: two full engine runs."""
    _, before = _offered(case, kb)
    intent, after = _offered(changed, kb)
    order = [o.id for o in kb.options]
    added = tuple(i for i in order if i in after and i not in before)
    removed = tuple(i for i in order if i in before and i not in after)
    reranked = tuple(i for i in order if i in before and i in after and before[i] != after[i])
    top_before = min(before, key=before.__getitem__) if before else None
    top_after = min(after, key=after.__getitem__) if after else None
    top = top_after if top_after != top_before and (added or removed or reranked) else None
    return Effect(intent, added, removed, reranked, top)


@settings(max_examples=examples(60))
@given(cases())
def test_incremental_effects_equal_full_reevaluation(kb: KnowledgeBase, data: dict[str, Any]) -> None:
    case = validate_case(data, kb)
    for probe, effect in effects(assess(case, kb), kb):
        expected = _expected(case, probe.case, kb)
        got = Effect(effect.intent, effect.added, effect.removed, effect.reranked, effect.top)
        assert got == expected, probe.condition
        event(f"probed: {probe.fact}")


def test_generated_cases_probe_the_fields_that_matter(kb: KnowledgeBase) -> None:
    """The comparison above means something only if the generated cases reach many probes of these fields."""
    checked: list[str] = []

    @settings(max_examples=60, database=None, phases=[Phase.generate], derandomize=True)
    @given(cases())
    def count(data: dict[str, Any]) -> None:
        checked.extend(probe.fact for probe, _ in effects(assess(validate_case(data, kb), kb), kb))

    count()
    assert len(checked) > 300
    assert {"biomarkers.mmr", "biomarkers.kras", "health.dpyd", "ecog"} <= set(checked)


@settings(max_examples=examples(40))
@given(cases())
def test_probes_are_valid_cases_that_differ_only_in_their_field(kb: KnowledgeBase, data: dict[str, Any]) -> None:
    from rectoplan.verify.casejson import case_dict  # JSON form of a Case

    case = validate_case(data, kb)
    original = case_dict(case)
    for probe in probes(case, kb):
        changed = case_dict(probe.case)
        validate_case(changed, kb)  # every probe is itself an admissible case
        top = probe.fact.split(".")[0]
        top = "primary" if top == "symptoms" else top
        assert {k: v for k, v in changed.items() if k != top} == {k: v for k, v in original.items() if k != top}


def test_a_fully_known_case_has_nothing_to_change(kb: KnowledgeBase) -> None:
    # fully known includes the (dated) liquid biopsy for RAS, which anti-EGFR rechallenge reads
    liquid = {
        "liquid_ras": "wild_type",
        "liquid_ras_months": 0,
        "liquid_ras_after_anti_egfr": True,
        "liquid_ras_after_last_line": True,
        "pole": "wild_type",  # read by the POLE entry (review 13), with the TMB
        "tmb": 5,
    }
    sized = [{**m, "largest_mm": 40} for m in BASE_CASE["metastases"]]  # a size the local-therapy rules read
    case = validate_case(merge(BASE_CASE, {"biomarkers": liquid, "metastases": sized}), kb)
    assert probes(case, kb) == []
    assert what_would_change(assess(case, kb), kb) == ()


def test_unknown_mmr_shows_what_dmmr_would_change(kb: KnowledgeBase, make_case: Callable[..., Case]) -> None:
    case = make_case(biomarkers={"mmr": None})
    dmmr = make_case(biomarkers={"mmr": "dmmr_msi_h"})
    expected = _expected(case, dmmr, kb)
    changes = [
        c for c in what_would_change(assess(case, kb), kb) if c.fact == "biomarkers.mmr" and "dmmr_msi_h" in c.condition
    ]
    if not (expected.added or expected.removed or expected.reranked):
        assert changes == []
        return
    (change,) = changes
    assert (change.added, change.removed, change.reranked) == (expected.added, expected.removed, expected.reranked)
    assert change.fact == "biomarkers.mmr"
    if expected.top is not None:
        assert change.then.startswith(kb.option(expected.top).title + " becomes the ")
    for oid in expected.added[:3]:
        assert kb.option(oid).title in change.then


@settings(max_examples=examples(60))
@given(cases())
def test_changes_are_ordered_by_effect(kb: KnowledgeBase, data: dict[str, Any]) -> None:
    changes = what_would_change(assess(validate_case(data, kb), kb), kb)
    weight: dict[str, int] = {}
    for c in changes:
        size = len(c.added) + len(c.removed) + len(c.reranked)
        size += 2 * ("option ranked first" in c.then) + ("treatment intent becomes" in c.then)
        weight[c.fact] = max(weight.get(c.fact, 0), size)
    facts = list(dict.fromkeys(c.fact for c in changes))
    assert len(facts) == len({c.fact for c in changes})  # one block per field
    sizes = [weight[f] for f in facts]
    assert sizes == sorted(sizes, reverse=True), sizes
    for c in changes:
        assert c.then.endswith(".") and c.condition.startswith(c.fact)


def test_integer_ranges_are_disjoint_and_merged(kb: KnowledgeBase, make_case: Callable[..., Case]) -> None:
    case = make_case(health={"days_since_major_surgery": None})
    conditions = [
        c.condition for c in what_would_change(assess(case, kb), kb) if c.fact == "health.days_since_major_surgery"
    ]
    spans = []
    for text in conditions:
        m = re.fullmatch(r"health\.days_since_major_surgery (?:= (\d+)|in (\d+)\.\.(\d+)|>= (\d+))", text)
        assert m, text
        low = int(m.group(1) or m.group(2) or m.group(4))
        high = int(m.group(1) or m.group(3) or 36500)
        spans.append((low, high))
    spans.sort()
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_recommendation_json_carries_what_would_change(kb: KnowledgeBase) -> None:
    data: dict[str, Any] = merge(BASE_CASE, {"biomarkers": {"mmr": None, "braf": None}, "ecog": None})
    out = api.recommend(data, kb).to_dict()
    items = out["what_would_change"]
    expected = what_would_change(assess(validate_case(data, kb), kb), kb)
    assert [i["if"] for i in items] == [c.condition for c in expected]
    assert all(set(i) >= {"if", "then", "fact", "added", "removed", "reranked"} for i in items)
    assert api.recommend(data, kb, what_if=False).to_dict()["what_would_change"] == []


def test_sentences_name_no_phase_for_options_of_any_phase(kb: KnowledgeBase) -> None:
    sentences: list[str] = []

    @settings(max_examples=150, database=None, phases=[Phase.generate], derandomize=True)
    @given(cases())
    def collect(data: dict[str, Any]) -> None:
        sentences.extend(c.then for c in what_would_change(assess(validate_case(data, kb), kb), kb))

    collect()
    assert any("becomes the preferred option ranked first" in s for s in sentences), "an any-phase option tops one"
    assert not [s for s in sentences if " any option" in s]
