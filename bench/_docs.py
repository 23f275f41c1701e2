"""Benchmark figures in one place: `docs/benchmarks.md`, one section per benchmark, written by a run.

Figures copied by hand into docstrings and pages go stale the day the code changes, and nobody can tell
from which run, machine or commit they came. Here each section is the verbatim output of one run with
its command, date, commit and machine, replaced as a whole by the next run:

    .venv/bin/python bench/_docs.py bench/recommend.py 5000          # runs it, prints, writes its section
    .venv/bin/python bench/_docs.py --section service-in-process bench/service.py --in-process --unique

A script may also call `record(name, command, output)` itself (for a `--write-docs` flag). Targets stay in
the scripts' docstrings and the README; measured figures live only in docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
HEAD = """# Benchmark figures

Written by the benchmark runs, never by hand (`bench/_docs.py`): each section below is the output of one
run of one script, with its command, date, commit and machine. The targets are in the README and in each
script's docstring; the scripts print figures and never assert on time. The machine is shared, so compare
figures only within one run, or across runs made in the same minute.
"""


def _start(name: str) -> str:
    return f"<!-- bench:{name}:start -->"


def _end(name: str) -> str:
    return f"<!-- bench:{name}:end -->"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "src"], check=False)
    return out.stdout.strip() + (" with uncommitted changes to src/" if dirty.returncode else "")


def machine() -> str:
    """What the figures depend on: cores, Python, platform, and how busy the machine was."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"load average {load}"
    )


def section(name: str, command: str, output: str, when: datetime.datetime | None = None) -> str:
    """One benchmark's section: a heading, how and where it was run, and its output verbatim."""
    when = when or datetime.datetime.now(datetime.UTC)
    return "\n".join(
        [
            _start(name),
            f"## {name}",
            "",
            f"`{command}`: {when:%Y-%m-%d %H:%M} UTC, commit {_commit()}; {machine()}.",
            "",
            "```text",
            output.rstrip("\n"),
            "```",
            _end(name),
        ]
    )


def replace_section(text: str, name: str, new: str) -> str:
    """`text` with the section `name` replaced by `new` (appended when there is none yet)."""
    if _start(name) not in text:
        return text.rstrip("\n") + "\n\n" + new + "\n"
    head, rest = text.split(_start(name), 1)
    tail = rest.split(_end(name), 1)[1]
    return head + new + tail


def record(name: str, command: str, output: str, doc: Path = DOC) -> None:
    """Write one run's output as the section `name` of docs/benchmarks.md, leaving the others as they are."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else HEAD
    doc.write_text(replace_section(text, name, section(name, command, output)), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Run `bench/SCRIPT.py ARGS...`, show its output as it comes, and record it when it succeeds.

    The section is named after the script, or `--section NAME` (given first) for a second way of running
    the same script (`service-in-process`), so that a rerun replaces its own figures and no other."""
    name = None
    if argv[:1] == ["--section"] and len(argv) > 1:
        name, argv = argv[1], argv[2:]
    if not argv or not argv[0].endswith(".py"):
        sys.stderr.write("usage: python bench/_docs.py [--section NAME] bench/SCRIPT.py [ARGS...]\n")
        return 2
    script = Path(argv[0])
    command = " ".join([".venv/bin/python", str(script.as_posix()), *argv[1:]])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(script), *argv[1:]], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    if proc.wait() != 0:
        sys.stderr.write(f"{script} exited {proc.returncode}: docs/benchmarks.md left as it was\n")
        return proc.returncode
    name = name or script.stem
    record(name, command, "".join(lines))
    sys.stderr.write(f"recorded in {DOC.relative_to(ROOT)} (section {name!r})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
