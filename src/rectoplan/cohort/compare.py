"""`--compare-kb OLD`: who gets different options under another knowledge version, and why.

OLD is a knowledge folder (a copy of src/rectoplan/knowledge, edited) or a git revision of this
repository (its src/rectoplan/knowledge at that revision). The cohort is evaluated under both versions
with the same engine; rows whose ranked options or settings differ are written to OUTDIR/compare.parquet
with the options added and removed and a reason for each change, taken from the trace of the other
version (excluded by a rule, held for a fact, no setting applies, option new or gone). Reasons are
built once per distinct pair of outcomes, not once per row.
"""

from __future__ import annotations

import collections
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rectoplan.cohort.readers import InputError
from rectoplan.cohort.run import CohortResult, Progress, run_cohort
from rectoplan.compile.plan import SEP
from rectoplan.core.errors import Problem
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge

KNOWLEDGE_PATH = "src/rectoplan/knowledge"
COMPARED = ("options", "settings", "excluded", "exclusions", "held", "holds", "tests_needed")


def _repo_root() -> Path | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip())


def load_old_knowledge(spec: str) -> KnowledgeBase:
    """A knowledge folder, or this repository's knowledge at git revision `spec`."""
    path = Path(spec)
    if path.is_dir():
        folder = path / KNOWLEDGE_PATH if (path / KNOWLEDGE_PATH / "manifest.yaml").is_file() else path
        if not (folder / "manifest.yaml").is_file():
            raise InputError(
                [
                    Problem(
                        f"--compare-kb {spec}",
                        "a folder without manifest.yaml",
                        "a knowledge folder (like src/rectoplan/knowledge) or a git revision",
                    )
                ]
            )
        return load_knowledge(folder)
    root = _repo_root()
    if root is None:
        raise InputError(
            [
                Problem(
                    f"--compare-kb {spec}",
                    "neither a folder nor a git repository",
                    "a knowledge folder or a git revision of the rectoplan repository",
                )
            ]
        )
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", spec, KNOWLEDGE_PATH],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(
            [
                Problem(
                    f"--compare-kb {spec}",
                    f"no knowledge at that git revision ({message[-1] if message else 'git archive failed'})",
                    "a knowledge folder or a revision such as HEAD~1 or a tag",
                )
            ]
        ) from None
    with tempfile.TemporaryDirectory(prefix="rectoplan-kb-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        return load_knowledge(Path(tmp) / KNOWLEDGE_PATH)


def _ids(text: str | None) -> list[str]:
    return (text or "").split()


def _rules_of(pairs: str | None, option: str) -> list[str]:
    return [p.split(SEP, 1)[1] for p in _ids(pairs) if p.split(SEP, 1)[0] == option]


def _fate(row: dict[str, Any], prefix: str, option: str, kb: KnowledgeBase) -> str:
    """What a version did with an option it does not offer."""
    if option not in {o.id for o in kb.options}:
        return f"not in knowledge {kb.version}"
    if option in _ids(row[f"{prefix}excluded"]):
        return f"excluded by {', '.join(_rules_of(row[f'{prefix}exclusions'], option))}"
    if option in _ids(row[f"{prefix}held"]):
        return f"held back pending {', '.join(_rules_of(row[f'{prefix}holds'], option))}"
    return "no setting applies or a requirement is not met"


def explain_change(row: dict[str, Any], old: KnowledgeBase, new: KnowledgeBase) -> dict[str, Any]:
    """Added and removed options and one reason per change, for one pair of outcomes."""
    old_opts, new_opts = _ids(row["old_options"]), _ids(row["new_options"])
    old_set = dict(zip(old_opts, _ids(row["old_settings"]), strict=True))
    new_set = dict(zip(new_opts, _ids(row["new_settings"]), strict=True))
    reasons = []
    added = [o for o in new_opts if o not in old_set]
    removed = [o for o in old_opts if o not in new_set]
    for o in added:
        reasons.append(f"+{o}: now offered (setting {new_set[o]}); before: {_fate(row, 'old_', o, old)}")
    for o in removed:
        reasons.append(f"-{o}: offered before (setting {old_set[o]}); now: {_fate(row, 'new_', o, new)}")
    for o in new_opts:
        if o in old_set and old_set[o] != new_set[o]:
            reasons.append(f"~{o}: setting {old_set[o]} -> {new_set[o]}")
    kept = [o for o in new_opts if o in old_set]
    if not reasons and [o for o in old_opts if o in new_set] != kept:
        reasons.append("same options, different order")
    return {"added": " ".join(added), "removed": " ".join(removed), "why": "; ".join(reasons)}


def compare_run(
    result: CohortResult,
    old_kb: KnowledgeBase,
    outdir: Path,
    label: str,
    progress: Progress | None = None,
    source: Path | None = None,
) -> dict[str, Any]:
    """Evaluate the same input under `old_kb`; write OUTDIR/compare.parquet; return the report section.

    Long by design: the phases of one comparison (evaluate, join, count, write), timed in order."""
    import polars as pl

    path = source or Path(result.source)
    old = run_cohort(
        path, old_kb, result.engine if result.engine != "spark" else "polars", None, ignore_unknown_columns=True
    )
    cols = ["row", "id", *COMPARED]
    new = result.results if result.results is not None else pq.read_table(outdir / "results.parquet")
    assert old.results is not None
    new_df = pl.from_arrow(new.select(cols))
    old_df = pl.from_arrow(old.results.select(cols))
    assert isinstance(new_df, pl.DataFrame) and isinstance(old_df, pl.DataFrame)
    new_df = new_df.with_columns(pl.col(c).cast(pl.String) for c in COMPARED)
    old_df = old_df.with_columns(pl.col(c).cast(pl.String) for c in COMPARED)
    both = new_df.rename({c: f"new_{c}" for c in COMPARED}).join(
        old_df.rename({c: f"old_{c}" for c in COMPARED}).drop("id"), on="row", how="full", coalesce=True
    )
    validity = both.filter(pl.col("new_options").is_null() | pl.col("old_options").is_null()).height
    changed = both.filter(
        pl.col("new_options").is_not_null()
        & pl.col("old_options").is_not_null()
        & ((pl.col("new_options") != pl.col("old_options")) | (pl.col("new_settings") != pl.col("old_settings")))
    )
    keys = [f"{p}{c}" for p in ("old_", "new_") for c in COMPARED]
    distinct = changed.select(keys).unique()
    explained = pl.DataFrame(
        [{**r, **explain_change(r, old_kb, result.kb)} for r in distinct.iter_rows(named=True)],
        schema={**{k: pl.String for k in keys}, "added": pl.String, "removed": pl.String, "why": pl.String},
    )
    table = (
        changed.join(explained, on=keys, how="left", nulls_equal=True)
        .sort("row")
        .select("row", "id", "old_options", "new_options", "old_settings", "new_settings", "added", "removed", "why")
    )
    outdir.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.to_arrow(), outdir / "compare.parquet")
    gained: collections.Counter[str] = collections.Counter()
    lost: collections.Counter[str] = collections.Counter()
    for added, removed, n in table.group_by("added", "removed").len().iter_rows():
        for o in _ids(added):
            gained[o] += n
        for o in _ids(removed):
            lost[o] += n
    return {
        "compare": {
            "against": label,
            "old_knowledge_version": old_kb.version,
            "new_knowledge_version": result.kb.version,
            "changed": table.height,
            "validity_changed": validity,
            "gained": dict(gained.most_common()),
            "lost": dict(lost.most_common()),
        }
    }


__all__ = ["compare_run", "explain_change", "load_old_knowledge", "pa"]
