"""Synthetic cases (contract 1 JSON) for tests, benchmarks, the linter and cohort generation.

Values are drawn uniformly over each enumeration, with `None` (absent, unknown) as one more choice, so
rare combinations (an NTRK fusion after three lines) still appear in a few thousand draws. Every case is
valid: it has a metastasis or a local recurrence, and no contradictory facts.
"""

from __future__ import annotations

import random
from typing import Any

from rectoplan.core.case import SITES, SYMPTOMS

RESECT = ("resectable", "potentially_resectable", "unresectable", "unknown")
REGIMENS: tuple[tuple[str, ...], ...] = (
    ("fluorouracil", "leucovorin", "oxaliplatin"),
    ("fluorouracil", "leucovorin", "irinotecan"),
    ("capecitabine", "oxaliplatin"),
    ("fluorouracil", "leucovorin", "oxaliplatin", "bevacizumab"),
    ("fluorouracil", "leucovorin", "irinotecan", "bevacizumab"),
    ("fluorouracil", "leucovorin", "oxaliplatin", "panitumumab"),
    ("fluorouracil", "leucovorin", "irinotecan", "cetuximab"),
    ("fluorouracil", "leucovorin", "oxaliplatin", "irinotecan", "bevacizumab"),
    ("pembrolizumab",),
    ("nivolumab", "ipilimumab"),
    ("encorafenib", "cetuximab"),
    ("trifluridine_tipiracil", "bevacizumab"),
    ("regorafenib",),
    ("capecitabine",),
)
SURGERIES = (
    "low_anterior_resection",
    "abdominoperineal_resection",
    "liver_resection",
    "total_mesorectal_excision",
)


def _maybe(rng: random.Random, values: tuple[Any, ...], p_absent: float = 0.2) -> Any:
    return None if rng.random() < p_absent else rng.choice(values)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def random_case(rng: random.Random, ident: str) -> dict[str, Any]:
    """One random, valid case as a JSON-ready dict."""
    case: dict[str, Any] = {"format": "rectoplan.case/1", "id": ident}
    _put(case, "age", _maybe(rng, tuple(range(25, 90))))
    _put(case, "ecog", _maybe(rng, (0, 0, 1, 1, 2, 3, 4)))
    recurrence = rng.random() < 0.35
    status = "resected" if recurrence or rng.random() < 0.3 else _maybe(rng, ("in_place",), 0.1)
    primary: dict[str, Any] = {}
    _put(primary, "status", status)
    if rng.random() < 0.6:
        primary["symptoms"] = sorted(rng.sample(SYMPTOMS, rng.randint(0, 2)))
    if primary:
        case["primary"] = primary
    if recurrence:
        lr: dict[str, Any] = {}
        _put(lr, "resectability", _maybe(rng, RESECT))
        if rng.random() < 0.5:
            lr["symptoms"] = sorted(rng.sample(SYMPTOMS, rng.randint(0, 2)))
        case["local_recurrence"] = lr
    if not recurrence or rng.random() < 0.7:
        n_sites = 0 if recurrence and rng.random() < 0.4 else rng.choice((1, 1, 1, 2, 2, 3))
        mets = []
        for site in rng.sample(SITES, n_sites):
            m: dict[str, Any] = {"site": site}
            _put(m, "count", _maybe(rng, (1, 1, 2, 3, 4, 6, 10)))
            _put(m, "resectability", _maybe(rng, RESECT))
            mets.append(m)
        case["metastases"] = mets
    if not case.get("metastases") and not recurrence:
        case["metastases"] = [{"site": "liver", "count": 2, "resectability": "resectable"}]
    b: dict[str, Any] = {}
    kras = _maybe(rng, ("wild_type", "mutant", "unknown"))
    _put(b, "kras", kras)
    if kras == "mutant" and rng.random() < 0.6:
        b["kras_variant"] = rng.choice(("G12C", "G12D", "G13D", "Q61H"))
    _put(b, "nras", _maybe(rng, ("wild_type", "wild_type", "mutant", "unknown")))
    _put(b, "braf", _maybe(rng, ("v600e", "other_mutation", "wild_type", "wild_type", "unknown")))
    _put(b, "mmr", _maybe(rng, ("dmmr_msi_h", "pmmr_mss", "pmmr_mss", "unknown")))
    for key in ("her2", "ntrk_fusion", "ret_fusion"):
        _put(b, key, _maybe(rng, ("positive", "negative", "negative", "unknown")))
    if b:
        case["biomarkers"] = b
    prior: dict[str, Any] = {}
    _put(prior, "pelvic_radiation", _maybe(rng, (True, False)))
    if rng.random() < 0.75:
        lines = []
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            line: dict[str, Any] = {"agents": list(rng.choice(REGIMENS))}
            line["stopped_for"] = rng.choice(("progression", "progression", "intolerance", "completed"))
            lines.append(line)
        if lines and rng.random() < 0.2:
            lines[-1]["stopped_for"] = "ongoing"
        prior["systemic_lines"] = lines
    if rng.random() < 0.5:
        prior["surgeries"] = sorted(rng.sample(SURGERIES, rng.randint(0, 2)))
    if prior:
        case["prior"] = prior
    health: dict[str, Any] = {}
    _put(health, "dpyd", _maybe(rng, ("normal", "normal", "intermediate", "poor", "unknown")))
    _put(health, "days_since_major_surgery", _maybe(rng, (3, 14, 27, 28, 40, 120, 400), 0.4))
    _put(health, "bleeding_risk", _maybe(rng, (True, False, False)))
    _put(health, "fit_for_intensive_therapy", _maybe(rng, (True, True, False)))
    if health:
        case["health"] = health
    _put(case, "wants_clinical_trials", _maybe(rng, (True, False)))
    return case


def random_cases(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_case(rng, f"synthetic-{seed}-{i}") for i in range(n)]
