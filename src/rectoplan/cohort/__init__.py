"""Cohort mode, the Python API behind `rectoplan cohort`: the rules over a whole registry (docs/cohort.md).

    from rectoplan.cohort import run_cohort

    run = run_cohort("registry.parquet", "out")    # out/results.parquet, errors, explanations, report
    print(run.records, run.evaluated, len(run.errors))
    run.results                                    # the result table (pyarrow), one row per valid case

The command line is a thin layer over `run_cohort` (`rectoplan.cohort.command`). The engines (polars,
duckdb, pyarrow; pyspark for Spark) are imported only when a run starts, so importing this package never
needs the 'cohort' extra.

Implementation modules: `readers` (and `csv_input`, `json_input`, `line_scan`, `fhir_bulk`) read an input
into one table of flattened columns, `run` evaluates it (`local` for Polars and DuckDB, `spark_run`,
`reference` for the per-case engine), `output`, `explain` and `report` write the files, `compare` the
`--compare-kb` section, `cache` keeps what is built from a knowledge base between runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rectoplan.core.errors import Problem
from rectoplan.core.knowledge import KnowledgeBase

if TYPE_CHECKING:
    import pyarrow as pa

    from rectoplan.cohort.readers import ErrorRow
    from rectoplan.cohort.run import CohortResult, Progress

__all__ = ["ENGINES", "CohortRun", "run_cohort"]

ENGINES = ("polars", "duckdb", "spark", "python")


@dataclass(frozen=True)
class CohortRun:
    """What one cohort run gave: the evaluation (`result`), the report's numbers (`report`, as in
    report.json) and the folder the files were written to (None when nothing was written)."""

    result: CohortResult
    report: dict[str, Any]
    output: Path | None

    @property
    def records(self) -> int:
        """Every record of the input: `evaluated + len(errors)`."""
        return self.result.records

    @property
    def evaluated(self) -> int:
        return self.result.evaluated

    @property
    def errors(self) -> list[ErrorRow]:
        """One error row per rejected record (`row`, `id`, `problems`), in input order."""
        return self.result.errors

    @property
    def results(self) -> pa.Table | None:
        """The result table in input order (None with Spark, which writes results.parquet itself)."""
        return self.result.results


def run_cohort(
    input: str | PathLike[str],
    output: str | PathLike[str] | None = None,
    *,
    engine: str = "polars",
    kb: KnowledgeBase | str | PathLike[str] | None = None,
    compare_kb: KnowledgeBase | str | None = None,
    ignore_unknown_columns: bool = False,
    progress: Progress | None = None,
    spark: Any = None,
) -> CohortRun:
    """Evaluate every case of `input` (CSV, Parquet, JSON lines or a FHIR bulk-export folder) and, when
    `output` is given, write the cohort files there (docs/cohort.md).

    `engine` is polars (default), duckdb, spark or python (the per-case reference); all give the same
    results. `kb` is a loaded `KnowledgeBase`, a knowledge directory, or None for the shipped knowledge.
    `compare_kb` (a `KnowledgeBase`, a knowledge directory or a git revision of this repository) adds
    compare.parquet and the report's `compare` section; it needs `output`. `progress` is called with
    (phase, fraction done). `spark` is a SparkSession for engine spark (default: `SPARK_MASTER` or
    local[*]).

    The output folder is checked before any work, and the files are moved into it only when the whole
    run has succeeded, so a failed run leaves it as it was. A bad record never stops the run: it is an
    error row. Raises `InputError` (an input that cannot be read at all, an unknown engine),
    `OutputError` (an output folder that cannot be written), `KnowledgeError` (knowledge that does not
    load) and `OSError` (a disk that fails under the run), all but the last `RectoplanError`s."""
    from rectoplan.cohort.readers import InputError

    if engine not in ENGINES:
        raise InputError([Problem("engine", repr(engine), f"one of {', '.join(ENGINES)}")])
    if compare_kb is not None and output is None:
        raise InputError([Problem("compare_kb", "no output folder", "an output folder for compare.parquet")])
    if output is None:
        result = _evaluate(Path(input), _knowledge(kb), engine, progress, ignore_unknown_columns, spark, None)
        return CohortRun(result, _report(result, str(input)), None)
    return _run_into(Path(input), Path(output), engine, kb, compare_kb, ignore_unknown_columns, progress, spark)


def _knowledge(kb: KnowledgeBase | str | PathLike[str] | None) -> KnowledgeBase:
    from rectoplan.kb.loader import default_knowledge, load_knowledge

    if isinstance(kb, KnowledgeBase):
        return kb
    return default_knowledge() if kb is None else load_knowledge(Path(kb))


def _evaluate(
    source: Path,
    kb: KnowledgeBase,
    engine: str,
    progress: Progress | None,
    ignore_unknown: bool,
    spark: Any,
    outdir: Path | None,
) -> CohortResult:
    from rectoplan.cohort import run  # looked up at call time: tests replace run.run_cohort

    if engine == "spark" and spark is None:
        from rectoplan.cohort.spark_run import spark_session

        spark = spark_session()
    return run.run_cohort(source, kb, engine, progress, ignore_unknown, spark=spark, outdir=outdir)


def _report(result: CohortResult, source: str) -> dict[str, Any]:
    """The report's numbers without writing anything (as `write_outputs` returns them)."""
    from rectoplan.cohort.output import report_data

    return report_data(result, source)


def _run_into(
    source: Path,
    outdir: Path,
    engine: str,
    kb: KnowledgeBase | str | PathLike[str] | None,
    compare_kb: KnowledgeBase | str | None,
    ignore_unknown: bool,
    progress: Progress | None,
    spark: Any,
) -> CohortRun:
    """The run, written through a staging folder (rectoplan.adapters.files) that is published only at the
    end: the output folder is checked first, and a failed run leaves it exactly as it was."""
    from rectoplan.adapters.files import OutputFolder

    folder = OutputFolder(outdir, OUTPUTS, folders=("results.parquet",))
    staging = folder.prepare()
    try:
        base = _knowledge(kb)
        old = _old_knowledge(compare_kb)
        result = _evaluate(source, base, engine, progress, ignore_unknown, spark, staging)
        extra = None
        if old is not None:
            from rectoplan.cohort.compare import compare_run

            label = compare_kb if isinstance(compare_kb, str) else f"knowledge {old.version}"
            extra = compare_run(result, old, staging, label, progress)
        from rectoplan.cohort.output import write_outputs

        data = write_outputs(result, staging, str(source), extra)
        folder.publish()
    finally:
        folder.discard()  # whatever happened, nothing of this run is left behind but what was published
    return CohortRun(result, data, outdir)


def _old_knowledge(spec: KnowledgeBase | str | None) -> KnowledgeBase | None:
    if spec is None or isinstance(spec, KnowledgeBase):
        return spec
    from rectoplan.cohort.compare import load_old_knowledge

    return load_old_knowledge(spec)


# Every file a cohort run may write in its output folder (cohort.output, cohort.compare, Spark's results
# folder). A run replaces those it writes and removes those it does not (a stale compare.parquet or
# warnings.parquet of an earlier run would otherwise sit next to the new results as if it described them).
OUTPUTS = (
    "results.parquet",
    "errors.parquet",
    "explanations.parquet",
    "report.json",
    "report.html",
    "warnings.parquet",
    "compare.parquet",
)
