"""Stop 17 (K7): each "given continuously ... until progression" note cites what shows that regimen given until
progression, its own pivotal trial or its label, and nothing else.

The stop-16 closing note found the general form of the note citing CORRECT (regorafenib) and SUNLIGHT
(trifluridine/tipiracil) on 17 options those trials never studied. The note now comes in one form per regimen;
regimens whose duration no source seen states (fluorouracil/leucovorin, trastuzumab + pertuzumab, adagrasib +
cetuximab, panitumumab rechallenge, and the raltitrexed doublets TOMOX and TOMIRI) carry no such note rather than
a borrowed citation. Fluorouracil/leucovorin + bevacizumab (stop 18) has its own note instead,
duration-bevacizumab-label-fluorouracil-leucovorin: the bevacizumab label gives bevacizumab's duration only, and
the note says that no source seen gives one for the fluorouracil and leucovorin.
"""

from __future__ import annotations

from typing import Any

import pytest

from rectoplan.core.knowledge import KnowledgeBase
from tests._kb_cases import (
    RARE_RISKS_ABSENT,
    known_health,
    merged_case,
    options_by_id,
    progressed_course,
    review13_case,
)

# Each option's duration note and the sources it must cite, exactly (brief entries count as "brief").
OWN_SOURCES: dict[str, set[str]] = {
    "capecitabine": {"seed-a", "brief", "avex"},
    "capecitabine-bevacizumab": {"seed-a", "brief", "avex"},
    "panitumumab": {"panitumumab-frail-elderly"},
    "cetuximab": {"fda-cetuximab"},
    "fruquintinib": {"fda-fruquintinib"},
    "tucatinib-trastuzumab": {"mountaineer"},
    "trastuzumab-lapatinib": {"heracles"},
    "trastuzumab-deruxtecan": {"destiny-crc01", "destiny-crc02"},
    "larotrectinib": {"fda-larotrectinib"},
    "entrectinib": {"fda-entrectinib"},
    "repotrectinib": {"fda-repotrectinib"},
    "selpercatinib": {"fda-selpercatinib"},
    "sotorasib-panitumumab": {"fda-sotorasib-crc"},
    "irinotecan-cetuximab-rechallenge": {"seed-a", "brief", "cricket"},
}
NO_CONFIRMED_SOURCE = (
    "fluorouracil-leucovorin",
    "trastuzumab-pertuzumab",
    "adagrasib-cetuximab",
    "panitumumab-rechallenge",
    "raltitrexed-oxaliplatin",
    "raltitrexed-irinotecan",
)
# The later-line trials and the drug each one studied.
TRIAL_DRUG = {"correct": "regorafenib", "sunlight": "trifluridine_tipiracil"}
CONTINUOUS = "Given continuously while it controls the cancer"


def _duration_notes(kb: KnowledgeBase, option_id: str) -> list[Any]:
    (option,) = (o for o in kb.options if o.id == option_id)
    return [c for c in option.cautions if c.id.startswith("duration-continuous")]


@pytest.mark.parametrize("option_id", sorted(OWN_SOURCES))
def test_each_duration_note_cites_its_own_regimens_source(kb: KnowledgeBase, option_id: str) -> None:
    (note,) = _duration_notes(kb, option_id)
    assert {c.source for c in note.cite} == OWN_SOURCES[option_id]


def test_correct_and_sunlight_back_only_their_own_drugs(kb: KnowledgeBase) -> None:
    for option in kb.options:
        for note in (c for c in option.cautions if c.id.startswith("duration-continuous")):
            for cite in note.cite:
                drug = TRIAL_DRUG.get(cite.source)
                assert drug is None or drug in option.components, (option.id, note.id, cite.source)


@pytest.mark.parametrize("option_id", NO_CONFIRMED_SOURCE)
def test_regimens_without_a_confirmed_duration_source_carry_no_note(kb: KnowledgeBase, option_id: str) -> None:
    assert _duration_notes(kb, option_id) == []


BEVACIZUMAB_LABEL_NOTE = "duration-bevacizumab-label-fluorouracil-leucovorin"


def test_fluorouracil_leucovorin_bevacizumab_note_cites_only_the_bevacizumab_label(kb: KnowledgeBase) -> None:
    """Its own form: bevacizumab's duration from its label, and no borrowed trial for the chemotherapy."""
    (option,) = (o for o in kb.options if o.id == "fluorouracil-leucovorin-bevacizumab")
    notes = [c for c in option.cautions if c.id.startswith(("duration-continuous", "duration-bevacizumab"))]
    assert [n.id for n in notes] == [BEVACIZUMAB_LABEL_NOTE]
    (note,) = notes
    assert {c.source for c in note.cite} == {"avastin-smpc-posology"}
    (quote,) = (c.quote for c in note.cite if c.quote)
    assert "until progression of the underlying disease" in quote
    assert "no source seen gives a duration for the fluorouracil and leucovorin" in " ".join(note.text.split())
    # the other regimens do not carry it
    assert all(BEVACIZUMAB_LABEL_NOTE not in {c.id for c in o.cautions} for o in kb.options if o.id != option.id)


def test_label_quotes_say_until_progression(kb: KnowledgeBase) -> None:
    """The label and trial quotes shown with the note state the duration, not another section of the label."""
    labelled = ("cetuximab", "fruquintinib", "larotrectinib", "entrectinib", "repotrectinib", "selpercatinib")
    for option_id in (*labelled, "sotorasib-panitumumab"):
        (note,) = _duration_notes(kb, option_id)
        (quote,) = (c.quote for c in note.cite if c.quote)
        assert "until disease progression" in quote, option_id


def test_maintenance_capecitabine_bevacizumab_is_not_given_the_avex_note(kb: KnowledgeBase) -> None:
    """Same drugs as capecitabine + bevacizumab, but maintenance is itself the de-escalation (non-trigger)."""
    assert _duration_notes(kb, "maintenance-capecitabine-bevacizumab") == []
    assert [n.id for n in _duration_notes(kb, "capecitabine-bevacizumab")] == ["duration-continuous-capecitabine"]


# --- in the output ---------------------------------------------------------------------------------------------
BASE: dict[str, Any] = review13_case(
    "s17-k7-duration",
    62,
    health=known_health(700, **RARE_RISKS_ABSENT),
)


def _case(**changes: Any) -> dict[str, Any]:
    return merged_case(BASE, **changes)


def _continuous_sources(option: dict[str, Any]) -> list[set[str]]:
    return [{s["id"] for s in c["sources"]} for c in option["cautions"] if c["text"].startswith(CONTINUOUS)]


def test_frail_first_line_notes_cite_avex_and_the_panitumumab_trial(kb: KnowledgeBase) -> None:
    frail = _case(age=84, ecog=2, health={"fit_for_intensive_therapy": False, "creatinine_clearance": 45})
    options = options_by_id(frail, kb)
    assert _continuous_sources(options["capecitabine-bevacizumab"]) == [{"seed-a", "avex"}]
    assert _continuous_sources(options["panitumumab"]) == [{"panitumumab-frail-elderly"}]
    # offered: not the "Given continuously" form, but bevacizumab's own label note, and no borrowed trial
    assert _continuous_sources(options["fluorouracil-leucovorin-bevacizumab"]) == []
    bev_notes = [c for c in options["fluorouracil-leucovorin-bevacizumab"]["cautions"] if "(its label)" in c["text"]]
    assert [{s["id"] for s in c["sources"]} for c in bev_notes] == [{"avastin-smpc-posology"}]


def test_fluoropyrimidine_free_doublets_show_no_duration_note(kb: KnowledgeBase) -> None:
    dpyd_poor = _case(biomarkers={"kras": "mutant"}, health={"dpyd": "poor"})
    options = options_by_id(dpyd_poor, kb)
    for oid in ("raltitrexed-oxaliplatin", "raltitrexed-irinotecan"):
        texts = [c["text"] for c in options[oid]["cautions"]]
        assert not any(t.startswith(CONTINUOUS) or "maintenance with a fluoropyrimidine" in t for t in texts), oid
    # the single agent keeps its own form, citing its label (stop 16)
    assert _continuous_sources(options["raltitrexed"]) == [{"seed-a", "tomudex-smpc-posology"}]


REFRACTORY_PRIOR: dict[str, Any] = {
    "courses": [
        progressed_course(["fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"], "2025-06-20", "2026-02-10"),
        progressed_course(["fluorouracil", "leucovorin", "irinotecan", "bevacizumab"], "2026-02-25", "2026-11-10"),
    ]
}


def test_third_line_fruquintinib_note_quotes_its_label_and_regorafenib_keeps_correct(kb: KnowledgeBase) -> None:
    options = options_by_id(_case(biomarkers={"kras": "mutant"}, prior=REFRACTORY_PRIOR), kb)
    (fruquintinib,) = (c for c in options["fruquintinib"]["cautions"] if c["text"].startswith(CONTINUOUS))
    (source,) = fruquintinib["sources"]
    assert source["id"] == "fda-fruquintinib" and "28-day cycle until disease progression" in source["quote"]
    assert _continuous_sources(options["regorafenib"]) == [{"seed-a", "correct"}]
