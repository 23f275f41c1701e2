"""`--compare-kb OLD`: who gets different options under another knowledge version, and why."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from rectoplan.cli import main
from rectoplan.core.errors import KnowledgeError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import load_knowledge
from rectoplan.synthetic import random_cases

pytest.importorskip("polars")

from rectoplan.cohort.columns import flatten_contract
from rectoplan.cohort.compare import load_old_knowledge
from rectoplan.cohort.readers import InputError
from rectoplan.cohort.run import run_cohort
from tests.test_cohort_equivalence import write_parquet


def _without_option(source: Path, target: Path, option_id: str) -> bool:
    """Copy the knowledge folder without one option; False if the copy no longer loads (it is referenced)."""
    shutil.copytree(source, target)
    for path in (target / "options").glob("*.yaml"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        kept = [e for e in entries if e.get("id") != option_id]
        if len(kept) != len(entries):
            path.write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        load_knowledge(target)
    except KnowledgeError:
        return False
    return True


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, kb: KnowledgeBase) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("compare")
    write_parquet([flatten_contract(c) for c in random_cases(600, seed=51)], folder / "cohort.parquet")
    current = run_cohort(folder / "cohort.parquet", kb, "polars")
    assert current.results is not None
    offered: dict[str, int] = {}
    for text in current.results.column("options").to_pylist():
        for o in text.split():
            offered[o] = offered.get(o, 0) + 1
    shipped = Path(str(resources.files("rectoplan") / "knowledge"))
    for option, count in sorted(offered.items(), key=lambda kv: -kv[1]):
        old = folder / f"kb-without-{option}"
        if _without_option(shipped, old, option):
            return {"folder": folder, "old": old, "option": option, "count": count}
    pytest.fail("no offered option can be removed from a copy of the knowledge base")


def test_reports_each_case_that_gains_an_option_and_why(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = setup["folder"] / "out"
    code = main(["cohort", str(setup["folder"] / "cohort.parquet"), "-o", str(out), "--compare-kb", str(setup["old"])])
    assert code == 0
    assert f"{setup['count']} cases change" in capsys.readouterr().out
    changed = pq.read_table(out / "compare.parquet").to_pylist()
    option = setup["option"]
    assert len(changed) == setup["count"]
    for row in changed:
        assert row["added"].split() == [option] and row["removed"] == ""
        assert f"+{option}: now offered" in row["why"] and "before: not in knowledge" in row["why"]
        assert option in row["new_options"].split() and option not in row["old_options"].split()
    report = json.loads((out / "report.json").read_text())
    assert report["compare"]["changed"] == setup["count"]
    assert report["compare"]["gained"] == {option: setup["count"]} and report["compare"]["lost"] == {}
    assert f"data-label='changed' data-count='{setup['count']}'" in (out / "report.html").read_text()


def test_compare_against_a_git_revision_or_refuse_clearly() -> None:
    try:
        old = load_old_knowledge("HEAD")
    except InputError as exc:  # not a git checkout (an installed package): the message says what to give
        assert "git" in str(exc)
    else:
        assert old.options
    with pytest.raises(InputError, match="no-such-revision"):
        load_old_knowledge("no-such-revision")
