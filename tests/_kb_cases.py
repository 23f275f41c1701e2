"""Pieces that the hand-written cases of the knowledge tests share (review 3, stop 16's review-13 findings, stop 17).

Why: those test modules each spelled out the same recorded health section, biomarker panel and "offered options
by id" helper (two of them also the same metastases), and a copy that drifts (one field changed in one file only)
would quietly make two cases differ in what they are not about. Each case still names, in its own file, what it
changes or adds, so a reader sees the whole case where the test is.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pytest

from rectoplan.api import recommend
from rectoplan.core.case import Case
from rectoplan.core.engine import recommend as engine_recommend
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Exclusion, OptionResult, Recommendation

# A fit patient's health as these cases record it: each field known and unremarkable, so no outcome of theirs
# rests on an unknown value here. Read-only: `known_health` hands out fresh copies for cases to change.
KNOWN_HEALTH: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "dpyd": "normal",
        "bleeding_risk": False,
        "fit_for_intensive_therapy": True,
        "neuropathy_grade": 0,
        "creatinine_clearance": 90,
        "bilirubin_raised": False,
        "ugt1a1": "normal",
    }
)


# The rarer contraindications that stop 16's and 17's cases record as absent (each read by some rule), for
# `known_health(days, **RARE_RISKS_ABSENT, ...)`.
RARE_RISKS_ABSENT: Final[Mapping[str, bool]] = MappingProxyType(
    {"recent_arterial_thrombosis": False, "organ_transplant": False, "fluoropyrimidine_cardiotoxicity": False}
)


def known_health(days_since_major_surgery: int, **more: Any) -> dict[str, Any]:
    """A new health section: `KNOWN_HEALTH`, then `more` (added or overriding fields), then the days since surgery.

    The days are required because the cases differ in them (400 or 700) and the surgery rules read them.
    """
    return {**KNOWN_HEALTH, **more, "days_since_major_surgery": days_since_major_surgery}


def recorded_health(**changes: Any) -> dict[str, Any]:
    """Review 15's health section (stop 18): every field of it recorded and unremarkable (surgery 400 days ago),
    with `changes` (the fact a test is about) set or added."""
    unremarkable = {"coronary_disease": False, "uncontrolled_hypertension": False, "proteinuria": False}
    quiet = {"autoimmune_disease": False, "frail": False}
    return {**known_health(400, **RARE_RISKS_ABSENT, **unremarkable, **quiet), **changes}


# What these cases record as tested: RAS and BRAF wild-type, pMMR/MSS, HER2 IHC 0-1+, no NTRK or RET fusion.
KNOWN_PANEL: Final[Mapping[str, str]] = MappingProxyType(
    {
        "kras": "wild_type",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2_result": "ihc0_1",
        "ntrk_fusion": "negative",
        "ret_fusion": "negative",
    }
)


def known_panel(**changes: str) -> dict[str, str]:
    """A new biomarker section: `KNOWN_PANEL` with `changes` (the result a test is about) set or added."""
    return {**KNOWN_PANEL, **changes}


def unresectable_liver_and_lung() -> list[dict[str, Any]]:
    """Review 13's z11 and z32 disease, as a new list: 6 liver (largest 40 mm) and 4 lung (largest 15 mm)
    metastases, none resectable."""
    return [
        {"site": "liver", "count": 6, "resectability": "unresectable", "largest_mm": 40},
        {"site": "lung", "count": 4, "resectability": "unresectable", "largest_mm": 15},
    ]


def progressed_course(agents: list[str], start: str, end: str) -> dict[str, Any]:
    """A new course of advanced-disease treatment with `agents`, stopped for progression after a partial response."""
    return {
        "agents": agents,
        "setting": "advanced",
        "start": start,
        "end": end,
        "status": "stopped",
        "stopped_for": "progression",
        "best_response": "partial",
    }


def options_by_id(case: dict[str, Any], kb: KnowledgeBase) -> dict[str, dict[str, Any]]:
    """The offered options of `case` as the JSON output has them (rank, strength, trace, cautions), by option id."""
    return {o["id"]: o for o in recommend(case, kb).to_dict()["options"]}


# --- stop 19: the shells the stop 17 and 18 test files each spelled out -----------------------------------------


def merged_case(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A new copy of `base` with `changes`: a dict given for a section that is a dict updates that section's
    keys (the others stay); anything else replaces the value. Nothing of `base` or `changes` is shared."""
    case = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(case.get(key), dict):
            case[key].update(copy.deepcopy(value))
        else:
            case[key] = copy.deepcopy(value)
    return case


def replaced_case(base: Mapping[str, Any], **parts: Any) -> dict[str, Any]:
    """A new copy of `base` with whole sections replaced, or one key of a section as `section__key`."""
    case = copy.deepcopy(dict(base))
    for key, value in parts.items():
        section, _, name = key.partition("__")
        if name:
            case[section][name] = value
        else:
            case[section] = value
    return case


# Review 15's cases (stop 18) all share these: a resected primary after pelvic radiation and a low anterior
# resection with total mesorectal excision, as of 2026-12-01, age 63, ECOG 1, KRAS G12D, no trial wanted.
REVIEW15_SURGERIES: Final[tuple[str, ...]] = ("low_anterior_resection", "total_mesorectal_excision")
REVIEW15_FOLFOX_BEV: Final[tuple[str, ...]] = ("fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab")
REVIEW15_FOLFIRI_BEV: Final[tuple[str, ...]] = ("fluorouracil", "leucovorin", "irinotecan", "bevacizumab")


def review15_prior(courses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Review 15's prior treatment section, new: pelvic radiation, LAR with TME, and `courses` (none if None)."""
    return {"pelvic_radiation": True, "surgeries": list(REVIEW15_SURGERIES), "courses": list(courses or [])}


def review15_two_lines() -> list[dict[str, Any]]:
    """Review 15's third-line history (m01, m07, t06), new: FOLFOX + bevacizumab (partial response) then FOLFIRI +
    bevacizumab (stable disease), each stopped for progression."""
    line = {"setting": "advanced", "status": "stopped", "stopped_for": "progression"}
    first = {
        "agents": list(REVIEW15_FOLFOX_BEV),
        "start": "2025-03-01",
        "end": "2025-12-01",
        "best_response": "partial",
    }
    second = {
        "agents": list(REVIEW15_FOLFIRI_BEV),
        "start": "2025-12-15",
        "end": "2026-10-20",
        "best_response": "stable",
    }
    return [line | first, line | second]


def review15_liver_and_lung() -> list[dict[str, Any]]:
    """Review 15's disease of m01, m07 and t06, as a new list: 10 liver and 6 lung metastases, none resectable."""
    return [
        {"site": "liver", "count": 10, "resectability": "unresectable"},
        {"site": "lung", "count": 6, "resectability": "unresectable"},
    ]


def review15_case(case_id: str, advanced_disease_date: str, **parts: Any) -> dict[str, Any]:
    """A new review-15 case (stop 18): the shared shell above with `recorded_health()`, `known_panel` with KRAS
    G12D, no treatment yet (`review15_prior()`), then `parts` replacing whole top-level sections."""
    shell: dict[str, Any] = {
        "format": "rectoplan.case/2",
        "id": case_id,
        "as_of": "2026-12-01",
        "advanced_disease_date": advanced_disease_date,
        "age": 63,
        "ecog": 1,
        "primary": {"status": "resected", "stoma": False},
        "biomarkers": known_panel(kras="mutant", kras_variant="G12D"),
        "prior": review15_prior(),
        "health": recorded_health(),
        "preferences": {"goal": "balanced", "declines": []},
        "wants_clinical_trials": False,
    }
    return replaced_case(shell, **parts)


def review14_case(case_id: str, **parts: Any) -> dict[str, Any]:
    """A new case in the shape of review 14's probes (stop 17, 18): as of 2026-12-01, advanced disease since
    2026-11-10, age 61, ECOG 1, no treatment or pelvic radiation yet, trials wanted; `parts` replace whole
    top-level sections and add the rest (primary, metastases, biomarkers, health)."""
    shell: dict[str, Any] = {
        "format": "rectoplan.case/2",
        "id": case_id,
        "as_of": "2026-12-01",
        "advanced_disease_date": "2026-11-10",
        "age": 61,
        "ecog": 1,
        "prior": {"pelvic_radiation": False, "surgeries": [], "courses": []},
        "preferences": {"goal": "balanced", "declines": []},
        "wants_clinical_trials": True,
    }
    return replaced_case(shell, **parts)


def write_rows(rows: list[dict[str, Any]], path: Path, list_columns: tuple[str, ...]) -> Path:
    """Flat cohort rows written as `path`'s format says (.csv, .jsonl, .parquet), the `list_columns` as native
    Arrow lists in Parquet (the Arrow list stage reads them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.test_cohort_equivalence import write_csv

    if path.suffix == ".csv":
        write_csv(rows, path)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        names = sorted({k for r in rows for k in r})
        columns = {n: [r.get(n) for r in rows] for n in names}
        for n in list_columns:
            columns[n] = pa.array(columns[n], pa.list_(pa.string()))
        pq.write_table(pa.table(columns), path)
    return path


# The option ids of stop 17's and 18's tests of the primary in place (MRI risk, margin): its resections, and the
# pelvic radiation before them.
PRIMARY_RESECTIONS: Final[tuple[str, ...]] = (
    "low-anterior-resection-tme",
    "abdominoperineal-resection-tme",
    "synchronous-resection",
    "staged-resection",
)
PELVIC_RADIATION: Final[tuple[str, ...]] = (
    "chemoradiation-capecitabine",
    "chemoradiation-fluorouracil",
    "short-course-radiotherapy",
)


def recommend_made(make_case: Callable[..., Case], kb: KnowledgeBase, **changes: Any) -> Recommendation:
    """The engine's recommendation (no what-if) for the conftest `make_case` fixture's case with `changes`."""
    return engine_recommend(make_case(**changes), kb, what_if=False)


def offered_of(rec: Recommendation) -> dict[str, OptionResult]:
    """The offered options of `rec` by option id."""
    return {o.id: o for o in rec.options}


def excluded_of(rec: Recommendation) -> dict[str, Exclusion]:
    """The options `rec` keeps out (excluded or held back) by option id."""
    return {e.id: e for e in rec.excluded}


def review13_case(case_id: str, age: int, **parts: Any) -> dict[str, Any]:
    """A new case on review 13's z11/z32 disease (stop 17, 18): as of 2026-12-01, advanced since 2025-06-01, a
    resected primary, `unresectable_liver_and_lung()`, ECOG 1, `known_panel()`, an empty prior section; `parts`
    replace whole top-level sections and add the rest (health)."""
    shell: dict[str, Any] = {
        "format": "rectoplan.case/2",
        "id": case_id,
        "as_of": "2026-12-01",
        "advanced_disease_date": "2025-06-01",
        "age": age,
        "ecog": 1,
        "primary": {"status": "resected", "stoma": False},
        "metastases": unresectable_liver_and_lung(),
        "biomarkers": known_panel(),
        "prior": {},
    }
    return replaced_case(shell, **parts)


# --- stop 19: the pieces review 16's cases (the stop 19 test files) each spelled out -----------------------------

# Review 16's surgeries after a resected primary: a low anterior resection with total mesorectal excision.
LAR_TME: Final[tuple[str, ...]] = ("low_anterior_resection", "total_mesorectal_excision")


def review16_health(**more: Any) -> dict[str, Any]:
    """Review 16's health section as its reviewer wrote it, new: DPYD normal, no bleeding risk, fit for
    intensive therapy, no neuropathy, creatinine clearance 85; `more` adds or overrides fields (the days since
    surgery, which some of its cases record and some do not)."""
    health: dict[str, Any] = {
        "dpyd": "normal",
        "bleeding_risk": False,
        "fit_for_intensive_therapy": True,
        "neuropathy_grade": 0,
        "creatinine_clearance": 85,
    }
    return {**health, **more}


def adjuvant_capox(start: str | None = None, end: str | None = None, **more: Any) -> dict[str, Any]:
    """A new completed adjuvant course of capecitabine and oxaliplatin, with its `start` and `end` when given and
    `more` (other timing fields, such as `end_months_ago`)."""
    course: dict[str, Any] = {"agents": ["capecitabine", "oxaliplatin"], "setting": "adjuvant", "status": "completed"}
    dates = {"start": start, "end": end}
    return {**course, **{k: v for k, v in dates.items() if v is not None}, **more}


def after_lar_tme(courses: list[dict[str, Any]]) -> dict[str, Any]:
    """A new prior section: pelvic radiation, a low anterior resection with total mesorectal excision, `courses`."""
    return {"pelvic_radiation": True, "surgeries": list(LAR_TME), "courses": list(courses)}


def review16_liver_and_lung() -> list[dict[str, Any]]:
    """Review 16's disease of a07, i02 and f03, as a new list: 6 liver and 4 lung metastases, none resectable."""
    return [
        {"site": "liver", "count": 6, "resectability": "unresectable"},
        {"site": "lung", "count": 4, "resectability": "unresectable"},
    ]


def with_sections(base: Mapping[str, Any], **sections: Any) -> dict[str, Any]:
    """A new copy of `base` with whole top-level `sections` replaced or added; a section given as None is left
    out. Nothing of `base` or `sections` is shared."""
    case = copy.deepcopy(dict(base))
    case.update(copy.deepcopy(sections))
    return {key: value for key, value in case.items() if value is not None}


def handout_prose(html: str) -> str:
    """The words of a handout's HTML: style sheet and tags dropped, white space collapsed."""
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def refused_on_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: Any) -> str:
    """The stderr of `rectoplan recommend` on `data` written as `name`.json, after checking that it exits 2 and
    prints nothing on stdout (a refused case)."""
    from rectoplan.cli import main

    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["recommend", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    return err


COHORT_ENGINES: Final[tuple[str, ...]] = ("python", "polars", "duckdb")


def cohort_outcomes(path: Path, kb: KnowledgeBase) -> dict[str, tuple[dict[int, Any], list[int]]]:
    """For each cohort engine (skipping the test when polars or duckdb is missing): the problems of the refused
    rows of the cohort file `path` by row number, and the numbers of the rows it recommended for."""
    pytest.importorskip("polars")
    pytest.importorskip("duckdb")
    from rectoplan.cohort.run import run_cohort

    outcomes = {}
    for engine in COHORT_ENGINES:
        result = run_cohort(path, kb, engine)
        errors = {e.row: e.problems for e in result.errors}
        outcomes[engine] = (errors, [r["row"] for r in result.results.to_pylist()])
    return outcomes


def review16_case(case_id: str, **sections: Any) -> dict[str, Any]:
    """A new case in the shape review 16's reviewer wrote (stop 19): as of 2026-12-01, advanced disease since
    2026-11-10, age 62, ECOG 1, a resected primary without a stoma, `known_panel()`, `review16_health()`, trials
    wanted; `sections` replace or add whole top-level sections (None leaves one out), as `with_sections`."""
    shell: dict[str, Any] = {
        "format": "rectoplan.case/2",
        "id": case_id,
        "as_of": "2026-12-01",
        "advanced_disease_date": "2026-11-10",
        "age": 62,
        "ecog": 1,
        "primary": {"status": "resected", "stoma": False},
        "biomarkers": known_panel(),
        "health": review16_health(),
        "wants_clinical_trials": True,
    }
    return with_sections(shell, **sections)
