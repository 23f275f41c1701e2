"""Synthetic cases (contract 1 and 2 JSON) for tests, benchmarks, the linter and cohort generation.

Values are drawn uniformly over each enumeration, with `None` (absent, unknown) as one more choice, so
rare combinations (an NTRK fusion after three lines) still appear in a few thousand draws. Every case is
valid: it has a metastasis or a local recurrence, and no contradictory facts.
"""

from __future__ import annotations

import json
import random
import zlib
from typing import Any

from rectoplan.core.case import SITES, SYMPTOMS
from rectoplan.core.fields import DECLARED

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
    """One random, valid case as a JSON-ready dict.

    Long by design: one random draw per field of the contract."""
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
    _contract2(case, random.Random(zlib.crc32(json.dumps(case, sort_keys=True).encode())))
    return case


def _contract2(case: dict[str, Any], rng: random.Random) -> None:
    """Half the cases get some of contract 2's declared fields and lesion sizes. A generator of its own
    (seeded by the case drawn so far) leaves every contract 1 value of a seed as it was."""
    if rng.random() < 0.5:
        return
    case["format"] = "rectoplan.case/2"
    for f in DECLARED:
        history = f.path[0] == "prior"  # drawn more often: rules read it with the lines they describe
        if f.fact == "biomarkers.her2_result" or rng.random() < (0.4 if history else 0.8):
            continue
        if history and not case.get("prior", {}).get("systemic_lines"):
            continue
        value: Any = (
            rng.choice((True, False))
            if f.kind == "bool"
            else rng.choice(f.values)
            if f.kind == "enum"
            else rng.choice(sorted({f.low, min(f.high, f.low + 2), min(f.high, 4), min(f.high, 6), min(f.high, 30)}))
        )
        case.setdefault(f.path[0], {})[f.path[1]] = value
    for m in case.get("metastases", []):
        if rng.random() < 0.4:
            m["largest_mm"] = rng.choice((8, 20, 30, 31, 45))
    lines = case.get("prior", {}).get("systemic_lines")
    if lines and rng.random() < 0.3:  # a line still running, so maintenance rules meet their cases
        lines[-1]["stopped_for"] = "ongoing"


def random_cases(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_case(rng, f"synthetic-{seed}-{i}") for i in range(n)]


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


# A usual sequence of lines (anti-VEGF, or anti-EGFR when RAS is wild type), for registry-shaped cases.
SEQUENCE = (
    (REGIMENS[3], REGIMENS[5]),
    (REGIMENS[4], REGIMENS[6]),
    (REGIMENS[11], REGIMENS[12]),
)


def registry_case(rng: random.Random, ident: str) -> dict[str, Any]:
    """One random, valid case shaped like a registry row rather than like a coverage test.

    `random_case` leaves every field out one time in five, independently, and draws each value uniformly,
    so almost every case of a million differs from every other in what it is offered, held back from or
    needs tested. A registry records most fields and most values are common ones; the weights below give
    that shape. They are illustrative, not epidemiology: nothing reads them as facts about patients, and
    the cohort benchmark prints how many distinct outcomes the cohort it times has.

    Long by design: one random draw per field of the contract."""
    case: dict[str, Any] = {"format": "rectoplan.case/1", "id": ident}
    _put(case, "age", None if rng.random() < 0.01 else rng.randint(30, 89))
    _put(case, "ecog", _pick(rng, ((0, 35), (1, 40), (2, 15), (3, 6), (4, 1), (None, 3))))
    recurrence = rng.random() < 0.2
    primary: dict[str, Any] = {"status": "resected" if recurrence or rng.random() < 0.4 else "in_place"}
    if primary["status"] == "in_place" and rng.random() < 0.2:
        primary["symptoms"] = [rng.choice(SYMPTOMS)]
    case["primary"] = primary
    if recurrence:
        lr: dict[str, Any] = {"resectability": _pick(rng, tuple((r, 1.0) for r in RESECT))}
        case["local_recurrence"] = lr
    if not recurrence or rng.random() < 0.5:
        mets = []
        for site in rng.sample(("liver", "lung", "peritoneum"), _pick(rng, ((1, 75), (2, 20), (3, 5)))):
            count = _pick(rng, ((1, 40), (3, 30), (10, 30)))
            resectable = "resectable" if count == 1 else "potentially_resectable" if count == 3 else "unresectable"
            mets.append({"site": site, "count": count, "resectability": resectable})
        case["metastases"] = mets
    ras = _pick(rng, (("wild_type", 50), ("mutant", 45), ("unknown", 5)))
    nras = "wild_type" if ras == "mutant" else _pick(rng, (("wild_type", 9), ("mutant", 1)))
    b: dict[str, Any] = {"kras": ras, "nras": nras}
    if ras == "mutant" and rng.random() < 0.5:
        b["kras_variant"] = _pick(rng, (("G12D", 4), ("G12V", 3), ("G13D", 2), ("G12C", 1)))
    b["braf"] = _pick(rng, (("wild_type", 85), ("v600e", 8), ("unknown", 7)))
    b["mmr"] = _pick(rng, (("pmmr_mss", 90), ("dmmr_msi_h", 5), ("unknown", 5)))
    if rng.random() < 0.6:
        b["her2"] = _pick(rng, (("negative", 95), ("positive", 5)))
    if rng.random() < 0.3:
        b["ntrk_fusion"] = b["ret_fusion"] = "negative"
    case["biomarkers"] = b
    lines = []
    for regimens in SEQUENCE[: _pick(rng, ((0, 50), (1, 30), (2, 15), (3, 5)))]:
        agents = regimens[0] if ras != "wild_type" or rng.random() < 0.5 else regimens[1]
        lines.append({"agents": list(agents), "stopped_for": _pick(rng, (("progression", 8), ("intolerance", 2)))})
    case["prior"] = {"pelvic_radiation": recurrence and rng.random() < 0.6, "systemic_lines": lines}
    if recurrence:
        case["prior"]["surgeries"] = [rng.choice(("low_anterior_resection", "abdominoperineal_resection"))]
    health: dict[str, Any] = {"fit_for_intensive_therapy": case.get("ecog", 2) <= 1 and rng.random() < 0.8}
    if rng.random() < 0.5:
        health["dpyd"] = _pick(rng, (("normal", 95), ("intermediate", 4), ("poor", 1)))
    case["health"] = health
    return case


def registry_cases(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [registry_case(rng, f"registry-{seed}-{i}") for i in range(n)]
