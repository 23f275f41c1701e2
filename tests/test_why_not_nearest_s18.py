"""Review 15 F6: why-not's smallest change moves a number to the nearest boundary a rule draws.

Before, z3 minimised only the number of changed fields, so any value that let the option in would do:
"age: 68 -> 18" (TRANSMET, age limit 65), "age: 78 -> 18" (FOLFOXIRI + bevacizumab), "days since major
surgery: 10 -> 5782" (anti-VEGF, 28 days). The three review cases are copied here as dicts (trimmed to
what they need) and must name the nearest boundary: 65, 70 (ECOG 1 kept: 71-75 needs ECOG 0) and 28. A
second check is generic: one step back towards the case's own value does not get the option offered,
so the number found is the nearest one, whatever the knowledge base's thresholds become.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

z3 = pytest.importorskip("z3")

from rectoplan import api, cli  # noqa: E402
from rectoplan.compile.z3_smt import Engine  # noqa: E402
from rectoplan.core.engine import assess  # noqa: E402
from rectoplan.core.knowledge import KnowledgeBase  # noqa: E402
from rectoplan.verify.why_not import FieldChange, why_not  # noqa: E402
from tests._kb_cases import (  # noqa: E402
    REVIEW15_FOLFOX_BEV,
    known_panel,
    recorded_health,
    review15_case,
    review15_liver_and_lung,
    review15_prior,
    review15_two_lines,
)

HEALTH = recorded_health()


def _case(case_id: str, age: int, ecog: int, advanced: str, **parts: Any) -> dict[str, Any]:
    """A review-15 case (`review15_case`: resected primary after pelvic radiation and an LAR with TME, as of
    2026-12-01), with 10 liver and 6 lung metastases unless `parts` say otherwise."""
    return copy.deepcopy(review15_case(case_id, advanced, age=age, ecog=ecog, **{"metastases": LIVER_LUNG, **parts}))


LIVER_14 = [{"site": "liver", "count": 14, "resectability": "unresectable"}]
LIVER_LUNG = review15_liver_and_lung()
# /root/review15/cases/x04-transmet-age68.json: first line ongoing, 14 unresectable liver metastases, age 68
ONGOING_FOLFOX_BEV = {
    "agents": list(REVIEW15_FOLFOX_BEV),
    "setting": "advanced",
    "start": "2026-05-01",
    "status": "ongoing",
    "best_response": "partial",
}
X04 = _case("x04-transmet-age68", 68, 0, "2026-04-15", metastases=LIVER_14, prior=review15_prior([ONGOING_FOLFOX_BEV]))
# /root/review15/cases/e02-age78-ecog1-fit-ras-wt.json: untreated, RAS wild type, age 78, ECOG 1
E02 = _case("e02-age78-ecog1-fit-ras-wt", 78, 1, "2026-11-10", biomarkers=known_panel())
# /root/review15/cases/m01-3rd-line-surgery-10d.json: two lines progressed, major surgery 10 days ago
M01 = _case(
    "m01-3rd-line-surgery-10d",
    63,
    1,
    "2025-02-15",
    prior=review15_prior(review15_two_lines()),
    health=HEALTH | {"days_since_major_surgery": 10},
)

CASES = [
    # (case, option, the one field that changes, its value before, the nearest value that lets it in)
    (X04, "liver-transplantation", "age", 68, 65),
    (E02, "folfoxiri-bevacizumab", "age", 78, 70),
    (M01, "trifluridine-tipiracil-bevacizumab", "health.days_since_major_surgery", 10, 28),
]
IDS = ["x04-transmet-age68", "e02-age78-ecog1", "m01-surgery-10d"]


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> Engine:
    return Engine(kb)


def _offered(kb: KnowledgeBase, data: dict[str, Any], option_id: str) -> bool:
    outcomes = assess(api.validate_case(data, kb), kb).outcomes
    return any(o.option.id == option_id and o.status == "offered" for o in outcomes)


def _set(data: dict[str, Any], name: str, value: int) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    *path, last = name.split(".")
    for key in path:
        node = node[key]
    node[last] = value
    return out


@pytest.mark.parametrize(("data", "option", "name", "before", "nearest"), CASES, ids=IDS)
def test_a_changed_number_goes_to_the_nearest_boundary(
    kb: KnowledgeBase, engine: Engine, data: dict[str, Any], option: str, name: str, before: int, nearest: int
) -> None:
    assert not _offered(kb, data, option)
    answer = why_not(api.validate_case(data, kb), kb, option, engine=engine)
    assert answer.changes, answer.to_text()
    assert answer.changes[0] == [FieldChange(name, before, nearest)], answer.to_text()
    assert answer.verified[0]
    assert f"  - {name}: {before} -> {nearest}" in answer.to_text()


@pytest.mark.parametrize(("data", "option", "name", "before", "nearest"), CASES, ids=IDS)
def test_one_step_back_does_not_let_it_in(
    kb: KnowledgeBase, engine: Engine, data: dict[str, Any], option: str, name: str, before: int, nearest: int
) -> None:
    """Generic over the thresholds: every numeric change of every alternative is the nearest value that
    works with the rest of that alternative (one step back towards the case's value does not)."""
    answer = why_not(api.validate_case(data, kb), kb, option, engine=engine)
    assert answer.changes
    for changes, new, ok in zip(answer.changes, answer.cases, answer.verified, strict=True):
        assert ok
        for c in changes:
            if isinstance(c.before, int) and isinstance(c.after, int) and c.before != c.after:
                back = c.after + (1 if c.before > c.after else -1)
                assert not _offered(kb, _set(new, c.field, back), option), (c, back)


def test_the_cli_prints_the_nearest_boundary(kb: KnowledgeBase, tmp_path: Any, capsys: Any) -> None:
    import json

    path = tmp_path / "x04.json"
    path.write_text(json.dumps(X04), encoding="utf-8")
    assert cli.main(["why-not", str(path), "liver-transplantation"]) == 0
    out = capsys.readouterr().out
    assert "  - age: 68 -> 65" in out
    assert "-> 18" not in out


def test_docs_verify_md_quotes_what_these_tests_check() -> None:
    """docs/verify.md gives the x04 and m01 answers as examples of the nearest boundary: they are the
    ones the tests above check."""
    from pathlib import Path

    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "verify.md").read_text().split())
    assert "age 68 -> 65 for liver transplantation" in text
    assert "days since major surgery 10 -> 28 for an anti-VEGF drug" in text
