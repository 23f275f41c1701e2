"""The examples of the README and the docs that tests/test_readme_examples.py does not run are true too:
the JSON fragments are what the engine prints, the YAML examples are the shipped entries they show (and
use only fields the loader knows), the why-not example is what `why_not_offered` answers, every
`rectoplan` command line of every page parses with today's options, and the README's cohort commands run
(on a small cohort made the way the benchmark makes it)."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import rectoplan
from rectoplan.cli import build_parser, main
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases
from rectoplan.kb.models import CautionIn, GateIn, OptionIn, SettingIn

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
KNOWLEDGE = (ROOT / "docs" / "knowledge.md").read_text(encoding="utf-8")
VERIFY = (ROOT / "docs" / "verify.md").read_text(encoding="utf-8")
SHIPPED = ROOT / "src" / "rectoplan" / "knowledge"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(text: str, lang: str) -> list[str]:
    """The fenced blocks of one language (`""` for a bare fence), read fence by fence."""
    found: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if current is None and line.startswith("```"):
            current = [] if line.strip() == "```" + lang else None
            if current is None:
                current = ["\0"]  # another language: skip to its closing fence
        elif current is not None and line.strip() == "```":
            if current[:1] != ["\0"]:
                found.append("".join(current))
            current = None
        elif current is not None and current[:1] != ["\0"]:
            current.append(line)
    return found


def _fragment(block: str) -> dict[str, Any]:
    """A fragment of a recommendation's JSON (`"key": value,` lines, lists cut short with `, ...]`)."""
    return dict(json.loads("{" + block.replace(", ...]", "]").strip().rstrip(",") + "}"))


@pytest.fixture(scope="module")
def shown(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every offered option of every demo case, as contract 2 prints it."""
    return [o for _, data in demo_cases() for o in rectoplan.recommend(data, kb, what_if=False).to_dict()["options"]]


def _shown_source(doc: dict[str, Any], shown: list[dict[str, Any]]) -> bool:
    """A documented source entry is one the engine shows (a quote cut with '...' matches its beginning)."""
    for option in shown:
        for source in option["sources"]:
            quote = doc.get("quote")
            same_quote = quote is None or source.get("quote", "").startswith(quote.removesuffix(" ...").rstrip("."))
            if same_quote and all(source.get(k) == v for k, v in doc.items() if k != "quote"):
                return True
    return False


def test_readme_evidence_and_sources_are_what_recommend_prints(shown: list[dict[str, Any]]) -> None:
    (block,) = [b for b in _blocks(README, "text") if '"evidence"' in b]
    doc = _fragment(block)
    assert any(o["evidence"] == doc["evidence"] for o in shown)
    assert all(_shown_source(s, shown) for s in doc["sources"])


def test_knowledge_md_json_fragments_are_what_recommend_prints(shown: list[dict[str, Any]]) -> None:
    sources, evidence = (_fragment(b) for b in _blocks(KNOWLEDGE, "json"))
    assert all(_shown_source(s, shown) for s in sources["sources"])
    assert any(o["evidence"] == evidence["evidence"] and o["regulatory"] == evidence["regulatory"] for o in shown)


def _shipped(kind: str, ident: str) -> dict[str, Any]:
    files = [SHIPPED / f"{kind}.yaml"] if kind != "options" else sorted((SHIPPED / "options").glob("*.yaml"))
    for path in files:
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            if entry["id"] == ident:
                return dict(entry)
    raise AssertionError(f"{ident} is not in the shipped {kind}")


def test_knowledge_md_yaml_examples_are_shipped_entries(kb: KnowledgeBase) -> None:
    citations, (option,), (gate,), (caution,) = (yaml.safe_load(b) for b in _blocks(KNOWLEDGE, "yaml"))
    assert {c["ref"] for c in citations["cite"] if "ref" in c} <= {s.id for s in kb.sources.values()} | set(kb.sources)
    assert set(option) <= set(OptionIn.model_fields)
    assert all(set(row) <= set(SettingIn.model_fields) for row in option["settings"])
    real = _shipped("options", option["id"])
    assert (option["kind"], option["components"], option["evidence"]) == (
        real["kind"],
        real["components"],
        real["evidence"],
    )
    assert set(gate) <= set(GateIn.model_fields)
    real = _shipped("gates", gate["id"])
    assert {k: gate[k] for k in ("effect", "when", "on_unknown", "test")} == {
        k: real[k] for k in ("effect", "when", "on_unknown", "test")
    }
    assert set(caution) <= set(CautionIn.model_fields)
    real = _shipped("cautions", caution["id"])
    assert {k: caution[k] for k in ("applies_to", "when")} == {k: real[k] for k in ("applies_to", "when")}
    assert real["lowers"].startswith(caution["lowers"].strip().removesuffix("...").strip())


def test_verify_md_invariant_example_is_the_shipped_one() -> None:
    (example,) = [yaml.safe_load(b)[0] for b in _blocks(VERIFY, "yaml")]
    real = _shipped("invariants", example["id"])
    assert (example["applies_to"], example["then"]) == (real["applies_to"], real["then"])


def _lines_in_order(shown: list[str], printed: list[str]) -> bool:
    """Each documented line is a printed line (or its beginning, when cut with '...'), in order."""
    at = 0
    for line in shown:
        stem = line.removesuffix("...").rstrip()
        while at < len(printed) and not (
            printed[at] == line or (line.endswith("...") and printed[at].startswith(stem))
        ):
            at += 1
        if at == len(printed):
            return False
        at += 1
    return True


def test_verify_md_why_not_example_is_what_why_not_answers(kb: KnowledgeBase) -> None:
    pytest.importorskip("z3")
    (example,) = [b for b in _blocks(VERIFY, "") if b.startswith("Why not")]
    data = dict(next(d for name, d in demo_cases() if name == "unresectable-multisite"))
    data["biomarkers"] = {k: v for k, v in data["biomarkers"].items() if k != "mmr"}
    answer = rectoplan.why_not_offered(data, "pembrolizumab", kb)
    printed = answer.to_text().splitlines()
    assert _lines_in_order(example.rstrip("\n").splitlines(), printed), answer.to_text()


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for block in _blocks(page.read_text(encoding="utf-8"), "sh"):
            for line in block.replace("\\\n", " ").splitlines():
                if ".venv/bin/rectoplan " in line:
                    found.append((page.name, line.split(" #", 1)[0].strip()))
    return found


@pytest.mark.parametrize(("page", "line"), _command_lines())
def test_every_documented_command_line_parses(page: str, line: str, tmp_path: Path) -> None:
    command = line.split("|")[-1].split(">")[0].split("&&")[-1]
    words = shlex.split(command)
    args = words[words.index(".venv/bin/rectoplan") + 1 :]
    jwks = tmp_path / "jwks.json"  # a key file the page names on the EHR's machine: here, a stand-in
    jwks.write_text('{"keys": []}')
    args = [re.sub(r"=/\S+\.json$", f"={jwks}", a) for a in args]
    try:
        build_parser().parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"{page}: `{line}` does not parse (exit {exc.code})")


def test_readme_cohort_commands_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark line with its own flags (at a test's size, one run) makes the file the next line reads."""
    pytest.importorskip("polars")
    sys.path.insert(0, str(ROOT / "bench"))
    import cohort as bench  # bench/cohort.py

    (block,) = [b for b in _blocks(README, "sh") if "bench/cohort.py" in b]
    bench_line, run_line = (line.split(" #", 1)[0] for line in block.strip().splitlines())
    size = re.search(r"--cases (\d+)", bench_line)[1]  # type: ignore[index]
    data = re.search(r"--data (\S+)", bench_line)[1]  # type: ignore[index]
    small = {size: "300", data: str(tmp_path)}
    sample = re.search(r"--sample (\d+)", bench_line)
    if sample:
        small[sample[1]] = "50"
    args = [small.get(a, a) for a in shlex.split(bench_line)[2:]]
    assert bench.main([*args, "--repeat", "1"]) == 0
    capsys.readouterr()
    args = [a.replace(data, str(tmp_path)).replace(f"-{size}.", "-300.") for a in shlex.split(run_line)[1:]]
    assert main(args) == 0
    assert (tmp_path / "out" / "results.parquet").is_file()


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "README.md"], ids=lambda p: p.name)
def test_docs_python_examples_run(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's example runs in test_readme_examples.py; these are the pages' own."""
    for code in _blocks(page.read_text(encoding="utf-8"), "python"):
        if "verify" in code or "why_not" in code:
            pytest.importorskip("z3")
        exec(compile(code, page.name, "exec"), {})
        assert capsys.readouterr().out.strip()


def test_readme_curl_calls_are_the_ones_service_docs_runs() -> None:
    """tests/test_service_docs.py calls the curl lines of docs/service.md on a running service; the
    README's are the same lines, so they are run too."""
    service = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")

    def calls(text: str) -> list[str]:
        joined = "\n".join(_blocks(text, "sh")).replace("\\\n", " ")
        return [" ".join(line.split()) for line in joined.splitlines() if line.strip().startswith("curl ")]

    assert calls(README) and set(calls(README)) <= set(calls(service))


def _contract_2_bullets() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    part = text.split("## Contract 2", 1)[1].split("\n## ", 1)[0]
    bullets = re.split(r"\n- ", part)[1:]
    return {b.split(":", 1)[0]: re.findall(r"`([a-z_.]+)`", b.split(":", 1)[1]) for b in bullets}


def _has(data: dict[str, Any], dotted: str) -> bool:
    head, _, rest = dotted.partition(".")
    return head in data and (not rest or (isinstance(data[head], dict) and _has(data[head], rest)))


def test_contract_2_names_what_recommend_prints(kb: KnowledgeBase) -> None:
    """Every key docs/contracts.md lists for contract 2 is in the output (some case of the demo or a sparse
    one shows it), and the test ids it names are the vocabulary's."""
    sparse = {"id": "p1", "metastases": [{"site": "liver", "count": 3, "resectability": "unresectable"}]}
    outs = [rectoplan.recommend(d, kb).to_dict() for d in [sparse, *(d for _, d in demo_cases())]]
    parts = {
        "top level": outs,
        "options": [o for out in outs for o in out["options"]],
        "excluded": [e for out in outs for e in out["excluded"]],
        "tests": [t for out in outs for t in out["tests_needed"]],
        "what_would_change": [w for out in outs for w in out["what_would_change"]],
    }
    bullets = _contract_2_bullets()
    assert set(bullets) == set(parts)
    fhir_only = {"input", "not_read"}  # the CLI adds them for a FHIR Bundle (tests/test_cli.py)
    for part, names in bullets.items():
        for name in names:
            if (part == "tests" and name in kb.vocabulary.tests) or name in fhir_only:
                continue
            assert any(_has(item, name) for item in parts[part]), f"contracts.md, {part}: `{name}`"


def test_contract_3_names_every_command() -> None:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8").split("## Contract 3", 1)[1]
    documented = set(re.findall(r"`rectoplan ([a-z-]+)", text))
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert documented == set(commands)
