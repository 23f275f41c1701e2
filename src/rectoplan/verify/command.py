"""CLI plugin: `rectoplan kb verify` and `rectoplan why-not`. z3 is imported only when they run."""

from __future__ import annotations

import argparse
import difflib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from rectoplan.core.errors import Problem, RectoplanError


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


def _missing_z3() -> int | None:
    try:
        import z3  # noqa: F401
    except ModuleNotFoundError:
        return _fail([Problem("z3", "not installed", "the 'verify' extra: pip install 'rectoplan[verify]'")])
    return None


def cmd_verify(args: argparse.Namespace) -> int:
    """`rectoplan kb verify`. Branchy by design: its options and its kinds of report."""
    if (code := _missing_z3()) is not None:
        return code
    from rectoplan.kb.invariants import load_invariants
    from rectoplan.kb.loader import default_knowledge, load_knowledge
    from rectoplan.verify.prove import prove

    try:
        kb = load_knowledge(Path(args.kb)) if args.kb else default_knowledge()
        invariants = load_invariants(kb, Path(args.kb) / "invariants.yaml" if args.kb else None)
    except RectoplanError as exc:
        return _fail(exc.problems)
    report = prove(kb, invariants, timeout_ms=int(args.timeout * 1000))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for r in report.results:
            if r.counterexample is not None:
                (out / f"{r.invariant.id}.json").write_text(json.dumps(r.counterexample, indent=2) + "\n")
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0 if report.ok else 1
    for r in report.results:
        scope = f"{r.options} option{'s' if r.options != 1 else ''}" if r.invariant.applies_to is not None else "plan"
        print(f"{r.verdict.upper():8} {r.invariant.id} ({scope}, {r.seconds * 1000:.0f} ms)")
        if r.verdict == "violated":
            where = f" by option {r.option}" if r.option else ""
            print(f"         {r.invariant.statement}")
            print(
                f"         violated{where}; counterexample case (reproduced by the engine: "
                f"{'yes' if r.reproduced else 'NO'}):"
            )
            print("         " + json.dumps(r.counterexample, ensure_ascii=False))
            if args.out:
                case = shlex.quote(str(Path(args.out) / (r.invariant.id + ".json")))
                same = f" --kb {shlex.quote(args.kb)}" if args.kb else ""  # the same knowledge, or not the same run
                print(f"         reproduce: rectoplan recommend {case}{same}")
        elif r.verdict == "unknown":
            print(f"         solver gave no answer: {r.detail}")
    proved = sum(r.verdict == "proved" for r in report.results)
    print(
        f"kb verify: {proved}/{len(report.results)} invariants proved over every case the contract admits "
        f"({len(kb.options)} options; encoding {report.build_seconds:.2f} s, total {report.seconds:.2f} s)"
    )
    return 0 if report.ok else 1


def cmd_why_not(args: argparse.Namespace) -> int:
    from rectoplan.adapters.case_file import load_case
    from rectoplan.kb.loader import default_knowledge, load_knowledge

    try:
        kb = load_knowledge(Path(args.kb)) if args.kb else default_knowledge()
        case, _, issues = load_case(args.case, kb)
    except RectoplanError as exc:
        return _fail(exc.problems)
    ids = [o.id for o in kb.options]
    if args.option not in ids:
        near = difflib.get_close_matches(args.option, ids, n=1)
        return _fail(
            [
                Problem(
                    "OPTION_ID",
                    repr(args.option),
                    "an option id of the knowledge base",
                    f"did you mean {near[0]!r}?" if near else "see `rectoplan recommend --format json`",
                )
            ]
        )
    for issue in issues:
        print(f"warning: {issue.message()}", file=sys.stderr)
    search = not args.no_search
    if search and (code := _missing_z3()) is not None:
        return code
    from rectoplan.verify.why_not import render, why_not

    answer = why_not(case, kb, args.option, search=search)
    if args.format == "json":
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render(answer))
    return 0
