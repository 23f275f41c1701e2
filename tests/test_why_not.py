"""`rectoplan why-not CASE OPTION`: the rules that keep an option out, and the smallest change that lets it in.

Generic over the knowledge base: options are picked from the engine's own outcomes on generated cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings

z3 = pytest.importorskip("z3")

from rectoplan import api, cli  # noqa: E402
from rectoplan.compile.z3_smt import Engine  # noqa: E402
from rectoplan.core.case import Case  # noqa: E402
from rectoplan.core.engine import assess  # noqa: E402
from rectoplan.core.knowledge import KnowledgeBase  # noqa: E402
from rectoplan.verify.why_not import NO_CHANGE, explain, why_not  # noqa: E402
from tests.conftest import BASE_CASE, merge  # noqa: E402
from tests.strategies import cases, examples  # noqa: E402


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


def _kept_out(kb: KnowledgeBase, n: int) -> list[tuple[dict[str, Any], str, str]]:
    """(case, option, status) for options that are not offered, one per status where possible: the first
    generated cases of a fixed (derandomized) draw that hold each status."""
    picked: dict[str, tuple[dict[str, Any], str, str]] = {}

    @settings(max_examples=200, database=None, phases=[Phase.generate], derandomize=True)
    @given(cases())
    def scan(data: dict[str, Any]) -> None:
        for o in assess(api.validate_case(data, kb), kb).outcomes:
            if o.status != "offered" and o.status not in picked:
                picked[o.status] = (data, o.option.id, o.status)

    scan()
    return sorted(picked.values(), key=lambda p: STATUS_ORDER.index(p[2]))[:n]


STATUS_ORDER = ("excluded", "held", "not_applicable", "not_indicated")


@settings(max_examples=examples(40))
@given(cases())
def test_rules_come_from_the_engines_trace(kb: KnowledgeBase, data: dict[str, Any]) -> None:
    a = assess(api.validate_case(data, kb), kb)
    for o in a.outcomes:
        answer = explain(a, o.option.id)
        assert answer.status == o.status
        gates = {r.id for r in answer.rules if r.kind != "setting"}
        if o.status in ("excluded", "not_indicated"):
            assert {g.id for g in o.blocking} <= gates
        if o.status == "held":
            assert {g.id for g in o.holding} <= gates
        if o.status == "not_applicable":
            assert [r.id for r in answer.rules if r.kind == "setting"] == [s.id for s in o.option.settings]
            assert all(r.value != "true" for r in answer.rules if r.kind == "setting")
        if o.status == "offered":
            assert answer.rules == [] and answer.rank is not None


def test_smallest_change_lets_the_option_in(kb: KnowledgeBase, engine: Engine) -> None:
    cases = _kept_out(kb, 4)
    assert {status for _, _, status in cases} >= {"excluded", "held", "not_applicable"}
    for data, option, _ in cases:
        answer = why_not(api.validate_case(data, kb), kb, option, engine=engine)
        assert answer.changes is not None
        if not answer.changes:  # then no admissible case offers it: the linter would call it unreachable
            continue
        sizes = {len(c) for c in answer.changes}
        assert len(sizes) == 1 and sizes.pop() >= 1  # every alternative is equally small
        for changes, new, ok in zip(answer.changes, answer.cases, answer.verified, strict=True):
            assert ok
            offered = {o.id for o in api.recommend(new, kb, what_if=False).options}
            assert option in offered
            for c in changes:  # the reported change is exactly the difference
                assert c.before != c.after
        assert len({tuple(c.field for c in ch) for ch in answer.changes}) == len(answer.changes)


def test_one_missing_result_is_the_whole_answer(
    kb: KnowledgeBase, engine: Engine, make_case: Callable[..., Case]
) -> None:
    """A checkpoint inhibitor held only for an unknown MMR status: the answer is that one test result."""
    case = make_case(biomarkers={"mmr": None})
    a = assess(case, kb)
    held = [
        o
        for o in a.outcomes
        if o.status == "held"
        and {g.test for g in o.holding} == {"mmr"}
        and "checkpoint_inhibitor" in {c for d in o.option.components for c in kb.drug_classes.get(d, ())}
    ]
    if not held:
        pytest.skip("no checkpoint inhibitor is held for MMR alone in this knowledge base")
    answer = why_not(case, kb, held[0].option.id, engine=engine)
    assert answer.changes is not None
    first = answer.changes[0]
    assert [(c.field, c.before, c.after) for c in first] == [("biomarkers.mmr", "absent (unknown)", "dmmr_msi_h")]


def test_a_missing_treatment_history_is_filled_with_the_fewest_lines(
    kb: KnowledgeBase, engine: Engine, make_case: Callable[..., Case]
) -> None:
    """Sotorasib + panitumumab needs earlier fluoropyrimidine, oxaliplatin and irinotecan: one line holds
    them; the answer must not pad the history with filler lines."""
    case = make_case(
        biomarkers={"kras": "mutant", "kras_variant": "G12C", "nras": "wild_type"}, prior={"systemic_lines": None}
    )
    answer = why_not(case, kb, "sotorasib-panitumumab", engine=engine)
    assert answer.changes and answer.verified[0]
    lines = answer.cases[0]["prior"]["systemic_lines"]
    assert len(lines) == 1 and {"oxaliplatin", "irinotecan"} <= set(lines[0]["agents"])


def test_a_filled_in_history_is_one_chemotherapy_drug_when_any_line_will_do(
    kb: KnowledgeBase, engine: Engine, make_case: Callable[..., Case]
) -> None:
    example = Path(cli.__file__).parent / "examples" / "unresectable-multisite.json"  # BRAF wild-type, first line
    data = json.loads(example.read_text())
    data["prior"].pop("systemic_lines")  # the history is not recorded: it may be filled in
    case = api.validate_case(data, kb)
    answer = why_not(case, kb, "encorafenib-cetuximab", engine=engine)  # needs V600E and earlier treatment
    assert answer.changes and answer.verified[0]
    (line,) = answer.cases[0]["prior"]["systemic_lines"]
    assert len(line["agents"]) == 1 and "chemotherapy" in kb.drug_classes[line["agents"][0]]


def test_a_recorded_history_is_never_rewritten(kb: KnowledgeBase, engine: Engine) -> None:
    """No treatment given means no earlier line can be added: the past is not a change to propose."""
    example = Path(cli.__file__).parent / "examples" / "unresectable-multisite.json"  # no earlier line
    case = api.validate_case(json.loads(example.read_text()), kb)
    answer = why_not(case, kb, "encorafenib-cetuximab", engine=engine)
    assert answer.changes == []


def test_changes_to_a_lesion_show_its_values_not_the_whole_entry(
    kb: KnowledgeBase, engine: Engine, make_case: Callable[..., Case]
) -> None:
    mets = [
        {"site": "liver", "count": 8, "resectability": "unresectable"},
        {"site": "lung", "count": 4, "resectability": "unresectable"},
    ]
    answer = why_not(make_case(metastases=mets), kb, "liver-resection", engine=engine)
    assert answer.changes
    for change in answer.changes[0]:
        if change.field.endswith((".resectability", ".count")):
            assert not isinstance(change.before, (list, dict)) and not isinstance(change.after, (list, dict))
        assert not (
            change.field.count(".") == 2 and change.field.rsplit(".", 1)[0] in {c.field for c in answer.changes[0]}
        )


def test_cli_text_and_json(kb: KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, option, status = _kept_out(kb, 1)[0]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data))
    assert cli.main(["why-not", str(path), option]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Why not {kb.option(option).title} ({option})?")
    assert "Smallest change" in text or NO_CHANGE in text
    assert cli.main(["why-not", str(path), option, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["option"] == option and out["status"] == status
    assert out["smallest_change"]["method"].startswith("z3 weighted MaxSAT")
    for alternative in out["smallest_change"]["alternatives"]:
        assert alternative["verified"] is True
        api.validate_case(alternative["case"], kb)


def test_cli_offered_option_and_no_search(
    kb: KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(BASE_CASE))
    offered = api.recommend(BASE_CASE, kb, what_if=False).options
    assert offered
    assert cli.main(["why-not", str(path), offered[0].id]) == 0
    assert "It is offered for this case (rank 1" in capsys.readouterr().out
    out_of_plan = [o.option.id for o in assess(api.validate_case(BASE_CASE, kb), kb).outcomes if o.status != "offered"]
    assert cli.main(["why-not", str(path), out_of_plan[0], "--no-search", "--format", "json"]) == 0
    assert "smallest_change" not in json.loads(capsys.readouterr().out)


def test_cli_input_errors(kb: KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(BASE_CASE))
    some = kb.options[0].id
    assert cli.main(["why-not", str(path), some + "z"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "option_id" in captured.err and "did you mean" in captured.err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(merge(BASE_CASE, {"ecog": 7})))
    assert cli.main(["why-not", str(bad), some]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "ecog" in captured.err


def test_an_option_no_case_can_reach_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    root = tmp_path / "knowledge"
    shutil.copytree(Path(api.__file__).parent / "knowledge", root)
    planted = """
- id: planted-unreachable
  title: Planted unreachable option
  kind: supportive
  components: [best_supportive_care]
  patient: Planted for a test.
  evidence: guideline_consensus
  cite: [{brief: S-04}, {ref: nccn-patient-rectal}]
  settings:
    - when: {all: [{fact: ecog, ge: 3}, {fact: ecog, le: 1}]}
      phase: any
      strength: consider
      because: Planted for a test; no case satisfies this.
      cite: [{brief: S-04}, {ref: nccn-patient-rectal}]
"""
    (root / "options" / "99_planted.yaml").write_text(planted, encoding="utf-8")
    case = tmp_path / "case.json"
    case.write_text(json.dumps(BASE_CASE))
    assert cli.main(["why-not", str(case), "planted-unreachable", "--kb", str(root), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "not_applicable"
    assert out["smallest_change"]["found"] is False and out["smallest_change"]["alternatives"] == []
    assert cli.main(["why-not", str(case), "planted-unreachable", "--kb", str(root)]) == 0
    assert NO_CHANGE in capsys.readouterr().out


def test_python_api_validates_the_case_and_names_a_misspelt_option(kb: KnowledgeBase) -> None:
    import rectoplan

    case = merge(BASE_CASE, {"biomarkers": {"mmr": None}})
    answer = rectoplan.why_not_offered(case, "pembrolizumab", kb, search=False)
    assert isinstance(answer, rectoplan.WhyNotAnswer) and answer.changes is None  # no search: no changes
    assert answer.to_dict()["option"] == "pembrolizumab" and answer.to_text().startswith("Why not")
    with pytest.raises(rectoplan.OptionError) as bad_id:
        rectoplan.why_not_offered(case, "pembrolizumabb", kb)
    (problem,) = bad_id.value.problems
    assert problem.path == "option_id" and "'pembrolizumab'" in problem.suggestion
    with pytest.raises(rectoplan.CaseError):
        rectoplan.why_not_offered({"id": "x", "ecog": 9}, "pembrolizumab", kb)


def test_python_api_answer_is_what_the_cli_prints(
    kb: KnowledgeBase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import rectoplan

    data, option, _ = _kept_out(kb, 1)[0]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data))
    assert cli.main(["why-not", str(path), option, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    answer = json.loads(json.dumps(rectoplan.why_not_offered(data, option).to_dict()))
    # the solver may pick another of several equally small changes: the rest is the same answer
    cli_change, api_change = printed.pop("smallest_change"), answer.pop("smallest_change")
    assert printed == answer
    assert cli_change["found"] == api_change["found"] and cli_change["method"] == api_change["method"]
    sizes = {len(a["changes"]) for a in [*cli_change["alternatives"], *api_change["alternatives"]]}
    assert len(sizes) <= 1 and all(a["verified"] for a in [*cli_change["alternatives"], *api_change["alternatives"]])
