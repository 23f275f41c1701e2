"""Synthetic cases (contract 1 and 2 JSON) for tests, benchmarks, the linter and cohort generation.

Values are drawn uniformly over each enumeration, with `None` (absent, unknown) as one more choice, so
rare combinations (an NTRK fusion after three lines) still appear in a few thousand draws. Every case is
valid: it has a metastasis or a local recurrence, and no contradictory facts (after an abdominoperineal
resection, no primary in place and no 'no stoma'; no MRI staging of a resected primary; no growth recorded
since a line still running, nor since a last line a history recorded as empty says there never was; no two
yes/no fields that exclude each other: `agree`). The scalar fields' domains
come from the field table (`rectoplan.core.fields`): `DRAWS` weights some values of contract 1 and picks
points of its numbers; contract 2's fields are drawn from the table directly. The list-shaped parts
(symptoms, lesions, lines, operations) are drawn here by hand.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from rectoplan.core.case import LINE_SETTINGS, RESECTABILITY, SITES, SYMPTOMS
from rectoplan.core.fields import BY_FACT, DECLARED, EXCLUSIVE, FIELDS, PRIMARY_IN_PLACE_ONLY, DeclaredField

# The validator's (`adapters._case_json_checks`) fields of a primary in place, declared with the field table.
IN_PLACE_ONLY: Final = PRIMARY_IN_PLACE_ONLY
RESECT = RESECTABILITY  # of a lesion or a local recurrence (list-shaped parts, not in the field table)
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


def _domain(f: DeclaredField) -> tuple[Any, ...]:
    """What the case JSON may hold for a field of the table: both answers, its whole range, or its
    enumeration with its unknown token."""
    if f.kind == "bool":
        return (True, False)
    if f.kind == "int":
        return tuple(range(f.low, f.high + 1))
    return f.json_values


def _weighted(fact: str, weights: Mapping[Any, int]) -> tuple[Any, ...]:
    """The field's domain, each value repeated `weights[value]` times (once when not named), so that the
    common findings come up more often."""
    domain = _domain(BY_FACT[fact])
    unknown = set(weights) - set(domain)
    if unknown:
        raise ValueError(f"{fact}: weights for values outside its domain: {sorted(map(str, unknown))}")
    return tuple(v for v in domain for _ in range(weights.get(v, 1)))


def _points(fact: str, points: Iterable[int]) -> tuple[int, ...]:
    """Chosen values of a number field (adult ages seen in clinic; days around the 28 of the surgery gate),
    checked against its bounds in the table."""
    f, chosen = BY_FACT[fact], tuple(points)
    outside = [p for p in chosen if not f.low <= p <= f.high]
    if outside:
        raise ValueError(f"{fact}: {outside} outside {f.low}-{f.high}")
    return chosen


CONTRACT_1: Final = tuple(f for f in FIELDS if f.contract == 1)
# What `random_case` draws for each scalar field of contract 1 but primary.status (which follows from a
# recurrence): the field's domain in the table, some values weighted, or, for a number, chosen points.
DRAWS: Final[dict[str, tuple[Any, ...]]] = {
    **{f.fact: _domain(f) for f in CONTRACT_1 if f.kind != "int" and f.fact != "primary.status"},
    "age": _points("age", range(25, 90)),
    "ecog": _weighted("ecog", {0: 2, 1: 2}),
    "biomarkers.nras": _weighted("biomarkers.nras", {"wild_type": 2}),
    "biomarkers.braf": _weighted("biomarkers.braf", {"wild_type": 2}),
    "biomarkers.mmr": _weighted("biomarkers.mmr", {"pmmr_mss": 2}),
    **{f"biomarkers.{k}": _weighted(f"biomarkers.{k}", {"negative": 2}) for k in ("her2", "ntrk_fusion", "ret_fusion")},
    "health.dpyd": _weighted("health.dpyd", {"normal": 2}),
    "health.days_since_major_surgery": _points("health.days_since_major_surgery", (3, 14, 27, 28, 40, 120, 400)),
    "health.bleeding_risk": _weighted("health.bleeding_risk", {False: 2}),
    "health.fit_for_intensive_therapy": _weighted("health.fit_for_intensive_therapy", {True: 2}),
}
ABSENT: Final = {"health.days_since_major_surgery": 0.4}  # how often a field is left out, when not 0.2


def _maybe(rng: random.Random, values: tuple[Any, ...], p_absent: float = 0.2) -> Any:
    return None if rng.random() < p_absent else rng.choice(values)


def _field(rng: random.Random, fact: str) -> Any:
    """A draw for one scalar field of contract 1, None (absent: unknown) one time in five by default."""
    return _maybe(rng, DRAWS[fact], ABSENT.get(fact, 0.2))


def _section(rng: random.Random, section: str, target: dict[str, Any]) -> None:
    """Draw every field of one section of contract 1, in table order, into `target`."""
    for f in CONTRACT_1:
        if f.section == section:
            _put(target, f.name, _field(rng, f.fact))
            if f.fact == "biomarkers.kras" and target.get("kras") == "mutant" and rng.random() < 0.6:
                target["kras_variant"] = rng.choice(("G12C", "G12D", "G13D", "Q61H"))


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def random_case(rng: random.Random, ident: str) -> dict[str, Any]:
    """One random, valid case as a JSON-ready dict.

    Long by design: one random draw per field of the contract."""
    case: dict[str, Any] = {"format": "rectoplan.case/1", "id": ident}
    _put(case, "age", _field(rng, "age"))
    _put(case, "ecog", _field(rng, "ecog"))
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
    _section(rng, "biomarkers", b)
    if b:
        case["biomarkers"] = b
    prior: dict[str, Any] = {}
    _put(prior, "pelvic_radiation", _field(rng, "prior.pelvic_radiation"))
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
    _section(rng, "health", health)
    if health:
        case["health"] = health
    _put(case, "wants_clinical_trials", _field(rng, "wants_clinical_trials"))
    _contract2(case, random.Random(zlib.crc32(json.dumps(case, sort_keys=True).encode())))
    agree(case)
    return case


def agree(case: dict[str, Any]) -> None:
    """Make a drawn case agree with every cross-field check of the validator (`adapters._case_json_checks`)
    that independent draws can break: `after_apr`; then a resected primary loses the MRI staging and the
    resectability drawn for it (they describe a primary in place), and growth since the last line drawn true
    while that line still runs is left unrecorded (review 14, F7 and F13), as is growth since the last line
    (either way) with a history drawn empty, and the second field of a pair of `EXCLUSIVE` drawn with the
    value the first excludes (stop 19). Applied after every draw, so the draws, and every other case of a
    seed, stay as they were."""
    after_apr(case)
    primary = case.get("primary", {})
    if primary.get("status") == "resected":
        for name in IN_PLACE_ONLY:
            primary.pop(name, None)
    prior = case.get("prior", {})
    lines, courses = prior.get("systemic_lines") or [], prior.get("courses") or []
    running = bool(lines) and lines[-1].get("stopped_for") == "ongoing"
    running = running or (
        bool(courses) and courses[-1].get("status") == "ongoing" and courses[-1].get("setting") in LINE_SETTINGS
    )
    if running and prior.get("progressed_since_last_line") is True:
        del prior["progressed_since_last_line"]
    recorded = prior.get("courses") is not None or prior.get("systemic_lines") is not None
    if recorded and not lines and not any(c.get("setting") in LINE_SETTINGS for c in courses):
        prior.pop("progressed_since_last_line", None)  # no line (perioperative courses make at most a relapse
        # line, which stopped for progression)
    for pair in EXCLUSIVE:  # `core.fields.EXCLUSIVE`, which the validator refuses
        if _at(case, pair.field) is pair.value and _at(case, pair.other) is pair.other_value:
            section, name = pair.other.split(".")
            del case[section][name]


def _at(case: dict[str, Any], fact: str) -> Any:
    """The value a drawn case holds for a field of a section (None: absent)."""
    section, name = fact.split(".")
    return case.get(section, {}).get(name)


def after_apr(case: dict[str, Any]) -> None:
    """Make a drawn case agree with an abdominoperineal resection among its operations, as the validator
    requires (`adapters._case_json_checks`): the operation removed the primary and left a permanent
    colostomy, so a primary drawn 'in_place' becomes 'resected' and a stoma drawn false becomes true (an
    absent status or stoma stays unknown). Applied after every draw, so the draws, and every other case of
    a seed, stay as they were."""
    if "abdominoperineal_resection" not in case.get("prior", {}).get("surgeries", ()):
        return
    primary = case.get("primary", {})
    if primary.get("status") == "in_place":
        primary["status"] = "resected"
    if primary.get("stoma") is False:
        primary["stoma"] = True


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
