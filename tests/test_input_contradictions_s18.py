"""Stop 18 (review 14, F13 and F7 part 4): contradictory records are refused with a precise problem (field,
found, expected), by the case JSON validator, the command line (exit 2, nothing on stdout) and every cohort
engine (an error row naming the flat columns the row has), never read silently.

- growth since the last line recorded true while that line still runs (its course `ongoing`, or a contract 1
  line `stopped_for: ongoing`): the record says the cancer grew and the plan would be to continue the line;
  growth on a running line is that line stopped for progression;
- a symptom listed twice (primary or local recurrence) or a declined treatment listed twice, as a site listed
  twice is;
- the MRI staging (`mri_t`, `mri_n`, `crm_involved`, `emvi`) or the resectability of a primary recorded as
  resected: the field table describes them as findings of a primary in place.

What stays valid, on purpose: a bleeding tumour with `health.bleeding_risk: false` (the knowledge base reads it
as the team's judgement of no active bleeding: anti-VEGF with the bleeding warning, invariant
anti-vegf-not-with-unjudged-bleeding-tumour); no growth (`false`) on a running line; the MRI staging of a
primary in place or of unrecorded status; the height of a resected primary; an operation listed twice (a
repeat liver resection).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.case_json import parse_case
from rectoplan.core.errors import CaseError
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import cohort_outcomes, refused_on_command_line, replaced_case, write_rows

# The probes of review 14 (bad/*.json), trimmed to what the checks read.
BASE: dict[str, Any] = {
    "format": "rectoplan.case/2",
    "id": "s18",
    "as_of": "2026-12-01",
    "advanced_disease_date": "2026-11-10",
    "age": 61,
    "ecog": 1,
    "primary": {
        "status": "in_place",
        "distance_from_anal_verge_cm": 5,
        "mri_t": "T3",
        "mri_n": "N1",
        "crm_involved": True,
        "emvi": True,
        "resectability": "resectable",
        "stoma": False,
        "symptoms": ["bleeding"],
    },
    "metastases": [{"site": "liver", "count": 3, "resectability": "resectable", "largest_mm": 30}],
    "biomarkers": {"kras": "wild_type", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"},
    "prior": {"pelvic_radiation": False, "surgeries": [], "courses": []},
    "health": {"bleeding_risk": False, "fit_for_intensive_therapy": True, "days_since_major_surgery": 400},
}
RUNNING = {
    "agents": ["capecitabine", "oxaliplatin", "bevacizumab"],
    "setting": "advanced",
    "start": "2026-08-01",
    "status": "ongoing",
    "best_response": "partial",
}
MRI = ("mri_t", "mri_n", "crm_involved", "emvi", "resectability")
RESECTED_FOUND = {
    "mri_t": "'T3'",
    "mri_n": "'N1'",
    "crm_involved": "true",
    "emvi": "true",
    "resectability": "'resectable'",
}


def case(**parts: Any) -> dict[str, Any]:
    """BASE with whole sections (or section keys, as `section__key`) replaced."""
    return replaced_case(BASE, **parts)


def problems_of(data: dict[str, Any], kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    try:
        parse_case(data, kb.vocabulary.drugs, kb.vocabulary.procedures)
    except CaseError as exc:
        return [(p.path, p.found, p.expected) for p in exc.problems]
    return []


def progressed_on_running_course() -> dict[str, Any]:
    return case(prior={"pelvic_radiation": False, "courses": [RUNNING], "progressed_since_last_line": True})


def progressed_on_running_line() -> dict[str, Any]:
    lines = [
        {"agents": ["fluorouracil", "leucovorin", "oxaliplatin"], "stopped_for": "progression"},
        {"agents": ["fluorouracil", "leucovorin", "irinotecan"], "stopped_for": "ongoing"},
    ]
    return case(prior={"systemic_lines": lines, "progressed_since_last_line": True})


def resected_with_mri() -> dict[str, Any]:
    return case(primary__status="resected")


# (name, case, [(path, found)]) of every contradiction refused
REFUSED: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "progressed-since-with-ongoing-course",
        progressed_on_running_course(),
        [
            (
                "prior.progressed_since_last_line",
                "true while prior.courses[0].status is 'ongoing' (the last line still runs)",
            )
        ],
    ),
    (
        "progressed-since-with-ongoing-line",
        progressed_on_running_line(),
        [
            (
                "prior.progressed_since_last_line",
                "true while prior.systemic_lines[1].stopped_for is 'ongoing' (the last line still runs)",
            )
        ],
    ),
    (
        "dup-symptom",
        case(primary__symptoms=["bleeding", "bleeding"]),
        [("primary.symptoms[1]", "'bleeding' listed again (also primary.symptoms[0])")],
    ),
    (
        "dup-recurrence-symptom",
        case(
            primary={"status": "resected"},
            local_recurrence={"resectability": "resectable", "symptoms": ["pain", "bleeding", "pain"]},
        ),
        [("local_recurrence.symptoms[2]", "'pain' listed again (also local_recurrence.symptoms[0])")],
    ),
    (
        "dup-decline",
        case(preferences={"declines": ["stoma", "surgery", "stoma"]}),
        [("preferences.declines[2]", "'stoma' listed again (also preferences.declines[0])")],
    ),
    (
        "crm-on-resected",
        resected_with_mri(),
        [(f"primary.{name}", f"{RESECTED_FOUND[name]} while primary.status is 'resected'") for name in MRI],
    ),
]

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("bleeding-tumour-judged-not-bleeding", case()),
    ("bleeding-tumour-risk-unrecorded", case(health={"fit_for_intensive_therapy": True})),
    (
        "no-growth-on-running-line",
        case(prior={"courses": [RUNNING], "progressed_since_last_line": False}),
    ),
    (
        "growth-after-a-stopped-line",
        case(
            prior={
                "courses": [{**RUNNING, "status": "stopped", "stopped_for": "treatment_break", "end": "2026-10-01"}],
                "progressed_since_last_line": True,
            }
        ),
    ),
    (
        "mri-of-a-primary-of-unrecorded-status",
        case(primary={k: v for k, v in BASE["primary"].items() if k != "status"}),
    ),
    (
        "height-of-a-resected-primary",
        case(primary={"status": "resected", "distance_from_anal_verge_cm": 5, "stoma": False, "symptoms": []}),
    ),
    ("operation-listed-twice", case(primary={"status": "resected"}, prior__surgeries=["liver_resection"] * 2)),
]


@pytest.mark.parametrize(("name", "data", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_contradictions_are_refused_with_field_found_and_expected(
    kb: KnowledgeBase, name: str, data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    found = problems_of(data, kb)
    assert [(path, what) for path, what, _ in found] == expected, name
    assert all(why for _, _, why in found)


def test_growth_on_a_running_line_says_how_to_record_it(kb: KnowledgeBase) -> None:
    ((_, _, expected),) = problems_of(progressed_on_running_course(), kb)
    assert expected.startswith("false or absent while the last line runs")
    assert "prior.courses[0] with status 'stopped', stopped_for 'progression'" in expected
    ((_, _, expected),) = problems_of(progressed_on_running_line(), kb)
    assert expected.endswith("prior.systemic_lines[1].stopped_for 'progression'")


def test_mri_of_a_resected_primary_says_why(kb: KnowledgeBase) -> None:
    for path, _, expected in problems_of(resected_with_mri(), kb):
        name = path.removeprefix("primary.")
        assert expected.startswith(f"no {name} when primary.status is 'resected'")
        assert "describe a tumour in place" in expected and expected.endswith("or primary.status 'in_place'")


@pytest.mark.parametrize(("name", "data"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_consistent_records_stay_valid(kb: KnowledgeBase, name: str, data: dict[str, Any]) -> None:
    assert problems_of(data, kb) == [], name


# --- the command line: exit 2, the problem on stderr, nothing on stdout ---------------------------------
@pytest.mark.parametrize(("name", "data", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_command_line_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: dict[str, Any], expected: list[Any]
) -> None:
    err = refused_on_command_line(tmp_path, capsys, name, data)
    for field, found in expected:
        assert f"error: {field}: found {found}; expected " in err


# --- the cohort: the same contradictions, the flat columns named, every engine alike ---------------------
def _rows() -> list[dict[str, Any]]:
    """Flat rows: each contradiction a flat row can hold, a valid row before and after each."""
    from rectoplan.cohort.columns import flatten_contract

    base: dict[str, Any] = {
        "id": "ok",
        "age": 61,
        "primary": {"status": "in_place", "mri_t": "T3", "crm_involved": True, "symptoms": ["bleeding"]},
        "metastases": [{"site": "liver", "count": 3, "resectability": "resectable"}],
        "prior": {
            "systemic_lines": [{"agents": ["fluorouracil", "leucovorin", "oxaliplatin"], "stopped_for": "ongoing"}],
            "progressed_since_last_line": False,
        },
        "health": {"bleeding_risk": False},
    }
    broken = [
        {"primary": {"status": "resected", "mri_t": "T3", "crm_involved": True}},
        {"primary": {"status": "in_place", "symptoms": ["bleeding", "pain", "bleeding"]}},
        {"prior": {**base["prior"], "progressed_since_last_line": True}},
        {"primary": {"status": "in_place", "stoma": False}, "prior": {"surgeries": ["abdominoperineal_resection"]}},
    ]
    rows = []
    for i, change in enumerate(broken):
        rows.append(flatten_contract({**base, "id": f"ok{i}"}))
        rows.append(flatten_contract({**base, **change, "id": f"bad{i}"}))
    rows.append(flatten_contract({**base, "id": "ok-last"}))
    return rows


COHORT_ERRORS = {
    2: (
        "primary_mri_t: found 'T3' while primary_status is 'resected'; expected no mri_t when primary_status is"
        " 'resected' (the MRI staging and the resectability of the primary describe a tumour in place), or"
        " primary_status 'in_place'",
        "primary_crm_involved: found true while primary_status is 'resected'; expected no crm_involved when"
        " primary_status is 'resected' (the MRI staging and the resectability of the primary describe a tumour in"
        " place), or primary_status 'in_place'",
    ),
    4: ("primary_symptoms[2]: found 'bleeding' listed again (also primary_symptoms[0]); expected each symptom once",),
    6: (
        "prior_progressed_since_last_line: found true while prior_lines[0].stopped_for is 'ongoing' (the last line"
        " still runs); expected false or absent while the last line runs; if the cancer grew on it,"
        " prior_lines[0].stopped_for 'progression'",
    ),
    8: (
        "primary_status: found 'in_place' while prior_surgeries lists 'abdominoperineal_resection'; expected"
        " primary_status 'resected' (an abdominoperineal resection removes the rectal primary), or no"
        " 'abdominoperineal_resection' in prior_surgeries",
        "primary_stoma: found false while prior_surgeries lists 'abdominoperineal_resection'; expected"
        " primary_stoma true or absent (an abdominoperineal resection leaves a permanent colostomy), or no"
        " 'abdominoperineal_resection' in prior_surgeries",
    ),
}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cohort_rows_get_the_same_errors_naming_their_columns(fmt: str, kb: KnowledgeBase, tmp_path: Path) -> None:
    path = write_rows(_rows(), tmp_path / f"rows.{fmt}", ("primary_symptoms", "prior_surgeries"))
    for engine, (errors, kept) in cohort_outcomes(path, kb).items():
        assert errors == COHORT_ERRORS, engine
        assert kept == [1, 3, 5, 7, 9], engine


def test_the_generators_know_the_validators_fields() -> None:
    """`rectoplan.synthetic.agree` (a layer below the validator) uses its field and setting names."""
    from rectoplan import synthetic
    from rectoplan.adapters import _case_json_checks

    assert synthetic.IN_PLACE_ONLY == _case_json_checks.IN_PLACE_ONLY
    assert synthetic.LINE_SETTINGS is _case_json_checks.LINE_SETTINGS  # one declaration, core.case


def test_generated_cases_never_draw_these_contradictions(kb: KnowledgeBase) -> None:
    """Independent draws gave a resected primary MRI staging, or a running line growth since it, in about one
    random case in five; `agree` resolves both after the draws, and every case validates."""
    from rectoplan.synthetic import random_cases

    cases = random_cases(600, seed=18)
    assert all(problems_of(c, kb) == [] for c in cases)
    resected = [c["primary"] for c in cases if c.get("primary", {}).get("status") == "resected"]
    assert resected and not any(set(p) & {"mri_t", "mri_n", "crm_involved", "emvi", "resectability"} for p in resected)


def test_what_if_never_probes_a_resected_primary_with_its_mri_staging() -> None:
    """`core._probes` (below the validator) names the fields of a primary in place too: a case of unrecorded
    status with MRI staging is probed 'in_place' only (a probe 'resected' would be a record the validator
    refuses)."""
    from rectoplan.adapters import _case_json_checks
    from rectoplan.core import _probes

    assert tuple(f"primary.{name}" for name in _case_json_checks.IN_PLACE_ONLY) == _probes.IN_PLACE_ONLY
