"""The text output under a real pseudo-terminal: colour on a terminal, none with NO_COLOR or TERM=dumb.

The text renderer crashed only when stdout was a terminal (colour on: a KeyError for options that are not
"preferred"), which no test with captured output could see; these run the command under a pty (stdlib).
"""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "rectoplan" / "examples" / "unresectable-multisite.json"
ESC = b"\x1b["

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def under_pty(args: list[str], **env: str) -> tuple[int, bytes]:
    """Run `python -m rectoplan.cli ARGS` with a pty as stdin/stdout/stderr; (exit code, everything it wrote).

    The read loop is bounded by a deadline, so a hung child fails the test instead of hanging it."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")} | {"TERM": "xterm-256color"}
    environ |= env
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.execve(sys.executable, [sys.executable, "-m", "rectoplan.cli", *args], environ)
    out = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


@pytest.mark.parametrize(
    "args",
    [["demo", "--case", "unresectable-multisite"], ["recommend", str(EXAMPLE), "--format", "text"]],
    ids=["demo", "recommend-text"],
)
def test_text_output_on_a_terminal_is_coloured_and_does_not_crash(args: list[str]) -> None:
    code, out = under_pty(args)
    assert code == 0, out[-2000:].decode(errors="replace")
    assert b"Traceback" not in out
    assert ESC in out  # a terminal gets colour
    assert b"alternative" in out  # an option that is not "preferred" (the one that crashed) was printed


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}], ids=["NO_COLOR", "TERM=dumb"])
def test_no_color_and_a_dumb_terminal_get_plain_text(env: dict[str, str]) -> None:
    code, out = under_pty(["demo", "--case", "unresectable-multisite"], **env)
    assert code == 0, out[-2000:].decode(errors="replace")
    assert ESC not in out and b"OPTIONS to discuss" in out


def test_color_flag_wins_over_no_color() -> None:
    code, out = under_pty(["demo", "--case", "unresectable-multisite", "--color"], NO_COLOR="1")
    assert code == 0 and ESC in out
