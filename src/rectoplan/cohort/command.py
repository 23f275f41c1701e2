"""`rectoplan cohort`: the CLI plugin for registries (duckdb/polars/pyarrow/rich/pyspark imported lazily).

    rectoplan cohort INPUT -o OUTDIR [--engine polars|duckdb|spark|python] [--compare-kb OLD] [--kb DIR]

Writes OUTDIR/results.parquet (one row per valid case), OUTDIR/errors.parquet (one row per rejected case:
row, id, message), OUTDIR/explanations.parquet and OUTDIR/report.{json,html}. A bad row never stops the
run; an input that cannot be read at all (missing file, unknown format or column) or an output folder that
cannot be written (checked first) exits 2 with one line per problem on stderr and nothing on stdout. Files
are made in a staging folder and moved into OUTDIR when the run succeeds (never through a link).

A thin layer over the Python API, `rectoplan.cohort.run_cohort`: arguments in, problems out on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rectoplan.cohort import ENGINES


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
    """`rectoplan cohort`: `rectoplan.cohort.run_cohort` with the arguments, its problems on stderr."""
    from rectoplan.cohort import run_cohort
    from rectoplan.core.errors import RectoplanError

    show = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        with _progress(show) as progress:
            run = run_cohort(
                args.input,
                args.output,
                engine=args.engine,
                kb=args.kb,
                compare_kb=args.compare_kb,
                ignore_unknown_columns=args.ignore_unknown_columns,
                progress=progress,
            )
    except RectoplanError as exc:  # an unreadable input, an unwritable folder, knowledge that does not load
        return _fail(exc.messages())
    except UnicodeDecodeError as exc:  # a safety net: the CSV and JSON lines readers make such a line an error row
        byte = exc.object[exc.start : exc.start + 1].hex()
        return _fail([f"{args.input}: found a byte that is not UTF-8 (0x{byte}); expected UTF-8 text"])
    except OSError as exc:  # a full disk, a folder removed under the run, a file that cannot be opened
        found = (exc.strerror or type(exc).__name__).lower()
        outdir = Path(args.output).absolute()
        inside = exc.filename is not None and Path(str(exc.filename)).absolute().is_relative_to(outdir)
        if exc.filename is not None and not inside:
            return _fail([f"{exc.filename}: found {found}; expected a file rectoplan can read"])
        return _fail([f"{args.output}: found {found} while writing; expected a writable folder with room"])
    counts = run.report["counts"]
    outdir = Path(args.output)
    line = (
        f"rectoplan cohort: {counts['records']} records, {counts['evaluated']} evaluated, {counts['errors']} "
        f"rejected; results in {outdir / 'results.parquet'}, report in {outdir / 'report.html'}"
    )
    if "compare" in run.report:
        line += f"; {run.report['compare']['changed']} cases change under {args.compare_kb}"
    print(line)
    return 0
