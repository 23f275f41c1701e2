"""CLI plugin: `rectoplan kb verify` and `rectoplan why-not`, thin layers over `rectoplan.verify`.

z3 is imported only when they run; without it `rectoplan.cli.main` names the extra to install."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rectoplan.core.errors import Problem, RectoplanError
from rectoplan.verify import verify_knowledge, why_not_offered


def register(commands: Any, kb_commands: Any) -> None:
    verify = kb_commands.add_parser(
        "verify", help="prove the safety invariants over every possible case (z3), or print a counterexample"
    )
    verify.add_argument("--kb", metavar="DIR", help="knowledge directory (default: the shipped one)")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    verify.add_argument("--out", metavar="DIR", help="write each counterexample case to DIR/<invariant>.json")
    verify.add_argument("--timeout", type=float, default=60.0, metavar="S", help="solver time limit per invariant")
    verify.set_defaults(handler=cmd_verify)

    why = commands.add_parser(
        "why-not", help="why an option is not offered, and the smallest change that would let it in"
    )
    why.add_argument("case", metavar="CASE.json", help="case file, or - for standard input")
    why.add_argument("option", metavar="OPTION_ID", help="an option id of the knowledge base")
    why.add_argument("--kb", metavar="DIR", help="knowledge directory (default: the shipped one)")
    why.add_argument("--format", choices=("text", "json"), default="text")
    why.add_argument("--no-search", action="store_true", help="only the rules, without the z3 search")
    why.set_defaults(handler=cmd_why_not)


def _fail(problems: list[Problem]) -> int:
    for p in problems:
        print(f"error: {p.message()}", file=sys.stderr)
    return 2


def cmd_verify(args: argparse.Namespace) -> int:
    """`rectoplan kb verify`: `rectoplan.verify_knowledge`, its counterexamples written to --out."""
    try:
        report = verify_knowledge(args.kb, timeout=args.timeout)
    except RectoplanError as exc:
        return _fail(exc.problems)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for r in report.results:
            if r.counterexample is not None:
                (out / f"{r.invariant.id}.json").write_text(json.dumps(r.counterexample, indent=2) + "\n")
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.to_text(out, args.kb))
    return 0 if report.ok else 1


def cmd_why_not(args: argparse.Namespace) -> int:
    """`rectoplan why-not`: the case file read as `rectoplan recommend` reads it, then `why_not_offered`."""
    from rectoplan.adapters.case_file import load_case
    from rectoplan.kb.loader import default_knowledge, load_knowledge

    try:
        kb = load_knowledge(Path(args.kb)) if args.kb else default_knowledge()
        case, _, issues = load_case(args.case, kb)
        answer = why_not_offered(case, args.option, kb, search=not args.no_search)  # a bad id fails first
    except RectoplanError as exc:
        return _fail(exc.problems)
    for issue in issues:
        print(f"warning: {issue.message()}", file=sys.stderr)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.format == "json" else answer.to_text())
    return 0
