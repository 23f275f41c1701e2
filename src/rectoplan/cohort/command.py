"""`rectoplan cohort`: the CLI plugin for registries (duckdb/polars/pyarrow/rich/pyspark imported lazily).

    rectoplan cohort INPUT -o OUTDIR [--engine polars|duckdb|spark|python] [--compare-kb OLD] [--kb DIR]

Writes OUTDIR/results.parquet (one row per valid case), OUTDIR/errors.parquet (one row per rejected case:
row, id, message), OUTDIR/explanations.parquet and OUTDIR/report.{json,html}. A bad row never stops the
run; an input that cannot be read at all (missing file, unknown format or column) or an output folder that
cannot be written (checked first) exits 2 with one line per problem on stderr and nothing on stdout. Files
are made in a staging folder and moved into OUTDIR when the run succeeds (never through a link).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rectoplan.adapters.files import OutputError, OutputFolder

ENGINES = ("polars", "duckdb", "spark", "python")
# Every file a cohort run may write in OUTDIR (cohort.output, cohort.compare, Spark's results folder). A run
# replaces those it writes and removes those it does not (a stale compare.parquet or warnings.parquet of
# an earlier run would otherwise sit next to the new results as if it described them).
OUTPUTS = (
    "results.parquet",
    "errors.parquet",
    "explanations.parquet",
    "report.json",
    "report.html",
    "warnings.parquet",
    "compare.parquet",
)


def register(commands: Any, kb_commands: Any) -> None:
    """Add `cohort` to the top-level subcommands."""
    parser = commands.add_parser(
        "cohort",
        help="apply the knowledge base to a whole cohort (CSV, Parquet, JSON lines, FHIR bulk export)",
        description="Evaluate every case of a cohort column-wise and write OUTDIR/results.parquet (one row per "
        "valid case), OUTDIR/errors.parquet (one row per rejected case), OUTDIR/explanations.parquet and a "
        "report (OUTDIR/report.html, OUTDIR/report.json). Columns are documented in docs/cohort.md.",
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a .csv/.tsv, .parquet, .jsonl/.ndjson file or a FHIR bulk-export folder of .ndjson files",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the results")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="polars",
        help="polars (default, embedded), duckdb (embedded), spark (PySpark; local[*] unless "
        "SPARK_MASTER is set) or python (the per-case reference engine, slow)",
    )
    parser.add_argument("--kb", metavar="DIR", help="knowledge directory (default: the shipped one)")
    parser.add_argument(
        "--compare-kb",
        metavar="OLD",
        help="also evaluate under another knowledge version (a "
        "knowledge directory, or a git revision of this repository) and report who gets different "
        "options, and why",
    )
    parser.add_argument(
        "--ignore-unknown-columns",
        action="store_true",
        help="ignore columns that are not flattened case columns (default: refuse the input)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: only on a terminal)",
    )
    parser.set_defaults(handler=run)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, float], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=__import__("rich.console").console.Console(stderr=True),
    ) as bar:
        task = bar.add_task("rectoplan cohort", total=1.0)

        def update(description: str, done: float) -> None:
            bar.update(task, description=description, completed=done)

        yield update


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    # The output folder is checked (and its staging folder made) before any work: an unwritable folder
    # must fail now, not after the whole computation.
    folder = OutputFolder(Path(args.output), OUTPUTS, folders=("results.parquet",))
    try:
        staging = folder.prepare()
    except OutputError as exc:
        return _fail(exc.messages())
    try:
        return _run(args, folder, staging)
    except OutputError as exc:
        return _fail(exc.messages())
    except UnicodeDecodeError as exc:  # a safety net: the CSV and JSON lines readers make such a line an error row
        byte = exc.object[exc.start : exc.start + 1].hex()
        return _fail([f"{args.input}: found a byte that is not UTF-8 (0x{byte}); expected UTF-8 text"])
    except OSError as exc:  # a full disk, a folder removed under the run, a file that cannot be opened
        found = (exc.strerror or type(exc).__name__).lower()
        inside = exc.filename is not None and Path(str(exc.filename)).absolute().is_relative_to(folder.path.absolute())
        if exc.filename is not None and not inside:
            return _fail([f"{exc.filename}: found {found}; expected a file rectoplan can read"])
        return _fail([f"{args.output}: found {found} while writing; expected a writable folder with room"])
    finally:
        folder.discard()  # whatever happened, nothing of this run is left behind but what was published


def _run(args: argparse.Namespace, folder: OutputFolder, staging: Path) -> int:
    from rectoplan.cohort.readers import InputError
    from rectoplan.core.errors import KnowledgeError
    from rectoplan.kb.loader import default_knowledge, load_knowledge

    try:
        kb = load_knowledge(Path(args.kb)) if args.kb else default_knowledge()
    except KnowledgeError as exc:
        return _fail(exc.messages())
    try:
        from rectoplan.cohort.output import write_outputs
        from rectoplan.cohort.run import run_cohort
    except ModuleNotFoundError as exc:
        return _fail(
            [
                f"rectoplan cohort: found no module {exc.name!r}; expected the 'cohort' extra installed "
                "(pip install 'rectoplan[cohort]')"
            ]
        )
    old_kb = None
    if args.compare_kb:
        from rectoplan.cohort.compare import load_old_knowledge

        try:
            old_kb = load_old_knowledge(args.compare_kb)
        except (InputError, KnowledgeError) as exc:
            return _fail(exc.messages())
    show = sys.stderr.isatty() if args.progress is None else args.progress
    source = Path(args.input)
    outdir = Path(args.output)
    try:
        with _progress(show) as progress:
            spark = None
            if args.engine == "spark":
                from rectoplan.cohort.spark_run import spark_session

                spark = spark_session()
            # Every file is made in the staging folder and moved into OUTDIR at the end (see
            # rectoplan.adapters.files): never written through a link, and a failed run leaves OUTDIR as it was.
            result = run_cohort(
                source, kb, args.engine, progress, args.ignore_unknown_columns, spark=spark, outdir=staging
            )
            extra = None
            if old_kb is not None:
                from rectoplan.cohort.compare import compare_run

                extra = compare_run(result, old_kb, staging, args.compare_kb, progress)
            data = write_outputs(result, staging, str(source), extra)
            folder.publish()
    except InputError as exc:
        return _fail(exc.messages())
    counts = data["counts"]
    line = (
        f"rectoplan cohort: {counts['records']} records, {counts['evaluated']} evaluated, {counts['errors']} "
        f"rejected; results in {outdir / 'results.parquet'}, report in {outdir / 'report.html'}"
    )
    if "compare" in data:
        line += f"; {data['compare']['changed']} cases change under {args.compare_kb}"
    print(line)
    return 0
