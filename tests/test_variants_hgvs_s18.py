"""Review 15 F7: KRAS variants in full HGVS form, as NGS reports print them.

`NM_004985.5:c.34G>T`, `c.34G>T (p.G12C)`, `p.Gly12Cys (c.34G>T)` and `KRAS c.34G>T p.G12C` were input
errors (exit 2). Now a KRAS transcript prefix is set aside, and a coding and a protein change given together
are read when they agree (the coding change translated from the KRAS reference codons); a pair that
disagrees (`c.34G>T` with `p.G12D`), a pair that cannot be checked, or another gene's transcript is an input
error that says what was expected. Checked in the normaliser, the CLI (exit code and message) and the
cohort path (the same normaliser, by the per-case and an embedded engine), and the examples of
docs/contracts.md and the README.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from rectoplan import cli
from rectoplan.adapters.variants import VariantError, canonical_variant, read_kras_variant
from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import known_panel, review15_case, review15_liver_and_lung, review15_prior, review15_two_lines

ROOT = Path(__file__).resolve().parents[1]
G12C_OPTIONS = ("sotorasib-panitumumab", "adagrasib-cetuximab")

# the review's four notations, then more of the same family
HGVS_G12C = [
    "NM_004985.5:c.34G>T",
    "c.34G>T (p.G12C)",
    "p.Gly12Cys (c.34G>T)",
    "KRAS c.34G>T p.G12C",
    "NM_004985.5(KRAS):c.34G>T (p.Gly12Cys)",
    "KRAS NM_004985.5:c.34G>T p.(Gly12Cys)",
    "NM_004985:c.34G>T; p.G12C",
    "NM_033360.4:c.34G>T",
    "ENST00000311936.8:c.34G>T",
    "NP_004976.2:p.Gly12Cys",
    "c.34G>T(p.G12C)",
]
OTHER_READ = [
    ("NM_004985.5:c.35G>T (p.G12V)", "G12V"),
    ("c.35G>A p.Gly12Asp", "G12D"),
    ("ENST00000256078.10:c.38G>A (p.Gly13Asp)", "G13D"),
    ("NM_004985.5:c.183A>T p.Q61H", "Q61H"),
    ("NM_004985.5:c.34G>A", "G12S"),
]
# (text, a part of the expected text that says what is wrong)
REJECTED = [
    ("c.34G>T (p.G12D)", "c.34G>T is p.G12C on KRAS, the text also gives p.G12D"),
    ("NM_004985.5:c.35G>T p.G12C", "c.35G>T is p.G12V on KRAS, the text also gives p.G12C"),
    ("p.Gly13Asp (c.34G>T)", "c.34G>T is p.G12C on KRAS, the text also gives p.G13D"),
    ("NM_000546.6:c.34G>T", "a KRAS transcript (NM_004985, NP_004976, NM_033360"),
    ("NM_002524.5:c.34G>T (p.G12C)", "NM_002524.5 is not one"),
    ("NC_000012.12:g.25245351C>A", "NC_000012.12 is not one"),
    ("c.436G>A p.A146T", "c.436G>A cannot be checked against p.A146T"),
    ("NM_004985.5:c.34A>T", "the KRAS reference base at c.34, G (found A)"),
    ("c.34G>T c.35G>A", "one KRAS variant; found 2 changes"),
    ("NM_004985.5", "a KRAS variant in protein notation"),
    ("NRAS c.34G>T", "cannot read 'NRAS'"),
]


@pytest.mark.parametrize("text", HGVS_G12C)
def test_hgvs_forms_read_as_g12c(text: str) -> None:
    assert read_kras_variant(text) == "G12C"
    assert canonical_variant(text) == "G12C"


@pytest.mark.parametrize(("text", "expected"), OTHER_READ)
def test_other_variants_in_hgvs_form_are_read(text: str, expected: str) -> None:
    assert read_kras_variant(text) == expected


@pytest.mark.parametrize(("text", "why"), REJECTED)
def test_disagreeing_unknown_or_foreign_forms_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(VariantError) as raised:
        read_kras_variant(text)
    assert why in str(raised.value)
    assert canonical_variant(text) is None


def _t06(variant: str) -> dict[str, Any]:
    """review 15's t06 (KRAS G12C after two lines with progression), with the variant as given."""
    return review15_case(
        "t06-kras-g12c-3rd",
        "2025-02-15",
        metastases=review15_liver_and_lung(),
        biomarkers=known_panel(kras="mutant", kras_variant=variant),
        prior=review15_prior(review15_two_lines()),
    )


def _recommend(tmp_path: Path, capsys: Any, variant: str) -> tuple[int, str, str]:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_t06(variant)), encoding="utf-8")
    code = cli.main(["recommend", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text", HGVS_G12C[:6])
def test_cli_offers_the_g12c_options_for_hgvs_forms(tmp_path: Path, capsys: Any, text: str) -> None:
    code, out, err = _recommend(tmp_path, capsys, text)
    assert code == 0, err
    offered = [o["id"] for o in json.loads(out)["options"]]
    assert set(G12C_OPTIONS) <= set(offered)


@pytest.mark.parametrize(("text", "why"), REJECTED[:5])
def test_cli_refuses_a_disagreeing_or_foreign_form(tmp_path: Path, capsys: Any, text: str, why: str) -> None:
    code, out, err = _recommend(tmp_path, capsys, text)
    assert code == 2
    assert f"biomarkers.kras_variant: found {text!r}; expected " in err
    assert out == ""


def test_cohort_rows_use_the_same_normaliser(tmp_path: Path, kb: KnowledgeBase) -> None:
    """A cohort file with HGVS forms: agreeing rows get the G12C options, by the per-case engine and an
    embedded one alike; disagreeing or foreign rows are error rows naming the column and the text."""
    pytest.importorskip("polars")
    from rectoplan.cohort.columns import flatten_contract
    from rectoplan.cohort.run import run_cohort
    from tests.test_cohort_equivalence import write_csv

    good, bad = HGVS_G12C[:6], [t for t, _ in REJECTED[:5]]
    rows = []
    for i, text in enumerate(good + bad):
        row = flatten_contract(copy.deepcopy(_t06(text)))
        row["id"] = f"row{i}"
        rows.append(row)
    path = tmp_path / "cohort.csv"
    write_csv(rows, path)
    for engine in ("python", "polars"):
        result = run_cohort(path, kb, engine)
        offered = {r["id"]: r["options"].split() for r in result.results.to_pylist()}
        assert sorted(offered) == sorted(f"row{i}" for i in range(len(good))), engine
        assert all(set(G12C_OPTIONS) <= set(options) for options in offered.values()), engine
        errors = {e.id: e.problems for e in result.errors}
        assert sorted(errors) == sorted(f"row{i}" for i in range(len(good), len(good) + len(bad))), engine
        for i, text in enumerate(bad, len(good)):
            assert errors[f"row{i}"][0].startswith(f"kras_variant: found {text!r}"), engine


def _ticked(paragraph: str) -> list[str]:
    return re.findall(r"`([^`]+)`", paragraph)


def test_contracts_md_examples_read_as_they_say() -> None:
    """Every notation docs/contracts.md lists as read is read as G12C; every one it lists as an error is
    refused."""
    text = " ".join((ROOT / "docs" / "contracts.md").read_text(encoding="utf-8").split())
    start = text.index("`kras_variant` accepts every common notation")
    accepted, _, rest = text[start:].partition("and stores the one-letter protein change")
    refused = rest.partition("never a silent")[0]
    notations = [t for t in _ticked(accepted) if t != "kras_variant"]
    assert "NM_004985.5:c.34G>T (p.Gly12Cys)" in notations and "p.Gly12Cys (c.34G>T)" in notations
    assert all(read_kras_variant(t) == "G12C" for t in notations), notations
    errors = _ticked(refused)
    assert len(errors) >= 2
    assert all(canonical_variant(t) is None for t in errors), errors


def test_readme_examples_read_as_they_say() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    notations = _ticked(text[text.index("`p.Gly12Cys`, `c.34G>T`") : text.index("all read as G12C")])
    assert "NM_004985.5:c.34G>T (p.G12C)" in notations
    assert all(read_kras_variant(t) == "G12C" for t in notations), notations
    refused = text[text.index("all read as G12C") :].partition("never a silent")[0]
    assert _ticked(refused) and all(canonical_variant(t) is None for t in _ticked(refused))
