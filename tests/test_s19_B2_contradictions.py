"""Stop 19 (B2): three more contradictory records refused with a precise problem (field, found, expected), by
the case JSON validator, the command line (exit 2, nothing on stdout) and every cohort engine (an error row
naming the flat columns), never read silently; the generators never draw them.

- `health.bilirubin_over_3_uln: true` with `health.bilirubin_raised: false`: above 3 x the upper limit of
  normal is above that limit;
- `prior.on_reintroduction: true` with `prior.on_maintenance: true`: the running line's two phases, of which
  the courses reading derives at most one;
- `prior.progressed_since_last_line` (true or false) with a history recorded as empty (`courses: []`,
  `systemic_lines: []`): the field is about the last line for advanced disease, which the record says there
  never was.

What stays valid, on purpose: bilirubin raised but not over 3 x ULN, or over 3 x ULN with `bilirubin_raised`
absent or true; either phase alone, or both false; growth since a recorded line; growth since the last line
with no history given at all (unknown, not empty: the recommendation warns that the history is not
recorded).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.case_json import parse_case
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import cohort_outcomes, refused_on_command_line

BASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "s19-b2",
    "age": 61,
    "ecog": 1,
    "metastases": [{"site": "liver", "count": 3, "resectability": "unresectable"}],
    "biomarkers": {"kras": "mutant", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"},
    "health": {"bilirubin_raised": True, "fit_for_intensive_therapy": True},
}
LINE = {"agents": ["fluorouracil", "leucovorin", "oxaliplatin"], "stopped_for": "completed"}


def case(**sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(sections))
    return data


def problems_of(data: dict[str, Any], kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    try:
        parse_case(data, kb.vocabulary.drugs, kb.vocabulary.procedures)
    except CaseError as exc:
        return [(p.path, p.found, p.expected) for p in exc.problems]
    return []


# (name, case, [(path, found, expected)]) of every contradiction refused
REFUSED: list[tuple[str, dict[str, Any], list[tuple[str, str, str]]]] = [
    (
        "bilirubin-over-3-uln-not-raised",
        case(health={"bilirubin_over_3_uln": True, "bilirubin_raised": False}),
        [
            (
                "health.bilirubin_raised",
                "false while health.bilirubin_over_3_uln is true",
                "true or absent when health.bilirubin_over_3_uln is true (a total bilirubin above 3 times the upper"
                " limit of normal is above the upper limit of normal), or health.bilirubin_over_3_uln false",
            )
        ],
    ),
    (
        "reintroduction-and-maintenance",
        case(
            prior={
                "systemic_lines": [{**LINE, "stopped_for": "ongoing"}],
                "on_reintroduction": True,
                "on_maintenance": True,
            }
        ),
        [
            (
                "prior.on_maintenance",
                "true while prior.on_reintroduction is true",
                "false or absent when prior.on_reintroduction is true (a running line is either re-introducing its"
                " induction or in its maintenance phase, not both), or prior.on_reintroduction false",
            )
        ],
    ),
    (
        "growth-since-no-course",
        case(prior={"courses": [], "progressed_since_last_line": True}),
        [
            (
                "prior.progressed_since_last_line",
                "true while prior.courses is empty (no line for advanced disease recorded)",
                "no progressed_since_last_line when prior.courses records no line (the field is about the last line"
                " for advanced disease), or that line in prior.courses",
            )
        ],
    ),
    (
        "no-growth-since-no-line",
        case(prior={"systemic_lines": [], "progressed_since_last_line": False}),
        [
            (
                "prior.progressed_since_last_line",
                "false while prior.systemic_lines is empty (no line for advanced disease recorded)",
                "no progressed_since_last_line when prior.systemic_lines records no line (the field is about the"
                " last line for advanced disease), or that line in prior.systemic_lines",
            )
        ],
    ),
]

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("bilirubin-raised-not-over-3-uln", case(health={"bilirubin_raised": True, "bilirubin_over_3_uln": False})),
    ("bilirubin-over-3-uln-and-raised", case(health={"bilirubin_raised": True, "bilirubin_over_3_uln": True})),
    ("bilirubin-over-3-uln-alone", case(health={"bilirubin_over_3_uln": True})),
    ("bilirubin-normal", case(health={"bilirubin_raised": False, "bilirubin_over_3_uln": False})),
    ("maintenance-alone", case(prior={"on_maintenance": True, "on_reintroduction": False})),
    ("reintroduction-alone", case(prior={"on_reintroduction": True})),
    ("neither-phase", case(prior={"on_maintenance": False, "on_reintroduction": False})),
    ("growth-since-a-line", case(prior={"systemic_lines": [LINE], "progressed_since_last_line": True})),
    ("no-line-and-no-growth-recorded", case(prior={"systemic_lines": []})),
    ("growth-since-unrecorded-history", case(prior={"progressed_since_last_line": True})),
]


@pytest.mark.parametrize(("name", "data", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_contradictions_are_refused_with_field_found_and_expected(
    kb: KnowledgeBase, name: str, data: dict[str, Any], expected: list[tuple[str, str, str]]
) -> None:
    assert problems_of(data, kb) == expected, name


@pytest.mark.parametrize(("name", "data"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_consistent_records_stay_valid(kb: KnowledgeBase, name: str, data: dict[str, Any]) -> None:
    assert problems_of(data, kb) == [], name


@pytest.mark.parametrize(("name", "data", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_command_line_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: dict[str, Any], expected: list[Any]
) -> None:
    err = refused_on_command_line(tmp_path, capsys, name, data)
    for field, found, _ in expected:
        assert f"error: {field}: found {found}; expected " in err


# --- the cohort: the same contradictions, the flat columns named, every engine alike ---------------------
def _rows() -> list[dict[str, Any]]:
    """Flat rows: each contradiction a flat row can hold, a valid row (its consistent twin) before each."""
    from rectoplan.cohort.columns import flatten_contract

    pairs = [
        (
            {"bilirubin_over_3_uln": True, "bilirubin_raised": True},
            {"bilirubin_over_3_uln": True, "bilirubin_raised": False},
        ),
        (
            {"prior_on_maintenance": True, "prior_on_reintroduction": False},
            {"prior_on_maintenance": True, "prior_on_reintroduction": True},
        ),
        (
            {"prior_lines": [], "prior_progressed_since_last_line": None},
            {"prior_lines": [], "prior_progressed_since_last_line": True},
        ),
        (
            {"prior_lines": [LINE], "prior_progressed_since_last_line": False},
            {"prior_lines": [], "prior_progressed_since_last_line": False},
        ),
    ]
    base = flatten_contract({**BASE, "format": "rectoplan.case/2"})
    rows = []
    for i, (good, bad) in enumerate(pairs):
        rows.append({**base, **good, "id": f"ok{i}"})
        rows.append({**base, **bad, "id": f"bad{i}"})
    return rows


COHORT_ERRORS = {
    2: (
        "bilirubin_raised: found false while bilirubin_over_3_uln is true; expected true or absent when"
        " bilirubin_over_3_uln is true (a total bilirubin above 3 times the upper limit of normal is above the"
        " upper limit of normal), or bilirubin_over_3_uln false",
    ),
    4: (
        "prior_on_maintenance: found true while prior_on_reintroduction is true; expected false or absent when"
        " prior_on_reintroduction is true (a running line is either re-introducing its induction or in its"
        " maintenance phase, not both), or prior_on_reintroduction false",
    ),
    6: (
        "prior_progressed_since_last_line: found true while prior_lines is empty (no line for advanced disease"
        " recorded); expected no progressed_since_last_line when prior_lines records no line (the field is about"
        " the last line for advanced disease), or that line in prior_lines",
    ),
    8: (
        "prior_progressed_since_last_line: found false while prior_lines is empty (no line for advanced disease"
        " recorded); expected no progressed_since_last_line when prior_lines records no line (the field is about"
        " the last line for advanced disease), or that line in prior_lines",
    ),
}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cohort_rows_get_the_same_errors_naming_their_columns(fmt: str, kb: KnowledgeBase, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.test_cohort_equivalence import write_csv

    rows = _rows()
    path = tmp_path / f"rows.{fmt}"
    if fmt == "csv":
        write_csv(rows, path)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:  # native lists: the Arrow list stage reads them
        names = sorted({k for r in rows for k in r})
        columns = {n: [r.get(n) for r in rows] for n in names}
        line = pa.struct([("agents", pa.list_(pa.string())), ("stopped_for", pa.string())])
        columns["prior_lines"] = pa.array(columns["prior_lines"], pa.list_(line))
        pq.write_table(pa.table(columns), path)
    for engine, (errors, kept) in cohort_outcomes(path, kb).items():
        assert errors == COHORT_ERRORS, engine
        assert kept == [1, 3, 5, 7], engine


def test_the_generators_and_what_if_know_the_validators_pairs() -> None:
    """`rectoplan.synthetic.agree` and what-if's probes (layers below the validator) read the validator's pairs
    of exclusive fields from the one declaration beside the field table."""
    from rectoplan import synthetic
    from rectoplan.adapters import _case_json_checks
    from rectoplan.core import _probes

    assert synthetic.EXCLUSIVE is _case_json_checks.EXCLUSIVE is _probes.EXCLUSIVE  # one definition, core.fields


def test_what_if_never_probes_a_contradiction(kb: KnowledgeBase) -> None:
    """A probe of an unknown field is itself a valid case: no probe gives `bilirubin_raised` false beside a
    bilirubin over 3 x ULN, `on_maintenance` true beside a re-introduction, or no earlier line beside growth
    since the last line."""
    from rectoplan.api import validate_case
    from rectoplan.core._probes import probes
    from rectoplan.verify.casejson import case_dict

    partial = [
        case(health={"bilirubin_over_3_uln": True}),
        case(prior={"systemic_lines": [{**LINE, "stopped_for": "ongoing"}], "on_reintroduction": True}),
        case(prior={"progressed_since_last_line": True}),
    ]
    for data in partial:
        for probe in probes(validate_case(data, kb), kb):
            assert problems_of(case_dict(probe.case), kb) == [], probe.text
