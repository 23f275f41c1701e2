"""The one source of generated inputs for the differential and property tests (hypothesis, so every failure
shrinks to a small counterexample and replays from the example database).

- `cases()`: valid case JSON of contract 2 (and 1): every enumeration, absence as unknown, treatment history
  as contract 1 lines or contract 2 courses (adjuvant, finished, ongoing, maintenance), the declared fields
  of the primary, preferences, health and biomarkers, lab notations; after an abdominoperineal resection
  the primary is never in place and the stoma never false, a resected primary has no MRI staging, a
  running line no growth since it, a history recorded as empty no growth since a last line, and no two
  yes/no fields exclude each other (bilirubin over 3 x ULN and not raised; a re-introduction in maintenance)
  (`rectoplan.synthetic.agree`, as the validator requires). A guaranteed
  share of the cases is steered into one of the branches in `RARE`
  (DPYD-poor with disease that needs systemic therapy, MSI-H, BRAF V600E, HER2-positive, an ongoing line,
  relapse after adjuvant oxaliplatin, resectable disease, every biomarker wild type): drawn uniformly, some
  came up 15-17 times in 400 examples, too few for a property about them to mean much.
  The scalar fields' domains come from the field table (`rectoplan.core.fields`, through `_value`); only
  the list-shaped parts (symptoms, lesions, lines, courses, operations), the KRAS variant notations and
  the values steered into are written here.
- `branches(facts, offered_kinds)`: which of those branches an evaluated case really reached (read from the
  engine's facts and what it offered, not from the input), for `hypothesis.event` and the coverage floors
  of `tests/test_safety_properties.py`.
- `conditions(facts)`: random `Condition` trees over the real fact schema (every operator a fact's kind
  admits, `known`, constants, all / any / not / count nesting), and `fact_values(facts)`: a fact assignment
  with each fact unknown about a third of the time. Literals and values are drawn from a small pool first,
  so that tests and facts meet often enough to decide conditions both ways.

The drivers: the engine and the exec-compiled plan (`test_plan.py`, `test_safety_properties.py`), the
closure compiler (`test_conditions.py`), Polars and DuckDB (`test_compile_sql.py`,
`test_cohort_equivalence.py`), Spark (`test_cohort_spark.py`, marker `spark`), z3
(`test_verify_differential.py`, `test_why_not.py`), what-if (`test_whatif.py`). `rectoplan.synthetic`
stays for the benchmarks and the linter (and the cohort tests that need a large file as data).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from hypothesis import settings
from hypothesis import strategies as st

from rectoplan.core.case import RESECTABILITY, SITES, SYMPTOMS
from rectoplan.core.conditions import COMPARE_OPS, All, AnyOf, Condition, Const, Count, Not, Test
from rectoplan.core.fields import BY_FACT, DECLARED, DECLINABLE, FIELDS, DeclaredField
from rectoplan.core.schema import FactType
from rectoplan.synthetic import REGIMENS, SURGERIES, agree

RESECT = st.sampled_from(RESECTABILITY)  # of a lesion or a local recurrence (list-shaped parts)
CONTRACT_1: Final = tuple(f for f in FIELDS if f.contract == 1)
# The largest value drawn for a number field, when not its lowest + 24 (values near the thresholds the
# rules read come up often; the table's upper bounds are far beyond them).
TOP: Final = {"age": 95, "health.days_since_major_surgery": 400}
VARIANTS = ["G12C", "G12D", "G13D", "p.G12C", "p.Gly12Cys", "c.34G>T", "KRAS G12D", "c.35G>A"]
AS_OF: Final = date(2026, 11, 20)
OXALIPLATIN_REGIMENS = [r for r in REGIMENS if "oxaliplatin" in r]

# The rare branches and the share of generated cases steered into one of them (the rest are drawn freely).
RARE: Final = (
    "all_wild_type",
    "curative",
    "ongoing_line",
    "dpyd_poor",
    "her2_positive",
    "braf_v600e",
    "adjuvant_relapse",
    "msi_h",
)
# 4 in 5 cases are steered, each branch 1 in 10: at 1 in 16 the expected share (6.25%) sat on the coverage
# test's 6% floor, so any new field that shifted the derandomized draws could fail it (a new contract-2 field
# did: braf_v600e in 14 of 300 cases); at 1 in 12 the checksum's spread still left a branch one rule change
# away from it (stop 17: a palliative rule for unfit patients left 'curative' in 15 of 300 cases)
FREE_DRAWS: Final = len(RARE) // 4


def examples(n: int) -> int:
    """`n` examples under the default profile, scaled with the loaded one (see tests/conftest.py)."""
    loaded = settings.default
    return n if loaded is None else max(1, n * loaded.max_examples // 100)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# ---------------------------------------------------------------------------------------------------
# Cases


@st.composite
def cases(draw: st.DrawFn, branch: str | None = None, flat: bool = False) -> dict[str, Any]:
    """A valid case; `branch` (one of `RARE`) forces that branch, else a guaranteed share is steered.

    `flat`: only what a flat cohort row can carry (the diagnosis of advanced disease as a date, not as
    months ago, and declined treatments as yes/no fields, not as a list: neither has a column)."""
    recurrence = draw(st.booleans())
    case = _drop_none(
        {
            "id": "h",
            "age": draw(_optional(_value(BY_FACT["age"]))),
            "ecog": draw(_optional(_value(BY_FACT["ecog"]))),
            "primary": _primary(draw, recurrence),
            "local_recurrence": _local_recurrence(draw) if recurrence else None,
            "metastases": _metastases(draw, recurrence),
            "biomarkers": _section(draw, "biomarkers"),
            "prior": _prior(draw),
            "health": _section(draw, "health"),
            "wants_clinical_trials": draw(_optional(_value(BY_FACT["wants_clinical_trials"]))),
        }
    )
    if draw(st.booleans()):
        _contract2(draw, case, flat)
    chosen = branch if branch is not None else _steered(case, draw(st.integers(0, 2**32 - 1)))
    if chosen is not None:
        STEER[chosen](draw, case)
    agree(case)  # last, so that the steering checksum and every draw stay as they were
    months = case.get("advanced_disease_months_ago")
    if months is not None and (flat or draw(st.booleans())):
        del case["advanced_disease_months_ago"]
        case["as_of"] = AS_OF.isoformat()
        case["advanced_disease_date"] = (AS_OF - timedelta(days=round(months * 30.44))).isoformat()
    return case


def _steered(case: dict[str, Any], salt: int) -> str | None:
    """One of `RARE`, or None (drawn freely), evenly: chosen by a stable checksum of what was drawn so far,
    mixed with `salt`, a wide integer drawn for it. Not a `sampled_from`: derandomized, it favours a list's first
    items (stop 16: 121, 58, 25, 15, 14, 11, 8 and 3 of 300 cases by position). Not the checksum alone either:
    Hypothesis 6.170 draws many cases that are equal up to this point (small cases, and mutations that keep a
    prefix), and equal cases took the same branch, so the shares clustered ('curative' in 20 of 400 cases,
    'all_wild_type' in 72; stop 19). The salt's bits are drawn uniformly, so equal prefixes spread; both are
    functions of the draws, so Hypothesis still replays and shrinks."""
    choices = (*RARE, *[None] * FREE_DRAWS)
    checksum = zlib.crc32(json.dumps(case, sort_keys=True, default=str).encode())
    return choices[(checksum ^ salt) % len(choices)]


def _primary(draw: st.DrawFn, recurrence: bool) -> dict[str, Any]:
    return _drop_none(
        {
            "status": "resected" if recurrence else draw(_optional(_value(BY_FACT["primary.status"]))),
            "symptoms": draw(_optional(st.lists(st.sampled_from(SYMPTOMS), unique=True))),
        }
    )


def _local_recurrence(draw: st.DrawFn) -> dict[str, Any]:
    return _drop_none(
        {
            "resectability": draw(_optional(RESECT)),
            "symptoms": draw(_optional(st.lists(st.sampled_from(SYMPTOMS), unique=True))),
        }
    )


def _metastases(draw: st.DrawFn, recurrence: bool) -> list[dict[str, Any]] | None:
    sites = draw(st.lists(st.sampled_from(SITES), unique=True, max_size=4))
    mets = [
        _drop_none(
            {
                "site": s,
                "count": draw(_optional(st.integers(1, 12))),
                "resectability": draw(_optional(RESECT)),
            }
        )
        for s in sites
    ]
    if recurrence and draw(st.booleans()):
        return mets or None  # absent distant staging sometimes
    if not recurrence and not mets:
        return [{"site": "liver"}]
    return mets


def _section(draw: st.DrawFn, section: str) -> dict[str, Any]:
    """Every field of one section of contract 1 (biomarkers, health), in table order, each perhaps absent; a
    mutant KRAS perhaps with a variant in one of the lab notations."""
    out: dict[str, Any] = {}
    for f in CONTRACT_1:
        if f.section == section:
            out[f.name] = draw(_optional(_value(f)))
            if f.fact == "biomarkers.kras" and out["kras"] == "mutant":
                out["kras_variant"] = draw(_optional(st.sampled_from(VARIANTS)))
    return _drop_none(out)


def _prior(draw: st.DrawFn) -> dict[str, Any]:
    line = st.fixed_dictionaries(
        {
            "agents": st.sampled_from(REGIMENS).map(list),
            "stopped_for": st.sampled_from(["progression", "intolerance", "completed"]),
        }
    )
    lines = draw(_optional(st.lists(line, max_size=3)))
    if lines and draw(st.integers(0, 4)) == 0:
        lines[-1]["stopped_for"] = "ongoing"
    return _drop_none(
        {
            "pelvic_radiation": draw(_optional(_value(BY_FACT["prior.pelvic_radiation"]))),
            "systemic_lines": lines,
            "surgeries": draw(_optional(st.lists(st.sampled_from(SURGERIES), unique=True, max_size=2))),
        }
    )


def _contract2(draw: st.DrawFn, case: dict[str, Any], flat: bool) -> None:
    """Contract 2: courses instead of lines (sometimes), the declared fields, lesion sizes, a HER2 test result
    instead of the status, a list of declined treatments instead of the yes/no fields (not in a flat row,
    which has only the yes/no columns)."""
    case["format"] = "rectoplan.case/2"
    prior = case.setdefault("prior", {})
    if draw(st.booleans()):
        prior.pop("systemic_lines", None)
        prior["courses"] = draw(courses())
    advanced = draw(_optional(st.integers(0, 3)))
    if advanced is not None or "courses" in prior:
        case["advanced_disease_months_ago"] = advanced or 0
    listed = (
        None if flat else draw(_optional(st.lists(st.sampled_from([*DECLINABLE, "trials"]), unique=True, max_size=3)))
    )
    if listed is not None:
        case["preferences"] = {"declines": listed}
        if "trials" in listed:
            case["wants_clinical_trials"] = False
    for f in DECLARED:
        if _derived_elsewhere(f, case):
            continue
        value = draw(_optional(_value(f)))
        if value is not None:
            case.setdefault(f.path[0], {})[f.path[1]] = value
    if draw(st.booleans()):
        case.get("biomarkers", {}).pop("her2", None)
        case.setdefault("biomarkers", {})["her2_result"] = draw(
            st.sampled_from(BY_FACT["biomarkers.her2_result"].values)
        )
    for m in case.get("metastases") or []:
        size = draw(_optional(st.sampled_from([8, 20, 30, 31, 45])))
        if size is not None:
            m["largest_mm"] = size
    if not prior:
        del case["prior"]


def _derived_elsewhere(f: DeclaredField, case: dict[str, Any]) -> bool:
    """A declared field the case already implies (from courses, the declines list, the HER2 result)."""
    if f.fact == "biomarkers.her2_result":
        return True
    if f.derived_from == "prior.courses":
        return "courses" in case.get("prior", {})
    if f.derived_from == "preferences.declines":
        return "preferences" in case
    return False


def _value(f: DeclaredField) -> st.SearchStrategy[Any]:
    """A value of a field of the table: either answer, a number from its lowest bound (up to `TOP`, or 24
    more), a member of its enumeration or its unknown token (contract 1's "unknown")."""
    if f.kind == "bool":
        return st.booleans()
    if f.kind == "int":
        return st.integers(f.low, min(f.high, TOP.get(f.fact, f.low + 24)))
    return st.sampled_from(f.json_values)


@st.composite
def courses(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid contract 2 courses: adjuvant and finished lines, then perhaps an ongoing line or maintenance."""
    regimen = st.sampled_from(REGIMENS).map(list)
    out: list[dict[str, Any]] = []
    if draw(st.booleans()):
        out.append(_adjuvant(draw(regimen), draw(st.integers(0, 36))))
    for _ in range(draw(st.integers(0, 2))):
        out.append(
            {
                "agents": draw(regimen),
                "setting": "advanced",
                "status": "stopped",
                "stopped_for": draw(st.sampled_from(["progression", "toxicity", "planned_end"])),
                "best_response": draw(st.sampled_from(["partial", "stable", "progression", "not_assessed"])),
            }
        )
    last = draw(st.sampled_from(["none", "ongoing", "maintenance"]))
    if last == "ongoing":
        out.append(_ongoing(draw(regimen), draw(st.integers(0, 9))))
    elif last == "maintenance":
        out.append({"agents": draw(regimen), "setting": "advanced", "status": "completed"})
        out.append({**_ongoing(["capecitabine"], draw(st.integers(0, 9))), "setting": "maintenance"})
    return out


def _adjuvant(agents: list[str], end_months_ago: int) -> dict[str, Any]:
    return {"agents": agents, "setting": "adjuvant", "status": "completed", "end_months_ago": end_months_ago}


def _ongoing(agents: list[str], start_months_ago: int) -> dict[str, Any]:
    return {"agents": agents, "setting": "advanced", "status": "ongoing", "start_months_ago": start_months_ago}


# ---------------------------------------------------------------------------------------------------
# Steering into the rare branches (each keeps the case valid)


def _dpyd_poor(draw: st.DrawFn, case: dict[str, Any]) -> None:
    """DPYD-poor where systemic therapy is the plan: unresectable distant disease, fit, not declining it."""
    case.setdefault("health", {})["dpyd"] = "poor"
    others = [m for m in case.get("metastases") or [] if m["site"] != "lung"][:2]
    case["metastases"] = [*others, {"site": "lung", "resectability": "unresectable"}]
    case["ecog"] = draw(st.integers(0, 2))
    case.get("preferences", {}).pop("declines_chemotherapy", None)
    if "chemotherapy" in case.get("preferences", {}).get("declines", []):
        case["preferences"]["declines"].remove("chemotherapy")


def _curative(draw: st.DrawFn, case: dict[str, Any]) -> None:
    """Limited, resectable disease in a fit patient: where surgery and local treatment are the plan."""
    sites = draw(st.lists(st.sampled_from(["liver", "lung", "peritoneum"]), min_size=1, max_size=2, unique=True))
    case["metastases"] = [{"site": s, "count": draw(st.integers(1, 3)), "resectability": "resectable"} for s in sites]
    if "local_recurrence" in case:
        case["local_recurrence"]["resectability"] = "resectable"
    case["ecog"] = draw(st.integers(0, 1))
    health = case.setdefault("health", {})
    health["fit_for_intensive_therapy"] = True
    health.pop("frail", None)  # frail: palliative (intent-palliative-unfit); unknown frailty is not a reason
    case.pop("preferences", None)


def _set_biomarker(key: str, value: str, *clear: str) -> Any:
    def steer(draw: st.DrawFn, case: dict[str, Any]) -> None:
        b = case.setdefault("biomarkers", {})
        b[key] = value
        for other in clear:
            b.pop(other, None)

    return steer


def _all_wild_type(draw: st.DrawFn, case: dict[str, Any]) -> None:
    """Every biomarker known and unremarkable: the anti-EGFR doublets, rechallenge and maintenance branch."""
    b = case.setdefault("biomarkers", {})
    b.update(kras="wild_type", nras="wild_type", braf="wild_type", mmr="pmmr_mss", ntrk_fusion="negative")
    b.pop("kras_variant", None)
    if "her2_result" not in b:
        b["her2"] = "negative"


def _her2_positive(draw: st.DrawFn, case: dict[str, Any]) -> None:
    """HER2-positive, RAS wild-type (as HER2-directed treatment needs) or not, sometimes stated as IHC 3+."""
    b = case.setdefault("biomarkers", {})
    b.pop("her2_result", None)
    if draw(st.booleans()):
        b["kras"] = b["nras"] = "wild_type"
        b.pop("kras_variant", None)
    if case.get("format") == "rectoplan.case/2" and draw(st.booleans()):
        b.pop("her2", None)
        b["her2_result"] = "ihc3"
    else:
        b["her2"] = "positive"


def _ongoing_line(draw: st.DrawFn, case: dict[str, Any]) -> None:
    prior = case.setdefault("prior", {})
    agents = list(draw(st.sampled_from(REGIMENS)))
    if "courses" in prior:
        history = [c for c in prior["courses"] if c["status"] != "ongoing" and c["setting"] != "maintenance"]
        prior["courses"] = [*history, _ongoing(agents, draw(st.integers(0, 9)))]
    else:
        lines = [line for line in prior.get("systemic_lines") or [] if line["stopped_for"] != "ongoing"]
        prior["systemic_lines"] = [*lines, {"agents": agents, "stopped_for": "ongoing"}]


def _adjuvant_relapse(draw: st.DrawFn, case: dict[str, Any]) -> None:
    """Relapse after adjuvant oxaliplatin, recorded as courses (contract 2) with a known interval."""
    case["format"] = "rectoplan.case/2"
    prior = case.setdefault("prior", {})
    later = [c for c in prior.get("courses", []) if c["setting"] != "adjuvant"]
    prior.pop("systemic_lines", None)
    for f in DECLARED:
        if f.derived_from == "prior.courses":
            prior.pop(f.path[1], None)
    advanced = draw(st.integers(0, 3))
    case["advanced_disease_months_ago"] = advanced
    end = advanced + draw(st.integers(0, 30))
    prior["courses"] = [_adjuvant(list(draw(st.sampled_from(OXALIPLATIN_REGIMENS))), end), *later]
    case.setdefault("primary", {})["status"] = "resected"


STEER: Final = {
    "dpyd_poor": _dpyd_poor,
    "msi_h": _set_biomarker("mmr", "dmmr_msi_h"),
    "braf_v600e": _set_biomarker("braf", "v600e"),
    "curative": _curative,
    "all_wild_type": _all_wild_type,
    "her2_positive": _her2_positive,
    "ongoing_line": _ongoing_line,
    "adjuvant_relapse": _adjuvant_relapse,
}


def branches(facts: Mapping[str, Any], offered_kinds: set[str]) -> set[str]:
    """The rare branches an evaluated case reached, read from its derived facts and what was offered."""
    reached = {
        "dpyd_poor": facts.get("health.dpyd") == "poor" and "systemic" in offered_kinds,
        "msi_h": facts.get("biomarkers.mmr") == "dmmr_msi_h",
        "braf_v600e": facts.get("biomarkers.braf") == "v600e",
        "her2_positive": facts.get("biomarkers.her2") == "positive",
        "curative": facts.get("plan.intent") == "curative",
        "all_wild_type": all(facts.get(f"biomarkers.{k}") == "wild_type" for k in ("kras", "nras", "braf")),
        "ongoing_line": facts.get("prior.ongoing_line") is True,
        "adjuvant_relapse": facts.get("prior.adjuvant_oxaliplatin") is True
        and facts.get("prior.oxaliplatin_free_months") is not None,
    }
    return {name for name, hit in reached.items() if hit}


# ---------------------------------------------------------------------------------------------------
# Condition trees and fact values over the fact schema


def case_facts_only(schema: Mapping[str, FactType]) -> dict[str, FactType]:
    """The facts a case gives (not the option's facts, not the plan's)."""
    return {k: v for k, v in schema.items() if not v.option and not k.startswith(("option.", "plan."))}


def _members(ftype: FactType) -> st.SearchStrategy[str]:
    """Members of an enum or set domain, the first few more often (so tests and facts meet)."""
    return st.one_of(st.sampled_from(ftype.values[:3]), st.sampled_from(ftype.values))


def _number(ftype: FactType) -> st.SearchStrategy[int]:
    near = st.integers(ftype.low, min(ftype.high, ftype.low + 12))
    return st.one_of(near, st.sampled_from([ftype.low, ftype.high]))


def _scalar(ftype: FactType) -> st.SearchStrategy[Any]:
    if ftype.kind == "bool":
        return st.booleans()
    if ftype.kind == "int":
        return _number(ftype)
    return _members(ftype)


@st.composite
def fact_tests(draw: st.DrawFn, facts: Mapping[str, FactType]) -> Test:
    """One fact test with an operator the fact's kind admits (as the parser would accept it)."""
    name = draw(st.sampled_from(sorted(facts)))
    ftype = facts[name]
    if draw(st.integers(0, 9)) == 0:
        return Test(name, "known", draw(st.booleans()))
    if ftype.kind == "set":
        op = draw(st.sampled_from(["contains", "contains_any", "contains_all"]))
        if op == "contains":
            return Test(name, op, draw(_members(ftype)))
        return Test(name, op, tuple(draw(st.lists(_members(ftype), min_size=1, max_size=3, unique=True))))
    ops = ["is", "is_not", "in", "not_in", *(COMPARE_OPS if ftype.kind == "int" else ())]
    op = draw(st.sampled_from(ops))
    if op in ("in", "not_in"):
        return Test(name, op, tuple(draw(st.lists(_scalar(ftype), min_size=1, max_size=3, unique=True))))
    return Test(name, op, draw(_scalar(ftype)))


def conditions(facts: Mapping[str, FactType], max_depth: int = 3) -> st.SearchStrategy[Condition]:
    """Random condition trees over `facts`: leaves are fact tests (and now and then a constant)."""
    leaf = st.one_of(fact_tests(facts), fact_tests(facts), fact_tests(facts), st.booleans().map(Const))
    if max_depth == 0:
        return leaf
    kids = st.lists(conditions(facts, max_depth - 1), min_size=1, max_size=3).map(tuple)
    node = st.one_of(
        kids.map(All),
        kids.map(AnyOf),
        conditions(facts, max_depth - 1).map(Not),
        st.builds(_count, kids, st.sampled_from(COMPARE_OPS), st.integers(0, 3)),
    )
    return st.one_of(leaf, node)


def _count(items: tuple[Condition, ...], op: str, n: int) -> Count:
    return Count(items, op, min(n, len(items)))


def fact_values(facts: Mapping[str, FactType], unknown: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """A value for every fact in `facts` (None, unknown, about a third of the time when `unknown`)."""

    def value(ftype: FactType) -> st.SearchStrategy[Any]:
        if ftype.kind == "set":
            known: st.SearchStrategy[Any] = st.frozensets(_members(ftype), max_size=3)
        else:
            known = _scalar(ftype)
        return st.one_of(st.none(), known, known) if unknown else known

    return st.fixed_dictionaries({name: value(ftype) for name, ftype in facts.items()})
