"""Bad input gets a precise error: which field, what was found, what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.adapters.case_json import decode_json
from rectoplan.api import validate_case
from rectoplan.core.errors import CaseError
from tests.conftest import BASE_CASE, merge


def problems(data: Any) -> list[str]:
    with pytest.raises(CaseError) as info:
        validate_case(data)
    return info.value.messages()


def test_valid_base_case_has_no_problem() -> None:
    case = validate_case(BASE_CASE)
    assert case.id == "base" and case.metastases is not None and case.metastases[0].site == "liver"


def test_unknown_field_is_named_with_a_suggestion() -> None:
    msgs = problems(merge(BASE_CASE, {"biomarkers": {"kras_status": "mutant"}}))
    assert len(msgs) == 1
    assert msgs[0].startswith("biomarkers.kras_status: found unknown field 'kras_status'")
    assert "did you mean 'kras_variant'?" in msgs[0] or "did you mean 'kras'?" in msgs[0]


def test_top_level_unknown_field() -> None:
    msgs = problems(merge(BASE_CASE, {"ecgo": 1}))
    assert msgs == [m for m in msgs if m.startswith("ecgo: found unknown field 'ecgo'")]
    assert "did you mean 'ecog'?" in msgs[0]


def test_value_outside_enumeration_lists_the_choices() -> None:
    msgs = problems(merge(BASE_CASE, {"biomarkers": {"braf": "V600E"}}))
    assert msgs[0].startswith("biomarkers.braf: found 'V600E'; expected one of v600e, other_mutation")


def test_numbers_out_of_range_and_wrong_types() -> None:
    msgs = problems(merge(BASE_CASE, {"ecog": 7, "age": "sixty", "metastases": [{"site": "liver", "count": 0}]}))
    joined = "\n".join(msgs)
    assert "ecog: found 7; expected a number <= 4" in joined
    assert "age: found 'sixty'; expected a whole number" in joined
    assert "metastases[0].count: found 0; expected a number >= 1" in joined
    assert len(msgs) == 3


def test_booleans_are_not_numbers() -> None:
    assert problems(merge(BASE_CASE, {"ecog": True}))[0].startswith("ecog: found true; expected a whole number")


def test_missing_id() -> None:
    data = merge(BASE_CASE, {"id": None})
    assert problems(data) == ["id: found nothing; expected a value (this field is required)"]


def test_contradiction_wild_type_kras_with_variant() -> None:
    msgs = problems(merge(BASE_CASE, {"biomarkers": {"kras": "wild_type", "kras_variant": "G12C"}}))
    assert msgs[0].startswith("biomarkers.kras_variant: found 'G12C' while biomarkers.kras is 'wild_type'")
    assert "contradictory" in msgs[0]


def test_contradiction_local_recurrence_with_primary_in_place() -> None:
    msgs = problems(merge(BASE_CASE, {"local_recurrence": {"resectability": "resectable"}}))
    assert msgs[0].startswith("local_recurrence: found a local recurrence while primary.status is 'in_place'")


def test_out_of_scope_case_says_what_is_missing() -> None:
    msgs = problems(merge(BASE_CASE, {"metastases": []}))
    assert msgs == [
        "metastases: found metastases: [] and no local_recurrence; expected at least one metastasis (stage 4)"
        " or a local_recurrence: rectoplan covers stage 4 or recurrent rectal cancer only"
    ]
    assert problems(merge(BASE_CASE, {"metastases": None}))[0].startswith("metastases: found no metastases")


def test_unknown_drug_and_procedure_ids() -> None:
    data = merge(BASE_CASE, {"prior": {"systemic_lines": [{"agents": ["5-fu", "oxaliplatine"]}], "surgeries": ["LAR"]}})
    msgs = problems(data)
    assert "prior.systemic_lines[0].agents[0]: found '5-fu'; expected a drug id of the vocabulary" in msgs[0]
    assert "did you mean 'oxaliplatin'?" in msgs[1]
    assert msgs[2].startswith("prior.surgeries[0]: found 'LAR'; expected a procedure id")


def test_duplicate_site_and_misplaced_ongoing_line() -> None:
    data = merge(
        BASE_CASE,
        {
            "metastases": [{"site": "liver"}, {"site": "liver"}],
            "prior": {
                "systemic_lines": [
                    {"agents": ["irinotecan"], "stopped_for": "ongoing"},
                    {"agents": ["regorafenib"]},
                ]
            },
        },
    )
    msgs = problems(data)
    assert any(m.startswith("metastases[1].site: found 'liver' listed again") for m in msgs)
    assert any(m.startswith("prior.systemic_lines[0].stopped_for: found 'ongoing'") for m in msgs)


@pytest.mark.parametrize("data", [[], "text", 3, None])
def test_non_object_input(data: Any) -> None:
    assert problems(data)[0].startswith("(root): found")


def test_wrong_format_marker() -> None:
    assert problems(merge(BASE_CASE, {"format": "rectoplan.case/3"}))[0].startswith("format: found 'rectoplan.case/3'")


def test_hostile_input_sizes_are_bounded() -> None:
    many = merge(BASE_CASE, {"prior": {"systemic_lines": [{"agents": ["irinotecan"]}] * 50}})
    assert problems(many)[0].startswith("prior.systemic_lines: found")
    long_id = merge(BASE_CASE, {"id": "x" * 10_000})
    assert problems(long_id)[0].startswith("id: found 'xxxxxxxx")


def test_json_decoding_errors_are_located() -> None:
    with pytest.raises(CaseError) as info:
        decode_json('{"id": "a",\n "ecog": }')
    assert info.value.messages()[0] == (
        "line 2 column 10: found unexpected character, expected a JSON value; expected valid JSON"
    )
    with pytest.raises(CaseError) as deep:
        decode_json("[" * 100_000 + "]" * 100_000)
    assert "reasonable depth" in deep.value.messages()[0]


def test_unknown_values_become_none_not_defaults() -> None:
    case = validate_case(merge(BASE_CASE, {"biomarkers": {"mmr": "unknown"}, "health": {"dpyd": "unknown"}}))
    assert case.biomarkers.mmr is None and case.health.dpyd is None


def test_a_key_given_twice_is_an_error_naming_where() -> None:
    with pytest.raises(CaseError) as info:
        decode_json('{"id": "a", "metastases": [{"site": "liver", "count": 2, "count": 3}]}')
    assert info.value.messages() == [
        "metastases[0]: found the key 'count' twice in one object; expected each key once (which value is meant?)"
    ]
    with pytest.raises(CaseError) as info:
        decode_json(b'{"id": "a", "id": "b"}')
    assert info.value.messages()[0].startswith("(root): found the key 'id' twice")
    assert decode_json('{"a": {"id": 1}, "id": 2}') == {"a": {"id": 1}, "id": 2}  # same key, other objects


def test_nesting_that_only_the_second_pass_refuses_is_an_error_too() -> None:
    for depth in (1000, 1020):  # orjson allows 1024 levels; the duplicate-key pass stops near 1000
        for opening, closing in (("[", "]"), ('{"a":', "}")):
            text = '{"id": "x", "deep": ' + opening * depth + "1" + closing * depth + "}"
            with pytest.raises(CaseError) as info:
                decode_json(text)
            assert "nesting deeper than" in info.value.messages()[0]


def test_a_byte_order_mark_is_ignored() -> None:
    assert decode_json(b'\xef\xbb\xbf{"id": "a"}') == {"id": "a"}
    assert decode_json('\ufeff{"id": "a"}') == {"id": "a"}
