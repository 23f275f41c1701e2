"""Warnings that lower an option's rank (`lowers` in cautions.yaml): the fourth review's findings F4, F5, F6
and F12, where a safety warning was shown but the option stayed first. Each rule has a test that triggers it
and one that does not; the loader's own checks of `lowers` are tested on a copy of the knowledge."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from rectoplan.adapters.handout import handout_view
from rectoplan.api import validate_case
from rectoplan.core.errors import KnowledgeError
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation
from rectoplan.kb.loader import LOWERED_PRIORITY, load_knowledge
from tests.test_knowledge_review3 import FIRST_PROGRESSED, LATER_LINE, rec, with_courses
from tests.test_knowledge_review3 import offered as offered_by_id

KNOWLEDGE = Path(__file__).resolve().parents[1] / "src" / "rectoplan" / "knowledge"
BEV_DOUBLETS = ("folfiri-bevacizumab", "folfox-bevacizumab", "capox-bevacizumab")
PLAIN_DOUBLETS = ("folfox", "folfiri", "capox")


def ranks(r: Recommendation) -> dict[str, tuple[int, str]]:
    return {o.id: (o.rank, o.strength) for o in r.options}


def first_line(kb: KnowledgeBase, **health: Any) -> Recommendation:
    """RAS-mutant, unresectable liver metastases, no treatment yet: bevacizumab doublets are preferred."""
    return rec(with_courses(**health), kb)


# --- the mechanism -----------------------------------------------------------------------------------------


def test_a_lowered_row_sits_ahead_of_its_row_one_level_lower(kb: KnowledgeBase) -> None:
    option = next(o for o in kb.options if o.id == "folfiri-bevacizumab")
    ids = [s.id for s in option.settings]
    suffix = "--anti-vegf-arterial-thrombosis"
    lowered = [s for s in option.settings if s.id.endswith(suffix) and s.id.count("--") == 1]
    assert lowered, "FOLFIRI + bevacizumab has no row lowered by the arterial thrombosis warning"
    one_lower = {("preferred", "alternative"), ("alternative", "consider"), ("consider", "consider")}
    for row in lowered:
        plain = next(s for s in option.settings if s.id == row.id.removesuffix(suffix))
        assert ids.index(row.id) < ids.index(plain.id)
        assert (plain.strength, row.strength) in one_lower
        assert row.priority == plain.priority + LOWERED_PRIORITY
        assert "health.recent_arterial_thrombosis" in row.reads


def test_a_warned_option_follows_the_unwarned_ones_of_its_strength(kb: KnowledgeBase) -> None:
    """Eighth review: at "consider", copies were not made (the strength cannot go lower), so capecitabine +
    bevacizumab after an infarction ranked above capecitabine alone; and an alternative row with two warnings
    rose above consider rows with one. Each warning now raises the priority, at every strength."""
    r = first_line(kb, recent_arterial_thrombosis=True, neuropathy_grade=2)
    got = ranks(r)
    assert got["capecitabine"][0] < got["capecitabine-bevacizumab"][0]
    assert got["folfox"][0] < got["folfoxiri-bevacizumab"][0]
    consider = [o for o in r.options if o.strength == "consider" and o.id != "best-supportive-care"]
    warned = [len([w for w in o.warnings if "arterial" in w]) for o in consider]
    assert warned == sorted(warned), [(o.id, n) for o, n in zip(consider, warned, strict=True)]


def test_two_warnings_lower_two_levels_and_give_both_reasons(kb: KnowledgeBase) -> None:
    option = next(o for o in kb.options if o.id == "folfox-bevacizumab")
    pairs = [s for s in option.settings if s.id.count("--") == 2]
    assert pairs
    for row in pairs:
        plain = next(s for s in option.settings if s.id == row.id.split("--")[0])
        assert row.priority == plain.priority + 2 * LOWERED_PRIORITY
        assert row.because.count("; and ") == 1
        if plain.strength == "preferred":
            assert row.strength == "consider"
    r = first_line(kb, recent_arterial_thrombosis=True, neuropathy_grade=2)
    got = ranks(r)
    assert got["folfox-bevacizumab"][1] == "consider"
    assert got["folfox"][0] < got["folfox-bevacizumab"][0] < got["best-supportive-care"][0]
    why = " ".join(offered_by_id(r)["folfox-bevacizumab"].rationale)
    assert "arterial thromboembolism" in why and "neuropathy" in why


def _copy_with_caution_change(tmp_path: Path, caution_id: str, **change: Any) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    path = root / "cautions.yaml"
    cautions = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(c for c in cautions if c["id"] == caution_id)
    entry.update(change)
    path.write_text(yaml.safe_dump(cautions, sort_keys=False), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("caution_id", "change"),
    [
        ("tmb-high-mss", {"lowers": "a plan-wide warning cannot lower an option"}),
        ("ugt1a1-irinotecan", {"lowers": "a note does not lower an option"}),
    ],
)
def test_lowers_only_on_an_option_warning(tmp_path: Path, caution_id: str, change: dict[str, Any]) -> None:
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(_copy_with_caution_change(tmp_path, caution_id, **change))
    message = str(err.value)
    assert "cautions.yaml: [" in message and f"{caution_id}.lowers" in message
    assert "only on a warning with applies_to" in message


# --- F5: an arterial thromboembolism in the last 6 months lowers the anti-VEGF options -------------------------


def test_recent_stroke_ranks_bevacizumab_doublets_after_the_plain_doublets(kb: KnowledgeBase) -> None:
    r = first_line(kb, recent_arterial_thrombosis=True)
    got = ranks(r)
    assert all(got[b][1] == "alternative" for b in BEV_DOUBLETS)
    assert max(got[p][0] for p in PLAIN_DOUBLETS) < min(got[b][0] for b in BEV_DOUBLETS)
    folfiri_bev = offered_by_id(r)["folfiri-bevacizumab"]
    assert "Ranked alternative rather than preferred here: an arterial thromboembolism" in " ".join(
        folfiri_bev.rationale
    )
    assert any(c.text.startswith("Arterial thromboembolism") for c in folfiri_bev.cautions)


def test_no_recent_stroke_keeps_bevacizumab_doublets_preferred(kb: KnowledgeBase) -> None:
    got = ranks(first_line(kb, recent_arterial_thrombosis=False))
    assert all(got[b][1] == "preferred" for b in BEV_DOUBLETS)
    assert max(got[b][0] for b in BEV_DOUBLETS) < min(got[p][0] for p in PLAIN_DOUBLETS)


def test_an_unrecorded_stroke_history_does_not_lower(kb: KnowledgeBase) -> None:
    """An unknown history neither lowers the option nor hides the question: the warning says it is unknown."""
    case = with_courses()
    del case["health"]["recent_arterial_thrombosis"]
    got = ranks(rec(case, kb))
    assert all(got[b][1] == "preferred" for b in BEV_DOUBLETS)


# --- F4: UGT1A1 poor metaboliser with raised bilirubin lowers irinotecan in first line --------------------------

IRINOTECAN_FIRST_LINE = ("folfiri-bevacizumab", "folfoxiri-bevacizumab")


def test_ugt1a1_poor_with_raised_bilirubin_puts_oxaliplatin_doublets_first(kb: KnowledgeBase) -> None:
    r = first_line(kb, ugt1a1="poor", bilirubin_raised=True)
    got = ranks(r)
    assert got["folfiri-bevacizumab"][1] == "alternative"
    assert got["folfox-bevacizumab"][0] < got["folfiri-bevacizumab"][0]
    warned = {c.text.split(":")[0] for c in offered_by_id(r)["folfiri-bevacizumab"].cautions}
    assert "UGT1A1 poor metaboliser with raised bilirubin" in warned


@pytest.mark.parametrize("health", [{"ugt1a1": "poor"}, {"bilirubin_raised": True}, {}])
def test_one_irinotecan_risk_factor_alone_does_not_lower(kb: KnowledgeBase, health: dict[str, Any]) -> None:
    got = ranks(first_line(kb, **health))
    assert got["folfiri-bevacizumab"][1] == "preferred"


def test_ugt1a1_and_bilirubin_do_not_lower_irinotecan_in_second_line(kb: KnowledgeBase) -> None:
    """After FOLFOX + bevacizumab, irinotecan is the backbone left: it stays, with its dose warnings."""
    r = rec(with_courses(FIRST_PROGRESSED, ugt1a1="poor", bilirubin_raised=True), kb)
    assert ranks(r)["folfiri-bevacizumab"][1] == "preferred"


# --- F6: an obstructed bowel: irinotecan waits, anti-VEGF drugs are lowered, relief comes first --------------


def obstructed(kb: KnowledgeBase, stoma: bool | None) -> Recommendation:
    case = with_courses()
    case["primary"] = {"status": "in_place", "symptoms": ["obstruction"], "distance_from_anal_verge_cm": 12}
    if stoma is not None:
        case["primary"]["stoma"] = stoma
    return rec(case, kb)


@pytest.mark.parametrize("stoma", [False, None])
def test_unrelieved_obstruction_excludes_irinotecan_lowers_anti_vegf(kb: KnowledgeBase, stoma: bool | None) -> None:
    r = obstructed(kb, stoma)
    excluded = {e.id: " ".join(e.reasons) for e in r.excluded}
    assert "the irinotecan SmPC contraindicates it" in excluded["folfiri-bevacizumab"]
    got = ranks(r)
    assert got["folfox-bevacizumab"][1] == "alternative"
    assert r.options[0].id == "colonic-stent"


def test_obstruction_relieved_by_a_stoma_changes_nothing(kb: KnowledgeBase) -> None:
    r = obstructed(kb, stoma=True)
    got = ranks(r)
    assert got["folfiri-bevacizumab"][1] == "preferred"
    assert got["folfox-bevacizumab"][1] == "preferred"


# --- F12: persistent grade 2 neuropathy lowers oxaliplatin ----------------------------------------------------


def test_grade_2_neuropathy_lowers_oxaliplatin_doublets(kb: KnowledgeBase) -> None:
    r = first_line(kb, neuropathy_grade=2)
    got = ranks(r)
    assert got["folfox-bevacizumab"][1] == "alternative"
    assert got["folfiri-bevacizumab"][0] < got["folfox-bevacizumab"][0]
    assert "65 mg/m2" in " ".join(c.text for c in offered_by_id(r)["folfox-bevacizumab"].cautions)


def test_grade_1_neuropathy_keeps_oxaliplatin_doublets_preferred(kb: KnowledgeBase) -> None:
    assert ranks(first_line(kb, neuropathy_grade=1))["folfox-bevacizumab"][1] == "preferred"


# --- later lines: raised bilirubin lowers trifluridine/tipiracil and regorafenib --------------------------------


def test_raised_bilirubin_lowers_the_later_line_drugs(kb: KnowledgeBase) -> None:
    raised = ranks(rec(with_courses(*LATER_LINE, bilirubin_raised=True), kb))
    normal = ranks(rec(with_courses(*LATER_LINE, bilirubin_raised=False), kb))
    for drug in ("trifluridine-tipiracil-bevacizumab", "regorafenib", "fruquintinib"):
        assert normal[drug][1] == "preferred"
        assert raised[drug][1] == "alternative"


def test_handout_names_the_plain_doublets_when_a_stroke_lowers_every_bevacizumab_doublet(kb: KnowledgeBase) -> None:
    case = with_courses(recent_arterial_thrombosis=True)
    view = handout_view(first_line(kb, recent_arterial_thrombosis=True), kb, validate_case(case, kb))
    likely = [o["title"] for o in view["likely"]]
    assert any(title.startswith(("FOLFOX", "FOLFIRI", "CAPOX")) for title in likely), likely
    assert not any("bevacizumab" in title for title in likely)


def test_handout_likely_options_stay_the_preferred_ones_without_a_stroke(kb: KnowledgeBase) -> None:
    case = with_courses(recent_arterial_thrombosis=False)
    view = handout_view(first_line(kb, recent_arterial_thrombosis=False), kb, validate_case(case, kb))
    assert all("bevacizumab" in o["title"] or o["title"] == "Clinical trial" for o in view["likely"])


def test_summary_names_the_leading_treatment_not_a_trial_after_a_stroke(kb: KnowledgeBase) -> None:
    stroke = first_line(kb, recent_arterial_thrombosis=True)
    assert stroke.options[0].id == "clinical-trial"
    assert stroke.summary.startswith("Palliative intent, first line: FOLFOX (mFOLFOX6), alternative")
    usual = first_line(kb, recent_arterial_thrombosis=False)
    assert usual.summary.startswith(f"Palliative intent, first line: {usual.options[0].title} (preferred)")


def test_handout_says_information_is_missing_not_a_safety_problem_for_an_unrecorded_fact(kb: KnowledgeBase) -> None:
    from rectoplan.adapters.handout import SAFETY_UNKNOWN, SAFETY_UNSAID, option_safety

    case = with_courses()
    del case["health"]["days_since_major_surgery"]
    texts = [s["text"] for s in option_safety(rec(case, kb).options, kb)]
    assert SAFETY_UNKNOWN in texts and SAFETY_UNSAID not in texts
    recorded = [s["text"] for s in option_safety(first_line(kb).options, kb)]
    assert SAFETY_UNKNOWN not in recorded
