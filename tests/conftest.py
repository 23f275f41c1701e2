"""Shared fixtures: the shipped knowledge base and a case builder with sensible, explicit defaults."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from rectoplan.api import validate_case
from rectoplan.core.case import Case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.kb.loader import default_knowledge

# Hypothesis profiles for the generated tests (tests/strategies.py): the default keeps all of them to about a
# minute on 2 cores; `HYPOTHESIS_PROFILE=thorough` runs ten times as many examples (tests that set a smaller
# budget scale with it through `tests.strategies.examples`).
settings.register_profile(
    "rectoplan",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", settings.get_profile("rectoplan"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "rectoplan"))

SHARED = Path(__file__).resolve().parents[2] / "shared"
# Copies of the real inputs written elsewhere (tests/fixtures/README.md): the tests never need ../shared.
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# A fully characterised, fit, untreated patient with unresectable liver-only disease; tests override
# only what they are about, so every fact a rule reads is explicit.
BASE_CASE: dict[str, Any] = {
    "format": "rectoplan.case/1",
    "id": "base",
    "age": 60,
    "ecog": 1,
    "primary": {"status": "in_place", "symptoms": []},
    "metastases": [{"site": "liver", "count": 5, "resectability": "unresectable"}],
    "biomarkers": {
        "kras": "wild_type",
        "nras": "wild_type",
        "braf": "wild_type",
        "mmr": "pmmr_mss",
        "her2": "negative",
        "ntrk_fusion": "negative",
        "ret_fusion": "negative",
    },
    "prior": {"pelvic_radiation": False, "systemic_lines": [], "surgeries": []},
    "health": {
        "dpyd": "normal",
        "days_since_major_surgery": 365,
        "bleeding_risk": False,
        "fit_for_intensive_therapy": True,
    },
    "wants_clinical_trials": True,
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `changes` into a copy of `base`; a value of None deletes the key (makes it unknown)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


@pytest.fixture()
def make_case(kb: KnowledgeBase) -> Callable[..., Case]:
    def build(**changes: Any) -> Case:
        return validate_case(merge(BASE_CASE, changes), kb)

    return build


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():  # the seed texts and the brief are not shipped: their checks run where they are
        pytest.skip(f"../shared is not beside the project (looked in {SHARED}): seed and brief checks skipped")
    return SHARED
