"""The rule language: type-checking with suggestions, three-valued semantics, compiler = interpreter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rectoplan.core.conditions import (
    All,
    Const,
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


FACT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ecog": st.one_of(st.none(), st.integers(0, 4)),
    "biomarkers.kras": st.sampled_from([None, "wild_type", "mutant"]),
    "biomarkers.mmr": st.sampled_from([None, "dmmr_msi_h", "pmmr_mss"]),
    "metastases.sites": st.one_of(st.none(), st.frozensets(st.sampled_from(["liver", "lung", "bone"]))),
    "prior.pelvic_radiation": st.sampled_from([None, True, False]),
}
LEAVES = st.sampled_from(
    [
        {"fact": "ecog", "ge": 2},
        {"fact": "ecog", "in": [0, 1]},
        {"fact": "ecog", "known": True},
        {"fact": "biomarkers.kras", "is": "mutant"},
        {"fact": "biomarkers.kras", "not_in": ["wild_type"]},
        {"fact": "biomarkers.mmr", "is_not": "pmmr_mss"},
        {"fact": "metastases.sites", "contains": "liver"},
        {"fact": "metastases.sites", "contains_any": ["lung", "bone"]},
        {"fact": "metastases.sites", "contains_all": ["liver", "lung"]},
        {"fact": "prior.pelvic_radiation", "is": True},
        True,
        False,
    ]
)
TREES = st.recursive(
    LEAVES,
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(kids, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        kids.map(lambda x: {"not": x}),
        st.tuples(st.lists(kids, min_size=1, max_size=3), st.integers(0, 3)).map(lambda t: {"count": t[0], "ge": t[1]}),
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(TREES, st.fixed_dictionaries(FACT_VALUES))
def test_compiled_closures_agree_with_the_interpreter(tree: Any, facts: dict[str, Any]) -> None:
    cond = parse(tree, SCHEMA)
    assert compile_condition(cond)(facts) is evaluate(cond, facts)
    assert parse(to_data(cond), SCHEMA) == cond


@settings(max_examples=200, deadline=None)
@given(TREES, st.fixed_dictionaries(FACT_VALUES))
def test_unknown_never_becomes_true_by_learning_nothing(tree: Any, facts: dict[str, Any]) -> None:
    """Monotonicity: if a condition is decided with unknowns, filling them in cannot flip it."""
    cond = parse(tree, SCHEMA)
    result = evaluate(cond, facts)
    filled = {
        k: (
            v
            if v is not None
            else {
                "ecog": 0,
                "biomarkers.kras": "mutant",
                "biomarkers.mmr": "dmmr_msi_h",
                "metastases.sites": frozenset({"liver"}),
                "prior.pelvic_radiation": True,
            }[k]
        )
        for k, v in facts.items()
    }
    if result is not None and not _reads_known(tree):
        assert evaluate(cond, filled) is result


def _reads_known(tree: Any) -> bool:
    return "'known'" in repr(tree)


def test_shipped_knowledge_conditions_all_parse(kb: KnowledgeBase) -> None:
    for option in kb.options:
        for setting in option.settings:
            assert setting.check is not None
            for name in facts_read(setting.when):
                assert name in kb.schema and not kb.schema[name].option, (option.id, name)
