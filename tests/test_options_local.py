"""Structural checks on the non-systemic option files (options/50-90) that no single-case test covers:
radiation to the pelvis is always tagged (so the re-irradiation caution attaches), curative settings never
rely on unknown staging, and patient texts stay in the seeds' plain register.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from rectoplan.core.knowledge import KnowledgeBase

LOCAL_FILES = (
    "50_chemoradiation.yaml",
    "60_radiation.yaml",
    "70_surgery.yaml",
    "80_local_therapy.yaml",
    "90_trials_supportive.yaml",
)
PELVIC = {
    "chemoradiation-capecitabine",
    "chemoradiation-fluorouracil",
    "reirradiation-pelvis",
    "short-course-radiotherapy",
    "palliative-radiation",
    "pelvic-radiation-unresectable",
}


def _raw_options() -> list[dict[str, Any]]:
    folder = resources.files("rectoplan") / "knowledge" / "options"
    out: list[dict[str, Any]] = []
    for name in LOCAL_FILES:
        out += yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    return out


RAW = _raw_options()


def _tests(cond: Any) -> list[dict[str, Any]]:
    """Every fact test inside a raw condition."""
    if isinstance(cond, dict):
        if "fact" in cond:
            return [cond]
        return [t for value in cond.values() for t in _tests(value)]
    if isinstance(cond, list):
        return [t for item in cond for t in _tests(item)]
    return []


def test_every_local_option_is_loaded(kb: KnowledgeBase) -> None:
    loaded = {o.id for o in kb.options}
    assert {o["id"] for o in RAW} <= loaded
    assert loaded >= PELVIC


def test_pelvic_radiation_is_tagged(kb: KnowledgeBase) -> None:
    for option in kb.options:
        if option.id in PELVIC or option.kind == "chemoradiation":
            assert "pelvic_radiation" in option.tags, option.id
            assert any(c.id == "pelvic-reirradiation" for c in option.cautions), option.id


@pytest.mark.parametrize("raw", RAW, ids=lambda o: o["id"])
def test_curative_settings_need_known_staging(raw: dict[str, Any]) -> None:
    for setting in raw["settings"]:
        tests = _tests(setting["when"])
        curative = any(t["fact"] == "plan.intent" and t.get("is") == "curative" for t in tests)
        if curative:
            assert {"fact": "metastases.known", "is": True} in tests, setting["id"]
        # a setting that names a site's resectability never accepts 'unknown' as resectable
        for t in tests:
            if t["fact"].endswith("resectability"):
                values = t.get("in", [t.get("is")])
                assert "unknown" not in values, setting["id"]


ABBREVIATION = re.compile(r"\b[A-Z][A-Z0-9-]{1,}\b")


@pytest.mark.parametrize("raw", RAW, ids=lambda o: o["id"])
def test_patient_text_is_plain(raw: dict[str, Any]) -> None:
    text = " ".join(raw["patient"].split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    assert sentences
    assert max(len(s.split()) for s in sentences) <= 28, raw["id"]
    # abbreviations only inside a parenthesis that follows their explanation
    outside = re.sub(r"\([^)]*\)", "", text)
    assert not ABBREVIATION.findall(outside), (raw["id"], ABBREVIATION.findall(outside))
