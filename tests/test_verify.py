"""`rectoplan kb verify`: the shipped knowledge is proved safe, and planted unsafe rules are caught.

Each planted rule is written into a copy of the shipped knowledge in a temporary directory; the verifier
must report a violation whose counterexample case reproduces it through `rectoplan.api.recommend` and the
`rectoplan recommend` command line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("z3")

import rectoplan
from rectoplan import api, cli
from rectoplan.core.engine import assess
from rectoplan.core.errors import KnowledgeError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.invariants import load_invariants, parse_invariants
from rectoplan.kb.loader import load_knowledge
from rectoplan.verify import VerifyReport as Report
from rectoplan.verify.check import violations

SHIPPED = Path(api.__file__).parent / "knowledge"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(SHIPPED, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the planted edit no longer matches {path.name}: update the test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _prove(root: Path) -> tuple[KnowledgeBase, Report]:
    """Through the public API: a knowledge directory is verified with its own invariants."""
    return load_knowledge(root), rectoplan.verify_knowledge(root)


def _violated(report: Report) -> dict[str, Any]:
    return {r.invariant.id: r for r in report.results if r.verdict == "violated"}


def test_shipped_knowledge_is_proved_safe(kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["kb", "verify", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    failing = {r["id"]: r for r in report["results"] if r["verdict"] != "proved"}
    assert not failing
    assert report["ok"] is True
    assert report["proved"] == report["invariants"] == len(load_invariants(kb)) >= 25
    # invariants about option classes really apply to options of the shipped knowledge (not vacuous)
    assert sum(r["options"] for r in report["results"]) > len(kb.options)


def test_planted_unsafe_rules_are_each_found_and_reproduce(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    gates = root / "gates.yaml"
    # 1. an unknown RAS status no longer holds anti-EGFR antibodies back, it only warns
    _edit(gates, "  on_unknown: hold\n  test: ras\n", "  on_unknown: warn\n  test: ras\n")
    # 2. anti-VEGF drugs allowed from 14 days after major surgery
    _edit(
        gates,
        "when: {fact: health.days_since_major_surgery, lt: 28}",
        "when: {fact: health.days_since_major_surgery, lt: 14}",
    )
    # 3. the DPYD exclusion fires on the wrong phenotype
    _edit(gates, "  when: {fact: health.dpyd, is: poor}\n", "  when: {fact: health.dpyd, is: intermediate}\n")
    kb, report = _prove(root)
    found = _violated(report)
    assert set(found) == {
        "anti-egfr-only-ras-wild-type",
        "anti-vegf-not-within-28-days-of-surgery",
        "fluoropyrimidine-not-dpyd-poor",
    }
    for result in found.values():
        assert result.reproduced is True and result.counterexample is not None and result.option is not None
        # the counterexample reproduces through the public API and the Python invariant checker
        case = api.validate_case(result.counterexample, kb)
        assert {v.invariant for v in violations(assess(case, kb), kb, (result.invariant,))} == {result.invariant.id}
        offered = {o.id: o for o in api.recommend(result.counterexample, kb).options}
        assert result.option in offered
    egfr = found["anti-egfr-only-ras-wild-type"]
    assert {"cetuximab", "panitumumab"} & set(kb.option(egfr.option).components)
    markers = egfr.counterexample.get("biomarkers", {})
    assert not (markers.get("kras") == "wild_type" and markers.get("nras") == "wild_type")
    vegf = found["anti-vegf-not-within-28-days-of-surgery"]
    assert 14 <= vegf.counterexample["health"]["days_since_major_surgery"] < 28
    assert {"bevacizumab", "ramucirumab", "aflibercept"} & set(kb.option(vegf.option).components)
    assert found["fluoropyrimidine-not-dpyd-poor"].counterexample["health"]["dpyd"] == "poor"


def test_curative_intent_on_unstaged_disease_is_caught_and_replays_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    # unsafe: a resectable local recurrence is called curable although distant staging is missing
    planted = (
        "- id: planted-curative-local\n  intent: curative\n"
        "  when: {fact: local_recurrence.resectability, is: resectable}\n"
        "  because: planted for a test\n  patient: planted for a test\n  cite: [{brief: S-03}]\n"
    )
    text = (root / "intent.yaml").read_text(encoding="utf-8")
    (root / "intent.yaml").write_text(text.replace("- id: intent-curative", planted + "- id: intent-curative", 1))
    out = tmp_path / "counterexamples"
    code = cli.main(["kb", "verify", "--kb", str(root), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "VIOLATED curative-intent-needs-staged-resectable-disease" in printed
    path = out / "curative-intent-needs-staged-resectable-disease.json"
    case = json.loads(path.read_text())
    assert "metastases" not in case  # the missing staging is what makes it unsafe
    assert cli.main(["recommend", str(path), "--kb", str(root), "--format", "json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["intent"] == "curative"


def _parse(kb: KnowledgeBase, entries: list[dict[str, Any]]) -> None:
    parse_invariants(entries, kb)


@pytest.mark.parametrize(
    ("entry", "where", "expected"),
    [
        (
            {"id": "x", "statement": "s", "cite": [{"brief": "C-20"}], "then": {"fact": "biomarkers.rass", "is": "x"}},
            "then.fact",
            "did you mean 'biomarkers.ras'",
        ),
        ({"id": "x", "statement": "s", "cite": [], "then": True}, "cite", "at least one citation"),
        (
            {
                "id": "x",
                "statement": "s",
                "cite": [{"brief": "C-20"}],
                "then": {"fact": "outcome.status", "is": "offered"},
            },
            "x",
            "applies_to",
        ),
        (
            {
                "id": "x",
                "statement": "s",
                "cite": [{"brief": "C-20"}],
                "applies_to": {"fact": "ecog", "ge": 2},
                "then": True,
            },
            "applies_to.fact",
            "a fact of the schema",
        ),
        (
            {
                "id": "x",
                "statement": "s",
                "cite": [{"brief": "C-20"}],
                "applies_to": True,
                "then": {"fact": "outcome.warnings", "contains": "no-such-gate"},
            },
            "then.contains",
            "one of",
        ),
    ],
)
def test_invariant_errors_name_the_path(kb: KnowledgeBase, entry: dict[str, Any], where: str, expected: str) -> None:
    with pytest.raises(KnowledgeError) as info:
        _parse(kb, [entry])
    messages = " | ".join(info.value.messages())
    assert where in messages and expected in messages, messages


def test_duplicate_invariant_ids_are_rejected(kb: KnowledgeBase) -> None:
    entry = {"id": "same", "statement": "s", "cite": [{"brief": "C-20"}], "then": True}
    with pytest.raises(KnowledgeError, match="unique invariant id"):
        _parse(kb, [entry, entry])


def test_invariant_citations_are_verbatim(kb: KnowledgeBase, shared_dir: Path) -> None:
    """Invariants cite like every knowledge file: seed quotes verbatim, brief entries that exist."""
    from rectoplan.kb.lint import _brief_has, _norm

    brief = (shared_dir / "knowledge" / "brief.md").read_text(encoding="utf-8")
    seeds = {
        s.id: _norm((shared_dir / "seeds" / s.ref).read_text(encoding="utf-8"))
        for s in kb.sources.values()
        if s.kind == "seed"
    }
    for inv in load_invariants(kb):
        assert inv.cite, inv.id
        for cite in inv.cite:
            if cite.quote:
                assert _norm(cite.quote) in seeds[cite.source], (inv.id, cite.quote)
            else:
                assert _brief_has(brief, cite.entry), (inv.id, cite.entry)


def test_python_api_with_another_invariants_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    """`verify_knowledge(kb, invariants=FILE)`: a loaded knowledge base against one invariant, and the
    text the command line prints for the report."""
    import yaml

    entries = yaml.safe_load((SHIPPED / "invariants.yaml").read_text(encoding="utf-8"))
    one = tmp_path / "invariants.yaml"
    one.write_text(yaml.safe_dump(entries[:1]), encoding="utf-8")
    report = rectoplan.verify_knowledge(kb, invariants=one, timeout=120)
    assert isinstance(report, rectoplan.VerifyReport) and report.ok
    assert [r.invariant.id for r in report.results] == [entries[0]["id"]]
    text = report.to_text()
    assert text.startswith(f"PROVED   {entries[0]['id']} (")
    assert text.splitlines()[-1].startswith(
        f"kb verify: 1/1 invariants proved over every case the contract admits ({len(kb.options)} options;"
    )
    with pytest.raises(KnowledgeError):
        rectoplan.verify_knowledge(tmp_path / "no-such-knowledge")
