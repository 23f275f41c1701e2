"""Writing a cohort run: the result and error tables, the explanations and the report (JSON and HTML).

`write_outputs` writes straight into the folder it is given, following whatever is there: `rectoplan
cohort` gives it the private staging folder of `rectoplan.adapters.files.OutputFolder`, which then moves
each file into the user's folder (never through a link, and only once the whole run has succeeded). Any
other caller writing into a folder it does not own should do the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rectoplan.cohort.explain import explanations
from rectoplan.cohort.readers import ErrorRow
from rectoplan.cohort.report import render_html, summary, value_counts
from rectoplan.cohort.run import CohortResult

ERRORS_SCHEMA = pa.schema(
    [("row", pa.int64()), ("id", pa.string()), ("message", pa.string()), ("problems", pa.list_(pa.string()))]
)


def errors_table(errors: list[ErrorRow]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"row": e.row, "id": e.id, "message": "; ".join(e.problems), "problems": list(e.problems)} for e in errors],
        schema=ERRORS_SCHEMA,
    )


def report_data(result: CohortResult, source: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's numbers (report.json) of a run read from `source`, with `extra` sections added."""
    kb = result.kb
    meta = {
        "input": source,
        "input_format": result.format,
        "engine": result.engine,
        "knowledge_version": kb.version,
        "knowledge_date": kb.date,
        "options": [o.id for o in kb.options],
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
    }
    counts = result.counts if result.counts is not None else value_counts(result.results)
    data = summary(counts, result.evaluated, result.errors, result.records, meta)
    if extra:
        data.update(extra)
    if result.warnings:
        data["counts"]["warnings"] = len(result.warnings)
    return data


def write_outputs(
    result: CohortResult, outdir: Path, source: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write everything to `outdir` (created if needed); returns the report numbers."""
    outdir.mkdir(parents=True, exist_ok=True)
    kb = result.kb
    data = report_data(result, source, extra)
    metadata = {b"rectoplan.knowledge_version": kb.version.encode(), b"rectoplan.format": b"rectoplan.cohort/1"}
    if result.results is not None:  # Spark writes its folder of parts itself
        # min/max statistics of long joined-id texts cost a third of the writing time and serve no query
        pq.write_table(
            result.results.replace_schema_metadata(metadata), outdir / "results.parquet", write_statistics=["row"]
        )
    pq.write_table(errors_table(result.errors), outdir / "errors.parquet")
    if result.warnings:
        pq.write_table(errors_table(result.warnings), outdir / "warnings.parquet")
    pq.write_table(explanations(kb), outdir / "explanations.parquet")
    (outdir / "report.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (outdir / "report.html").write_text(render_html(data), encoding="utf-8")
    return data
