"""The command line (contract 3): a thin adapter over `rectoplan.api`.

Exit 0 on success; exit 2 on an input error with one line per problem on stderr and nothing on stdout.
Optional parts (service, cohort, verifier) register their own subcommands if their modules are present,
and import their heavy dependencies only when run, so `rectoplan --help` never needs the extras.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import orjson

from rectoplan import api
from rectoplan.adapters.case_file import load_case
from rectoplan.core.errors import KnowledgeError, Problem, RectoplanError
from rectoplan.kb.loader import default_knowledge, load_knowledge

PLUGINS = ("rectoplan.service.command", "rectoplan.cohort.command", "rectoplan.verify.command")
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
# The extra that brings each optional top-level module (pyproject.toml): a base install (`pip install
# rectoplan`) that reaches one of them says what to install instead of a ModuleNotFoundError traceback.
EXTRAS = {
    "fhir": "fhir",
    "fastapi": "service",
    "starlette": "service",
    "uvicorn": "service",
    "httptools": "service",
    "jwt": "service",
    "httpx": "service",
    "multipart": "service",
    "duckdb": "cohort",
    "polars": "cohort",
    "pyarrow": "cohort",
    "numpy": "cohort",
    "rich": "cohort",
    "pyspark": "spark",
    "z3": "verify",
    "weasyprint": "handout",
}


def _fail(problems: list[Problem], stream: TextIO | None = None) -> int:
    for p in problems:
        print(f"error: {p.message()}", file=stream or sys.stderr)
    return 2


def use_color(flag: bool | None) -> bool:
    """--color / --no-color win; otherwise colour only on a terminal that shows it.

    NO_COLOR (any non-empty value, no-color.org) and TERM=dumb (an editor's shell, a serial console) turn
    it off: escape codes there are noise that hides the text."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def cmd_recommend(args: argparse.Namespace) -> int:
    from rectoplan.adapters.render_html import render_html
    from rectoplan.adapters.render_text import render_text

    try:
        kb = load_knowledge(Path(args.kb)) if args.kb else default_knowledge()
        case, provenance, issues = load_case(args.case, kb)
        rec = api.recommend(case, kb)
    except RectoplanError as exc:
        return _fail(exc.problems)
    for issue in issues:
        print(f"warning: {issue.message()}", file=sys.stderr)
    if args.format == "json":
        out = rec.to_dict()
        if provenance is not None:
            out["input"] = provenance
        print(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    elif args.format == "html":
        print(render_html(rec, kb, provenance, case))
    else:
        print(render_text(rec, kb, provenance, color=use_color(args.color), trace=args.trace))
    return 0


def cmd_handout(args: argparse.Namespace) -> int:
    from rectoplan.adapters.files import OutputError, check_output_file, write_file
    from rectoplan.adapters.handout import handout_html, handout_pdf

    out = Path(args.output)
    try:  # before any work: '-', an unknown suffix, a link or an unwritable folder is an input error
        check_output_file(out, (".pdf", ".html", ".htm"))
        kb = default_knowledge()
        case, _, issues = load_case(args.case, kb)
        rec = api.recommend(case, kb, what_if=False)
    except RectoplanError as exc:
        return _fail(exc.problems)
    for issue in issues:
        print(f"warning: {issue.message()}", file=sys.stderr)
    try:  # a temporary file renamed into place: whole or not at all, never through a link
        html = out.suffix.lower() in (".html", ".htm")
        write_file(out, handout_html(rec, kb, case).encode() if html else handout_pdf(rec, kb, case))
    except OutputError as exc:
        return _fail(exc.problems)
    except ModuleNotFoundError as exc:
        return _fail([Problem("--output", "a PDF was asked for", f"the 'handout' extra installed ({exc.name})")])
    print(f"handout written to {out}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from rectoplan.adapters.render_text import render_text
    from rectoplan.examples import demo_cases, demo_notes

    kb = default_knowledge()
    cases = demo_cases()
    notes = demo_notes()
    if args.case:
        cases = [(name, data) for name, data in cases if name == args.case]
        if not cases:
            names = ", ".join(name for name, _ in demo_cases())
            return _fail([Problem("case", repr(args.case), f"one of {names}")])
    for i, (name, data) in enumerate(cases):
        rec = api.recommend(api.validate_case(data, kb), kb)
        if i:
            print()
        print(f"#### Example {i + 1}/{len(cases)}: {name} — {notes.get(name, '')}")
        full = f"rectoplan demo --case {name} --full"  # a command that runs, wherever rectoplan is installed
        print(render_text(rec, kb, None, color=use_color(args.color), brief=not args.full, full_command=full))
    return 0


def cmd_kb_lint(args: argparse.Namespace) -> int:
    from rectoplan.kb.lint import lint

    seeds = Path(args.seeds) if args.seeds else (SHARED / "seeds" if (SHARED / "seeds").is_dir() else None)
    brief = (
        Path(args.brief)
        if args.brief
        else (SHARED / "knowledge" / "brief.md" if (SHARED / "knowledge" / "brief.md").is_file() else None)
    )
    report = lint(Path(args.kb) if args.kb else None, seeds, brief, samples=args.samples)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if not report.stats:  # the knowledge could not be loaded: nothing else was checked
        print(f"knowledge lint: {len(report.errors)} problem(s); the knowledge base could not be loaded")
        return 1
    for source in report.unconfirmed:
        print(f"note: cited without a confirmed identifier: {source}", file=sys.stderr)
    checked = "skipped: " + ", ".join(report.skipped) if report.skipped else "seed quotes and brief entries checked"
    stats = ", ".join(f"{k} {v}" for k, v in report.stats.items())
    print(f"knowledge lint: {'ok' if report.ok else f'{len(report.errors)} problem(s)'} ({stats}; {checked})")
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rectoplan",
        description="Treatment options for stage 4 or recurrent rectal cancer, ranked, explained and cited. "
        "Supports the care team's decision; never replaces it.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rec = commands.add_parser("recommend", help="recommend for one case (contract 1 JSON or FHIR R4 Bundle)")
    rec.add_argument("case", metavar="CASE.json", help="case file, or - for standard input")
    rec.add_argument(
        "--format",
        choices=("json", "text", "html"),
        default="json",
        help="json: contract 2 (default); text: grouped and aligned, for people; html: a page",
    )
    rec.add_argument("--kb", metavar="DIR", help="knowledge directory (default: the shipped one)")
    rec.add_argument("--color", action=argparse.BooleanOptionalAction, default=None, help="colour text output")
    rec.add_argument(
        "--trace", action="store_true", help="text: add each option's rule ids, priority and facts used (reviewers)"
    )
    rec.set_defaults(handler=cmd_recommend)

    demo = commands.add_parser("demo", help="run the built-in example cases and print readable text")
    demo.add_argument("--case", help="run only this example")
    demo.add_argument("--full", action="store_true", help="full detail (rationales, sources) for every option")
    demo.add_argument("--color", action=argparse.BooleanOptionalAction, default=None)
    demo.set_defaults(handler=cmd_demo)

    handout = commands.add_parser("handout", help="a printable plain-language handout for the patient (PDF or HTML)")
    handout.add_argument("case", metavar="CASE.json", help="case file (contract 1 or FHIR Bundle), or - for stdin")
    handout.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="output file: .pdf or .html")
    handout.set_defaults(handler=cmd_handout)

    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    lint = kb_commands.add_parser("lint", help="check citations, ids, vocabulary and reachability")
    lint.add_argument("--kb", metavar="DIR")
    lint.add_argument("--seeds", metavar="DIR", help="seed files (default: ../shared/seeds)")
    lint.add_argument("--brief", metavar="FILE", help="brief (default: ../shared/knowledge/brief.md)")
    lint.add_argument("--samples", type=int, default=4000, help="synthetic cases for reachability")
    lint.set_defaults(handler=cmd_kb_lint)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part of rectoplan is not there
            raise
        module.register(commands, kb_commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except KnowledgeError as exc:
        return _fail(exc.problems)
    except BrokenPipeError:
        return 0
    except ModuleNotFoundError as exc:  # a base install reached an optional part: name the extra to install
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        return _fail(
            [
                Problem(
                    f"rectoplan {args.command}",
                    f"no module {exc.name!r}",
                    f"the '{extra}' extra installed (pip install 'rectoplan[{extra}]')",
                )
            ]
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
