"""The rule language: type-checking with suggestions, three-valued semantics, compiler = interpreter."""

from __future__ import annotations

from typing import Any, assert_never

import pytest
from hypothesis import event, given, settings

from rectoplan.core.conditions import (
    All,
    AnyOf,
    Condition,
    Const,
    Count,
    Not,
    Test,
    bind,
    compile_condition,
    count_result,
    evaluate,
    facts_read,
    parse,
    to_data,
)
from rectoplan.core.errors import RuleError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import default_knowledge
from tests.strategies import case_facts_only, conditions, examples, fact_values

SCHEMA = default_knowledge().schema


def rule_error(data: Any) -> list[str]:
    with pytest.raises(RuleError) as info:
        parse(data, SCHEMA, "when")
    return info.value.messages()


def test_unknown_fact_suggests_the_nearest() -> None:
    msgs = rule_error({"fact": "biomarkers.krass", "is": "mutant"})
    assert msgs == [
        "when.fact: found 'biomarkers.krass'; expected a fact of the schema (did you mean 'biomarkers.kras'?)"
    ]


def test_value_outside_domain_suggests() -> None:
    msgs = rule_error({"fact": "biomarkers.mmr", "is": "dmmr"})
    assert msgs[0].startswith("when.is: found 'dmmr'; expected one of dmmr_msi_h, pmmr_mss")
    assert "did you mean 'dmmr_msi_h'?" in msgs[0]


def test_operator_must_fit_the_fact_type() -> None:
    assert "an int fact" in rule_error({"fact": "biomarkers.kras", "lt": 3})[0]
    assert "a set fact" in rule_error({"fact": "ecog", "contains": 1})[0]
    assert "one of contains" in rule_error({"fact": "metastases.sites", "is": "liver"})[0]
    assert "a number in 0..4" in rule_error({"fact": "ecog", "ge": 9})[0]
    assert "exactly one operator" in rule_error({"fact": "ecog", "ge": 1, "le": 3})[0]
    assert "did you mean 'contains'?" in rule_error({"fact": "symptoms", "contain": "pain"})[0]


def test_malformed_structure_reports_every_problem_with_its_path() -> None:
    msgs = rule_error({"all": [{"fact": "ecog", "ge": "two"}, {"any": []}, {"nto": True}]})
    assert msgs[0].startswith("when.all[0].ge: found 'two'; expected a whole number")
    assert msgs[1].startswith("when.all[1].any: found []; expected a non-empty list")
    assert msgs[2].startswith("when.all[2]: found keys ['nto']") and "did you mean 'not'?" in msgs[2]


def test_kleene_logic() -> None:
    unknown = parse({"fact": "biomarkers.kras", "is": "mutant"}, SCHEMA)
    true = Const(True)
    false = Const(False)
    facts: dict[str, Any] = {"biomarkers.kras": None}
    assert evaluate(unknown, facts) is None
    assert evaluate(parse({"not": {"fact": "biomarkers.kras", "is": "mutant"}}, SCHEMA), facts) is None
    assert evaluate(All((unknown, false)), facts) is False
    assert evaluate(All((unknown, true)), facts) is None
    assert evaluate(parse({"any": [{"fact": "biomarkers.kras", "is": "mutant"}, True]}, SCHEMA), facts) is True
    assert evaluate(parse({"fact": "biomarkers.kras", "known": False}, SCHEMA), facts) is True


@pytest.mark.parametrize(
    ("op", "n", "true", "unknown", "expected"),
    [
        ("ge", 2, 2, 0, True),
        ("ge", 2, 1, 1, None),
        ("ge", 2, 0, 1, False),
        ("le", 1, 1, 0, True),
        ("le", 1, 1, 1, None),
        ("eq", 0, 0, 0, True),
        ("lt", 3, 0, 2, True),
    ],
)
def test_count_is_decided_only_when_all_completions_agree(
    op: str, n: int, true: int, unknown: int, expected: bool | None
) -> None:
    assert count_result(op, n, true, unknown) is expected


def test_bind_resolves_option_facts_and_folds_constants() -> None:
    data = {
        "all": [
            {"fact": "option.classes", "contains": "anti_egfr"},
            {"fact": "prior.progressed_classes", "contains_all": {"fact": "option.resistance_classes"}},
        ]
    }
    cond = parse(data, SCHEMA)
    bound = bind(
        cond,
        {
            "option.classes": frozenset({"anti_egfr"}),
            "option.resistance_classes": frozenset({"platinum", "anti_egfr"}),
        },
    )
    assert bound == Test("prior.progressed_classes", "contains_all", ("anti_egfr", "platinum"))
    assert bind(cond, {"option.classes": frozenset(), "option.resistance_classes": frozenset()}) == Const(False)
    assert facts_read(bound) == {"prior.progressed_classes"}
    assert to_data(bound) == {"fact": "prior.progressed_classes", "contains_all": ["anti_egfr", "platinum"]}


CASE_FACTS = case_facts_only(SCHEMA)


@settings(max_examples=examples(200))
@given(conditions(CASE_FACTS), fact_values(CASE_FACTS))
def test_compiled_closures_agree_with_the_interpreter(cond: Condition, facts: dict[str, Any]) -> None:
    assert compile_condition(cond)(facts) is evaluate(cond, facts)
    assert parse(to_data(cond), SCHEMA) == cond  # the generated tree is one the rule language can write


@settings(max_examples=examples(200))
@given(conditions(CASE_FACTS), fact_values(CASE_FACTS), fact_values(CASE_FACTS, unknown=False))
def test_unknown_never_becomes_true_by_learning_nothing(
    cond: Condition, facts: dict[str, Any], completion: dict[str, Any]
) -> None:
    """Monotonicity: if a condition is decided with unknowns, filling them in cannot flip it."""
    result = evaluate(cond, facts)
    event(f"decided: {result is not None}")
    filled = {k: completion[k] if v is None else v for k, v in facts.items()}
    if result is not None and not _reads_known(cond):
        assert evaluate(cond, filled) is result


def _reads_known(cond: Condition) -> bool:
    return any(op == "known" for op, _ in _ops(cond))


def _ops(cond: Condition) -> list[tuple[str, Any]]:
    match cond:
        case Test():
            return [(cond.op, cond.value)]
        case Not():
            return _ops(cond.item)
        case All() | AnyOf() | Count():
            return [op for item in cond.items for op in _ops(item)]
        case Const():
            return []
        case _:
            assert_never(cond)


def test_shipped_knowledge_conditions_all_parse(kb: KnowledgeBase) -> None:
    for option in kb.options:
        for setting in option.settings:
            assert setting.check is not None
            for name in facts_read(setting.when):
                assert name in kb.schema and not kb.schema[name].option, (option.id, name)
