"""Writing output files so that no write ever lands outside the output the user named.

Two ways a file write goes astray, both closed here:

- **Through a symbolic link.** `open(path, "w")` follows a link at `path`, so a link planted in an output
  folder (`OUT/report.html -> ~/.bashrc`) would make rectoplan overwrite the file it points to. Every
  output is written to a new temporary file next to its final name (created with O_EXCL, which never
  follows a link) and renamed into place; a rename replaces a link itself, never its target. An output
  path that already is a link is refused before any work, with its target named, so a planted link is
  noticed rather than silently removed.
- **Half-written or mixed.** A crash, a full disk or an input error halfway leaves either the previous
  file or the complete new one, never a truncated one. A cohort run writes everything into a private
  staging folder inside the output folder first (`OutputFolder`) and moves each file into place only once
  the whole run has succeeded; a failed run leaves the folder as it was.

Standard library only: the handout (core install) uses it as well as cohort mode.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from rectoplan.core.errors import Problem, RectoplanError

STAGING_PREFIX = ".rectoplan-staging-"


class OutputError(RectoplanError):
    """An output path rectoplan must not or cannot write (a link, a folder, an unwritable place)."""


def _link_problem(path: Path) -> Problem:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return Problem(
        str(path),
        f"a symbolic link (to {target})",
        "a regular file or no file at all: rectoplan never writes through a link; remove the link or name "
        "another output",
    )


def _os_problem(path: Path, exc: OSError, expected: str) -> Problem:
    """An OS error in rectoplan's words: the path, what the system said, what was needed."""
    return Problem(str(path), (exc.strerror or type(exc).__name__).lower(), expected)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_file(path: Path, suffixes: tuple[str, ...]) -> None:
    """Refuse, before any work, an output file name that could not be written as asked: `-` (a binary
    handout has no place on a terminal), a suffix other than `suffixes` (it decides the format, and
    guessing would write a PDF into `notes.txt`), a link, a folder, or a folder that is missing or
    read-only."""
    names = " or ".join(suffixes)
    if str(path) == "-":
        expected = f"a file name ending in {names} (the output is a file, never stdout)"
        raise OutputError([Problem("--output", "'-'", expected)])
    if path.suffix.lower() not in suffixes:
        found = f"{path.name!r} (suffix {path.suffix!r})" if path.suffix else f"{path.name!r} (no suffix)"
        raise OutputError([Problem("--output", found, f"a file name ending in {names}")])
    if path.is_symlink():
        raise OutputError([_link_problem(path)])
    if path.is_dir():
        raise OutputError([Problem(str(path), "a folder", f"a file name ending in {names}")])
    parent = path.parent
    if not parent.is_dir():
        raise OutputError([Problem(str(parent), "no such folder", "an existing folder for the output file")])
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError([Problem(str(parent), "a folder this user cannot write", "a writable folder")])


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all, never through a link (see the module docstring)."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError([_os_problem(path.parent, exc, "a writable folder")]) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # as an ordinary write would leave it (mkstemp makes it 0600)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise OutputError([_os_problem(path, exc, "a writable output file")]) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class OutputFolder:
    """An output folder that receives a whole run or nothing: files are made in a staging folder inside
    it and moved into place by `publish`.

    `owned` are the names a run of this kind may write. `publish` puts each one the run made in place and
    removes each one it did not make (a stale `compare.parquet` of an earlier run with `--compare-kb` must
    not sit next to new results as if it described them). Every other file in the folder is left alone.
    """

    def __init__(self, path: Path, owned: Iterable[str], folders: Iterable[str] = ()) -> None:
        self.path = path
        self.owned = tuple(owned)
        self.folders = frozenset(folders)  # owned names that may be folders (Spark's results.parquet)
        self.staging: Path | None = None

    def prepare(self) -> Path:
        """Check the folder and make the staging folder in it, before any computation: a folder that
        cannot be written fails here (and not after an hour of work). Returns the staging folder."""
        path = self.path
        if path.is_symlink():
            raise OutputError([_link_problem(path)])
        if path.exists() and not path.is_dir():
            raise OutputError([Problem(str(path), "a file", "a folder for the results (new or existing)")])
        problems = []
        for name in self.owned:
            target = path / name
            if target.is_symlink():
                problems.append(_link_problem(target))
            elif target.is_dir() and name not in self.folders:
                problems.append(Problem(str(target), "a folder", "a file rectoplan writes, or nothing"))
        if problems:
            raise OutputError(problems)
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=path))
        except OSError as exc:
            raise OutputError([_os_problem(path, exc, "a folder this user can create and write")]) from None
        return self.staging

    def publish(self) -> None:
        """Move every file the run made into place (each by one rename, replacing, never following, what
        was there); remove the owned names the run did not make; drop the staging folder."""
        staging = self._staging()
        aside = staging / ".replaced"
        aside.mkdir()
        try:
            for name in self.owned:
                new, old = staging / name, self.path / name
                present = old.is_symlink() or old.exists()
                folder = new.is_dir() or (old.is_dir() and not old.is_symlink())
                if present and (folder or not new.exists()):
                    # a folder cannot replace a file (or a folder) in one rename: the old one is moved aside
                    os.replace(old, aside / name)
                if new.exists():
                    os.replace(new, old)
        except OSError as exc:
            raise OutputError([_os_problem(self.path, exc, "a folder whose files rectoplan can replace")]) from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the staging folder and whatever is in it (links in it are removed, never followed)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def _staging(self) -> Path:
        if self.staging is None:
            raise RuntimeError("OutputFolder.prepare() was not called")
        return self.staging
