"""Bad rows: the column-wise validator rejects exactly the rows the edge validator rejects, with its words.

Valid generated rows are broken one way each (wrong enumeration, out-of-range numbers at and beyond each
bound, contradictions, malformed lists and lines, text where a number belongs, blank text, odd Unicode).
The per-case reference engine (`python`), which validates every row with `parse_case`, and each embedded
engine must return identical result tables and identical error rows (row, id, message), from CSV, JSON
lines and Parquet. Rows in = rows out + error rows, always.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.synthetic import random_cases

pytest.importorskip("polars")
pytest.importorskip("duckdb")

from rectoplan.cohort.columns import COLUMNS, flatten_contract
from rectoplan.cohort.run import run_cohort
from tests.test_cohort_equivalence import write_csv

Row = dict[str, Any]


def _set(**changes: Any) -> Callable[[Row], None]:
    def apply(row: Row) -> None:
        for k, v in changes.items():
            if v is _DROP:
                row.pop(k, None)
            else:
                row[k] = v

    return apply


_DROP = object()
MUTATIONS: list[Callable[[Row], None]] = [
    _set(age="abc"),
    _set(age=17),
    _set(age=18),
    _set(age=120),
    _set(age=121),
    _set(age="064"),
    _set(age=" 64"),
    _set(age="+64"),
    _set(age=-1),
    _set(ecog=5),
    _set(ecog="1"),
    _set(ecog=4),
    _set(kras="mutnt"),
    _set(kras="MUTANT"),
    _set(kras=""),
    _set(kras="unknown"),
    _set(kras="wild_type", kras_variant="G12C"),
    _set(kras="mutant", kras_variant="  g12c "),
    _set(kras="mutant", kras_variant="   "),
    _set(kras="mutant", kras_variant="\tG12C"),
    _set(kras="mutant", kras_variant="G12Ç"),
    _set(kras="mutant", kras_variant="G" * 41),
    _set(kras="mutant", kras_variant="G12D"),
    _set(nras="positive"),
    _set(braf="V600E"),
    _set(mmr="dmmr"),
    _set(primary_symptoms=["pain", "pain", "pain", "pain"]),
    _set(primary_symptoms=["pain", "pain"]),
    _set(primary_symptoms=["itch"]),
    _set(primary_symptoms=[]),
    _set(primary_symptoms="pain"),
    _set(prior_lines=[{"agents": ["aspirin"], "stopped_for": "progression"}]),
    _set(prior_lines=[{"agents": ["fluorouracil"] * 11}]),
    _set(prior_lines=[{"agents": []}]),
    _set(prior_lines=[{"agents": ["irinotecan"], "stopped_for": "ongoing"}, {"agents": ["regorafenib"]}]),
    _set(prior_lines=[{"agents": ["irinotecan"]}, {"agents": ["regorafenib"], "stopped_for": "ongoing"}]),
    _set(prior_lines=[{"agents": ["irinotecan"], "stopped_for": "died"}]),
    _set(prior_lines=[{"agents": ["irinotecan"], "dose": 1}]),
    _set(prior_lines=[{"stopped_for": "completed"}]),
    _set(prior_lines=["irinotecan"]),
    _set(prior_lines=[{"agents": ["regorafenib"]}] * 21),
    _set(prior_lines=[{"stopped_for": None, "agents": ["capecitabine", "oxaliplatin"]}]),
    _set(prior_lines=[]),
    _set(prior_surgeries=["appendectomy"]),
    _set(prior_surgeries=["liver_resection"] * 21),
    _set(met_liver_count=0),
    _set(met_liver_count=1001),
    _set(met_liver_count=1000),
    _set(met_liver_count="3"),
    _set(met_lung_resectability="unknown"),
    _set(met_bone_resectability="operable"),
    _set(metastases_known=False, met_liver_count=2),
    _set(
        metastases_known=True,
        **{
            f"met_{s}_{k}": _DROP
            for s in ("liver", "lung", "peritoneum", "distant_lymph_nodes", "bone", "brain", "other")
            for k in ("count", "resectability")
        },
        local_recurrence_resectability=_DROP,
        local_recurrence_symptoms=_DROP,
    ),
    _set(primary_status="in_place", local_recurrence_resectability="resectable"),
    # an abdominoperineal resection removed the primary and left a permanent colostomy
    _set(primary_status="in_place", primary_stoma=False, prior_surgeries=["abdominoperineal_resection"]),
    # review 14 (F7, F13): the MRI staging of a resected primary; growth since a line still running; a
    # symptom of the recurrence listed twice
    _set(primary_status="resected", primary_mri_t="T3", primary_crm_involved=True),
    _set(
        prior_lines=[{"agents": ["irinotecan"], "stopped_for": "ongoing"}],
        prior_courses=_DROP,
        prior_progressed_since_last_line=True,
    ),
    _set(primary_status="resected", local_recurrence_symptoms=["pain", "bleeding", "pain"]),
    _set(local_recurrence_symptoms=[], primary_status="resected"),
    _set(id=_DROP),
    _set(id=""),
    _set(id="x" * 201),
    _set(id="é" * 150),
    _set(bleeding_risk="TRUE"),
    _set(bleeding_risk="yes"),
    _set(wants_clinical_trials=1),
    _set(days_since_major_surgery=36501),
    _set(days_since_major_surgery=0),
    _set(dpyd="unknown"),
    _set(prior_pelvic_radiation="false"),
    _set(fit_for_intensive_therapy=None),
]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = random.Random(7)
    rows = [flatten_contract(c) for c in random_cases(len(MUTATIONS) * 3, seed=99)]
    for i, row in enumerate(rows):
        if i % 3:  # every third row stays valid, so valid and broken rows interleave
            MUTATIONS[(i // 3 + rng.randrange(2)) % len(MUTATIONS)](row)
        if i % 7 == 0:
            MUTATIONS[i % len(MUTATIONS)](row)
    folder = tmp_path_factory.mktemp("broken")
    write_csv(rows, folder / "rows.csv")
    with (folder / "rows.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
        fh.write("{not json\n")  # a line that is no JSON at all is one error row, not a crash
    return {"rows": rows, "folder": folder}


def _outcome(path: Path, kb: KnowledgeBase, engine: str) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    result = run_cohort(path, kb, engine)
    assert result.results.num_rows + len(result.errors) == result.records
    return result.results.to_pylist(), [(e.row, e.id, e.problems) for e in result.errors]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_engines_reject_the_same_rows_with_the_same_messages(
    broken: dict[str, Any], kb: KnowledgeBase, fmt: str
) -> None:
    path = broken["folder"] / f"rows.{fmt}"
    reference_rows, reference_errors = _outcome(path, kb, "python")
    assert len(reference_rows) > len(MUTATIONS) and len(reference_errors) > len(MUTATIONS) // 2
    for engine in ("polars", "duckdb"):
        rows, errors = _outcome(path, kb, engine)
        assert errors == reference_errors, engine
        assert rows == reference_rows, engine


def test_error_messages_name_the_column(broken: dict[str, Any], kb: KnowledgeBase) -> None:
    _, errors = _outcome(broken["folder"] / "rows.csv", kb, "polars")
    messages = [m for _, _, problems in errors for m in problems]
    columns = {c.name for c in COLUMNS}
    named = [m for m in messages if m.split(":", 1)[0].split("[", 1)[0] in columns]
    assert len(named) >= 0.8 * len(messages)
    assert any(m.startswith("met_liver_count: found 0") for m in messages)


def test_parquet_with_odd_types_goes_through_the_validator(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A Parquet column of an unexpected type (ages as floats) rejects its non-empty rows, keeps the others."""
    rows = [flatten_contract(c) for c in random_cases(40, seed=5)]
    ages = [None if i % 4 == 0 else float(60 + i % 3) for i in range(len(rows))]
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "age": pa.array(ages, pa.float64()),
            "metastases_known": [True] * len(rows),
            "met_liver_count": [2] * len(rows),
        }
    )
    pq.write_table(table, tmp_path / "odd.parquet")
    reference = _outcome(tmp_path / "odd.parquet", kb, "python")
    assert len(reference[1]) == sum(a is not None for a in ages)
    assert all("age: found" in p[0] for _, _, p in reference[1])
    for engine in ("polars", "duckdb"):
        assert _outcome(tmp_path / "odd.parquet", kb, engine) == reference


def test_parquet_list_texts_are_read_as_dictionaries_and_other_lists_as_they_are(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """The texts inside list columns are read as dictionaries (symptoms, agents, stop reasons); a list
    column of numbers is read as it is and its rows are rejected with the validator's messages, the same
    for every engine."""
    from rectoplan.cohort.readers import read_cohort

    rows = [flatten_contract(c) for c in random_cases(40, seed=6)]
    surgeries = [[1, 2] if i % 5 == 0 else None for i in range(len(rows))]
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "metastases_known": [True] * len(rows),
            "met_liver_count": [2] * len(rows),
            "primary_symptoms": pa.array([r.get("primary_symptoms") for r in rows], pa.list_(pa.string())),
            "prior_lines": [r.get("prior_lines") for r in rows],
            "prior_surgeries": pa.array(surgeries, pa.list_(pa.int64())),
        }
    )
    pq.write_table(table, tmp_path / "lists.parquet")
    read = read_cohort(tmp_path / "lists.parquet", kb).table.schema
    assert pa.types.is_dictionary(read.field("primary_symptoms").type.value_type)
    line = read.field("prior_lines").type.value_type
    assert pa.types.is_dictionary(line.field("agents").type.value_type)
    assert pa.types.is_dictionary(line.field("stopped_for").type)
    assert read.field("prior_surgeries").type == pa.list_(pa.int64())
    reference = _outcome(tmp_path / "lists.parquet", kb, "python")
    assert len(reference[1]) == sum(s is not None for s in surgeries)
    assert reference[0]  # the other rows are evaluated
    for engine in ("polars", "duckdb"):
        assert _outcome(tmp_path / "lists.parquet", kb, engine) == reference


def test_rows_in_equal_rows_out_plus_errors_for_every_mutation(kb: KnowledgeBase, tmp_path: Path) -> None:
    base = flatten_contract(random_cases(1, seed=11)[0])
    rows = []
    for mutate in MUTATIONS:
        row = copy.deepcopy(base)
        mutate(row)
        rows.append(row)
    write_csv(rows, tmp_path / "each.csv")
    result = run_cohort(tmp_path / "each.csv", kb, "polars")
    assert result.records == len(MUTATIONS)
    assert sorted([r["row"] for r in result.results.to_pylist()] + [e.row for e in result.errors]) == list(
        range(1, len(MUTATIONS) + 1)
    )


@pytest.mark.parametrize("flattened", [True, False])
def test_a_key_given_twice_in_a_json_line_is_an_error_row(tmp_path: Path, kb: KnowledgeBase, flattened: bool) -> None:
    """A line giving `age` twice (or a nested key twice, in a case object) is an error row naming the key;
    the other lines are evaluated as usual. A parser would keep one of the two values without a word."""
    cases = random_cases(3, seed=12)
    cases[1].pop("biomarkers", None)
    lines = [json.dumps(flatten_contract(c) if flattened else c) for c in cases]
    if flattened:
        lines[1] = lines[1][:-1] + ', "age": 40, "age": 41}'
    else:
        lines[1] = lines[1][:-1] + ', "biomarkers": {"kras": "mutant", "kras": "wild_type"}}'
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for engine in ("polars", "python"):
        result = run_cohort(path, kb, engine)
        assert [r["row"] for r in result.results.to_pylist()] == [1, 3]
        assert len(result.errors) == 1 and result.errors[0].row == 2 and result.errors[0].id == cases[1]["id"]
        (message,) = result.errors[0].problems
        key = "age" if flattened else "kras"
        assert message.startswith(f"line 2: found the key {key!r} twice in one object"), message
        assert flattened or "in biomarkers" in message


def _clean_rows(count: int, seed: int) -> list[Row]:
    rows = [flatten_contract(c) for c in random_cases(count, seed=seed)]
    for i, row in enumerate(rows):
        row["id"] = f"c{i}"
    return rows


def _jsonl(rows: list[Row], path: Path) -> Path:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows), encoding="utf-8")
    return path


def test_json_lines_read_with_pyarrows_own_types_give_what_the_documented_schema_gives(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """The JSON lines reader keeps pyarrow's own column types when they are the documented ones (a clean
    file, with columns it lacks left absent); its results are those of the same rows from Parquet, read
    with the documented schema."""
    from rectoplan.cohort.json_input import _column_wise
    from tests.test_cohort_equivalence import write_parquet

    rows = _clean_rows(400, seed=160)
    for row in rows[::2]:
        row.pop("met_liver_count", None)  # sometimes absent, sometimes given
    path = _jsonl(rows, tmp_path / "rows.jsonl")
    table = _column_wise(path)
    assert table is not None and table.num_rows == len(rows)
    given = {k for row in rows for k, v in row.items() if v is not None}
    assert set(table.column_names) <= {c.name for c in COLUMNS} and given <= set(table.column_names)
    write_parquet(rows, tmp_path / "rows.parquet")
    assert _outcome(path, kb, "polars") == _outcome(tmp_path / "rows.parquet", kb, "polars")


def test_json_lines_of_other_types_are_read_with_the_documented_schema(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A text that looks like a date and time stays text; a column whose values pyarrow would read as
    another type (a decimal age or ecog, a treatment line with its keys in another order) is read with the
    documented schema, and a value that does not fit it is an error row for its line, every other line
    evaluated."""
    rows = _clean_rows(40, seed=161)
    rows[0]["id"] = "2026-11-20T10:00:00"
    rows[1]["age"] = 64.5
    rows[2]["prior_lines"] = [{"stopped_for": "progression", "agents": ["irinotecan"]}]
    rows[3]["ecog"] = 1.0
    path = _jsonl(rows, tmp_path / "odd.jsonl")
    results, errors = _outcome(path, kb, "polars")
    assert _outcome(path, kb, "python") == (results, errors)
    assert [(e[0], e[2]) for e in errors] == [
        (2, ("age: found 64.5; expected a whole number",)),
        (4, ("ecog: found 1.0; expected a whole number",)),  # as the edge validator says of one case
    ]
    assert [r["row"] for r in results] == [n for n in range(1, 41) if n not in (2, 4)]
    assert results[0]["id"] == "2026-11-20T10:00:00"


def test_json_lines_read_line_by_line_keep_values_as_found(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A file that only the line-by-line reader takes (one line is no JSON) still rejects, by name, what
    a column type would have hidden: a decimal or true whole number (pyarrow would read 64.5 as 64) and
    a key of a treatment line that is no field (pyarrow would drop it)."""
    rows = _clean_rows(12, seed=162)
    rows[1]["age"] = 64.5
    rows[2]["ecog"] = True
    rows[3]["prior_lines"] = [{"agents": ["irinotecan"], "stopped_for": "progression", "dose": 1}]
    path = _jsonl(rows, tmp_path / "rows.jsonl")
    path.write_text(path.read_text() + "{not json\n")
    results, errors = _outcome(path, kb, "polars")
    assert _outcome(path, kb, "python") == (results, errors)
    messages = {row: problems for row, _, problems in errors}
    assert set(messages) == {2, 3, 4, 13}
    assert "age: found 64.5; expected a whole number" in messages[2]
    assert any(p.startswith("ecog: found true") for p in messages[3])
    assert any("dose" in p for p in messages[4])
    assert "line 13" in messages[13][0]


def test_her2_and_the_reported_her2_test_are_read_as_the_edge_reads_them(tmp_path: Path, kb: KnowledgeBase) -> None:
    """HER2 status comes from `her2`, else from `her2_result` (IHC 3+ or IHC 2+/ISH+ positive); the two
    disagreeing is an error row, as for one case. Every engine agrees with the per-case reference."""
    pairs = [(None, "ihc3"), (None, "ihc2_ish_positive"), (None, "ihc2_ish_negative"), (None, "ihc0_1")]
    pairs += [
        ("positive", "ihc3"),
        ("negative", "ihc3"),
        ("positive", "ihc0_1"),
        ("unknown", "ihc3"),
        ("negative", None),
    ]
    rows = _clean_rows(len(pairs), seed=163)
    for row, (her2, result) in zip(rows, pairs, strict=True):
        row["her2"], row["her2_result"] = her2, result
    write_csv(rows, tmp_path / "her2.csv")
    reference = _outcome(tmp_path / "her2.csv", kb, "python")
    assert [e[0] for e in reference[1]] == [6, 7]  # negative with IHC 3+, positive with IHC 0-1+
    for engine in ("polars", "duckdb"):
        assert _outcome(tmp_path / "her2.csv", kb, engine) == reference, engine


def test_an_apr_row_error_names_the_columns_of_the_row(tmp_path: Path, kb: KnowledgeBase) -> None:
    """The APR contradiction of a flat row names the columns the row has (`primary_status`,
    `prior_surgeries`), in its path and in its words, never the case JSON's `prior.surgeries`; the same
    from every engine (review 14, F13)."""
    rows = _clean_rows(3, seed=164)
    rows[1] = flatten_contract(
        {
            "id": "apr",
            "primary": {"status": "in_place", "stoma": True},
            "metastases": [{"site": "liver", "count": 2}],
            "prior": {"surgeries": ["abdominoperineal_resection"]},
        }
    )
    write_csv(rows, tmp_path / "apr.csv")
    reference = _outcome(tmp_path / "apr.csv", kb, "python")
    assert [(row, problems) for row, _, problems in reference[1]] == [
        (
            2,
            (
                "primary_status: found 'in_place' while prior_surgeries lists 'abdominoperineal_resection'; expected"
                " primary_status 'resected' (an abdominoperineal resection removes the rectal primary), or no"
                " 'abdominoperineal_resection' in prior_surgeries",
            ),
        )
    ]
    for engine in ("polars", "duckdb"):
        assert _outcome(tmp_path / "apr.csv", kb, engine) == reference, engine
