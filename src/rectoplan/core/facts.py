"""Flatten a `Case` into named facts, the only thing rules can read.

`None` is *unknown*. The scalar fields of the case (`rectoplan.core.fields.FIELDS`) are one fact each, of
the same name, read straight from the table. The rest is derived here, by hand, because it is not one
scalar (see fields.py): where contract 1 makes absence meaningful, the fact says so explicitly: an absent
local recurrence gives `local_recurrence.present = false` and `local_recurrence.resectability = "none"`,
while absent metastases leave every metastasis fact unknown. Each derivation below is mirrored by the
cohort compiler and the verifier, so keep them simple and documented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from rectoplan.core.case import (
    SITES,
    SYMPTOMS,
    Biomarkers,
    Case,
    LocalRecurrence,
    Metastasis,
    SystemicLine,
)
from rectoplan.core.fields import BY_FACT, FIELDS, DeclaredField
from rectoplan.core.knowledge import Drug
from rectoplan.core.schema import INTENTS, KINDS, FactType, boolean, enum, integer, set_of

Facts = dict[str, Any]

RESECTABLE: tuple[str, ...] = ("resectable", "potentially_resectable", "unresectable")


def fact_schema(
    drugs: tuple[str, ...],
    procedures: tuple[str, ...],
    resistance_classes: tuple[str, ...],
    drug_classes: tuple[str, ...],
    option_ids: tuple[str, ...],
    tags: tuple[str, ...] = (),
) -> dict[str, FactType]:
    """The schema for one knowledge base (its vocabulary fixes the domains of sets): the table's fields,
    then the derived facts.

    Long by design: the fact table itself, one entry per derived fact."""
    schema: dict[str, FactType] = {f.fact: declared_type(f) for f in FIELDS}
    schema.update(
        {
            "symptoms": set_of(
                SYMPTOMS, "union of primary and local-recurrence symptoms; unknown if neither lists any"
            ),
            "local_recurrence.present": boolean("a local (pelvic) recurrence is recorded; absent means none known"),
            "local_recurrence.resectability": enum(
                (*RESECTABLE, "none"), "'none' when there is no local recurrence; unknown when not assessed"
            ),
            "metastases.known": boolean("distant staging is recorded (metastases given, possibly empty)"),
            "metastases.sites": set_of(SITES, "organs with metastases"),
            "metastases.site_count": integer(0, len(SITES), "number of distinct metastatic sites"),
            "metastases.total_count": integer(0, 7000, "sum of metastasis counts; unknown if any count is missing"),
            "metastases.resectability": enum(
                (*RESECTABLE, "none"),
                "least favourable resectability over all metastases; 'none' when there are none",
            ),
            "disease.resectability": enum(
                RESECTABLE,
                "least favourable resectability over the local recurrence and all metastases; unresectable as soon"
                " as any lesion is, otherwise unknown while any lesion or the distant staging is unknown",
            ),
            "biomarkers.ras": enum(
                BY_FACT["biomarkers.kras"].values,
                "mutant if KRAS or NRAS is mutant; wild_type only if both are wild-type",
            ),
            "biomarkers.kras_g12c": boolean(
                "KRAS G12C: true if the variant is G12C; false if KRAS is wild-type or another variant is named"
            ),
            "prior.systemic_recorded": boolean("prior.systemic_lines is present (possibly empty)"),
            "prior.line_count": integer(0, 20, "number of prior systemic lines; 0 when none are recorded"),
            "prior.agents": set_of(drugs, "every drug of every prior line"),
            "prior.progressed_agents": set_of(drugs, "drugs of lines stopped for progression"),
            "prior.intolerant_agents": set_of(drugs, "drugs of lines stopped for intolerance"),
            "prior.ongoing_agents": set_of(
                drugs, "drugs of the line still being given (empty when no line is ongoing or none is recorded)"
            ),
            "prior.classes": set_of(drug_classes, "drug classes of every prior line"),
            "prior.progressed_classes": set_of(
                resistance_classes, "cross-resistance classes of the drugs of lines stopped for progression"
            ),
            "prior.ongoing_line": boolean(
                "the last line for advanced disease is still being given (unknown when no lines are recorded)"
            ),
            "prior.surgeries": set_of(procedures, "operations already done"),
        }
    )
    for site in SITES:
        schema[f"metastases.{site}.largest_mm"] = integer(
            0, 300, f"largest {site} metastasis in mm (0 if none; unknown if any entry lacks it)"
        )
        schema[f"metastases.{site}.count"] = integer(0, 1000, f"number of {site} metastases (0 if none)")
        schema[f"metastases.{site}.resectability"] = enum(
            (*RESECTABLE, "none"), f"resectability of {site} metastases; 'none' when there are none"
        )
    schema["plan.intent"] = enum(INTENTS, "decided by the intent rules of the knowledge base")
    schema["option.id"] = FactType("enum", option_ids, doc="the option under evaluation", option=True)
    schema["option.kind"] = FactType("enum", KINDS, doc="the option's kind", option=True)
    schema["option.components"] = set_of((*drugs, *procedures), "the option's drugs and procedures", option=True)
    schema["option.classes"] = set_of(drug_classes, "drug classes of the option's components", option=True)
    schema["option.resistance_classes"] = set_of(
        resistance_classes, "cross-resistance classes of the option's anticancer drugs", option=True
    )
    schema["option.tags"] = set_of(tags, "tags of the option (e.g. pelvic_radiation)", option=True)
    return schema


def declared_type(f: DeclaredField) -> FactType:
    """The fact type of a case field of the table (`rectoplan.core.fields`)."""
    if f.kind == "int":
        return integer(f.low, f.high, f.doc)
    if f.kind == "bool":
        return boolean(f.doc)
    return enum(f.values, f.doc)


def option_facts(
    option_id: str, kind: str, components: Sequence[str], tags: Sequence[str], drugs: Mapping[str, Drug]
) -> Facts:
    """The `option.*` facts of one option: the loader binds them into its conditions, the verifier into
    the invariants, so both must read them from here."""
    here = [drugs[c] for c in components if c in drugs]
    return {
        "option.id": option_id,
        "option.kind": kind,
        "option.components": frozenset(components),
        "option.classes": frozenset(c for d in here for c in d.classes),
        "option.resistance_classes": frozenset(d.resistance_class for d in here if d.resistance_class),
        "option.tags": frozenset(tags),
    }


def _worst(values: list[str | None]) -> str | None:
    """Least favourable resectability: an unresectable lesion decides even when others are unknown."""
    if "unresectable" in values:
        return "unresectable"
    if None in values or not values:
        return None
    return "potentially_resectable" if "potentially_resectable" in values else "resectable"


_EMPTY: frozenset[str] = frozenset()
_NO_SITE = (
    {f"metastases.{site}.count": 0 for site in SITES}
    | {f"metastases.{site}.resectability": "none" for site in SITES}
    | {f"metastases.{site}.largest_mm": 0 for site in SITES}
)
_UNKNOWN_METS = {
    f"metastases.{site}.{key}": None for site in SITES for key in ("count", "resectability", "largest_mm")
} | {
    "metastases.sites": None,
    "metastases.site_count": None,
    "metastases.total_count": None,
    "metastases.resectability": None,
}


def _reader(name: str, fields: Sequence[DeclaredField], part: str = "") -> Callable[..., Any]:
    """A function generated from the table that copies contract 1 fields into facts: for the whole case,
    `name(case, f)` writes them into `f`; for one `part` of it (`case.biomarkers`), `name(obj)` returns
    those of the part as a new dict. Generated, not looped: straight-line code reads each attribute once,
    at about a third of the cost of a loop or of `dict.update(zip(...))`, and facts are derived for every
    case and every what-if probe."""
    objects: dict[str, str] = {}
    head, items = [], []
    for f in fields:
        if not all(key.isidentifier() for key in f.path):
            raise ValueError(f"field {f.fact!r}: each part of its path must be a Python identifier")
        where = f.section.removeprefix(part).lstrip(".")
        if where not in objects:
            objects[where] = f"o{len(objects)}"
            head.append(f"    {objects[where]} = obj{'.' + where if where else ''}")
        items.append((f.fact, f"{objects[where]}.{f.name}"))
    if part:
        lines = [f"def {name}(obj):", *head, "    return {", *(f"        {k!r}: {v}," for k, v in items), "    }"]
    else:
        lines = [f"def {name}(obj, f):", *head, *(f"    f[{k!r}] = {v}" for k, v in items)]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<rectoplan.core.facts.{name}>", "exec"), namespace)  # the source: the table, above
    function: Callable[..., Any] = namespace[name]
    return function


def _attributes(section: str | None = None) -> list[DeclaredField]:
    """The contract 1 fields (attributes of `Case`), all or those of one part."""
    return [f for f in FIELDS if f.contract == 1 and (section is None or f.path[0] == section)]


# Every case fact, unknown: `case_facts` starts from a copy (one C call, in one fixed order) and fills it in.
_UNKNOWN: Final[Facts] = dict.fromkeys(
    [f.fact for f in FIELDS]
    + ["symptoms", "biomarkers.ras", "biomarkers.kras_g12c", "prior.surgeries"]
    + ["local_recurrence.present", "local_recurrence.resectability", "metastases.known", "disease.resectability"]
    + ["prior.systemic_recorded", "prior.ongoing_line", "prior.line_count", "prior.agents"]
    + ["prior.progressed_agents", "prior.intolerant_agents", "prior.classes", "prior.progressed_classes"]
    + ["prior.ongoing_agents"]
    + list(_UNKNOWN_METS)
)
_FILL_ATTRIBUTES: Final = _reader("fill_attributes", _attributes())
# One reader per part of the case that what-if changes alone (`part_facts`): the part's own fields.
_PART_FIELDS: Final = {
    part: _reader(f"{part}_fields", _attributes(part), part) for part in ("biomarkers", "primary", "prior")
}


def case_facts(case: Case, resistance_class: Mapping[str, str], drug_classes: Mapping[str, tuple[str, ...]]) -> Facts:
    """All facts of one case. `resistance_class` and `drug_classes` come from the vocabulary.

    Written for speed (it runs once per case on the engine's hot path): the table's fields are copied by
    a function generated from the table (contract 1's attributes) and one C call (contract 2's `declared`
    pairs); the rest mirrors the schema's
    documentation line by line; `tests/test_facts.py` pins each derivation. What-if re-derives only the
    facts of the part of the case a probe changes, with the same functions (`part_facts`)."""
    f = _UNKNOWN.copy()
    _FILL_ATTRIBUTES(case, f)
    if case.declared:
        f.update(case.declared)
    f["symptoms"] = _symptoms(case)
    b = case.biomarkers
    f["biomarkers.ras"], f["biomarkers.kras_g12c"] = _ras_g12c(b.kras, b.nras, b.kras_variant)
    p = case.prior
    if p.surgeries is not None:
        f["prior.surgeries"] = frozenset(p.surgeries)
    _lines_into(f, p.systemic_lines, resistance_class, drug_classes)
    _lesions_into(f, case.local_recurrence, case.metastases)
    return f


def _symptoms(case: Case) -> frozenset[str] | None:
    return _symptom_union(case.primary.symptoms, case.local_recurrence)


def _symptom_union(primary_symptoms: tuple[str, ...] | None, lr: LocalRecurrence | None) -> frozenset[str] | None:
    """Union of the primary's and the local recurrence's symptoms; unknown if neither lists any."""
    lr_symptoms = lr.symptoms if lr is not None else None
    if primary_symptoms is None and lr_symptoms is None:
        return None
    return frozenset((primary_symptoms or ()) + (lr_symptoms or ()))


def _ras_g12c(kras: str | None, nras: str | None, variant: str | None) -> tuple[str | None, bool | None]:
    """RAS from KRAS and NRAS; KRAS G12C from the (canonical) variant, or false when KRAS is wild-type."""
    if kras == "mutant" or nras == "mutant":
        ras: str | None = "mutant"
    elif kras == "wild_type" and nras == "wild_type":
        ras = "wild_type"
    else:
        ras = None
    # the variant is canonical at the edge (`rectoplan.adapters.variants`)
    g12c = (variant == "G12C") if variant is not None else (False if kras == "wild_type" else None)
    return ras, g12c


def biomarker_facts(b: Biomarkers) -> Facts:
    """The biomarker facts: the table's fields, with RAS and KRAS G12C derived from them."""
    f: Facts = _PART_FIELDS["biomarkers"](b)
    f["biomarkers.ras"], f["biomarkers.kras_g12c"] = _ras_g12c(b.kras, b.nras, b.kras_variant)
    return f


def line_facts(
    lines: tuple[SystemicLine, ...] | None,
    resistance_class: Mapping[str, str],
    drug_classes: Mapping[str, tuple[str, ...]],
) -> Facts:
    """The facts of the lines for advanced disease: count, agents, classes, what progressed, ongoing."""
    f: Facts = {}
    _lines_into(f, lines, resistance_class, drug_classes)
    return f


def _lines_into(
    f: Facts,
    lines: tuple[SystemicLine, ...] | None,
    resistance_class: Mapping[str, str],
    drug_classes: Mapping[str, tuple[str, ...]],
) -> None:
    if not lines:
        f.update(_NO_LINES if lines is not None else _LINES_UNKNOWN)
        return
    agents = frozenset(a for line in lines for a in line.agents)
    progressed = frozenset(a for line in lines for a in line.progressed_agents)
    ongoing = lines[-1].stopped_for == "ongoing"
    f["prior.systemic_recorded"] = True
    f["prior.ongoing_line"] = ongoing
    f["prior.ongoing_agents"] = frozenset(lines[-1].agents) if ongoing else _EMPTY
    f["prior.line_count"] = len(lines)
    f["prior.agents"] = agents
    f["prior.progressed_agents"] = progressed
    f["prior.intolerant_agents"] = frozenset(
        a for line in lines if line.stopped_for == "intolerance" for a in line.agents
    )
    f["prior.classes"] = frozenset(c for a in agents for c in drug_classes.get(a, ()))
    f["prior.progressed_classes"] = (
        frozenset(resistance_class[a] for a in progressed if a in resistance_class) if progressed else _EMPTY
    )


# No line recorded as given (`systemic_lines: []`), or the lines not recorded at all: the sets are empty
# either way (nothing known to be given), and only `systemic_recorded` and `ongoing_line` tell them apart.
_NO_LINES: Final[Facts] = {
    "prior.systemic_recorded": True,
    "prior.ongoing_line": False,
    "prior.line_count": 0,
    "prior.agents": _EMPTY,
    "prior.progressed_agents": _EMPTY,
    "prior.intolerant_agents": _EMPTY,
    "prior.classes": _EMPTY,
    "prior.progressed_classes": _EMPTY,
    "prior.ongoing_agents": _EMPTY,
}
_LINES_UNKNOWN: Final[Facts] = {**_NO_LINES, "prior.systemic_recorded": False, "prior.ongoing_line": None}


def lesion_facts(lr: LocalRecurrence | None, mets: tuple[Metastasis, ...] | None) -> Facts:
    """The facts of the local recurrence and the metastases, and the resectability of the disease."""
    f: Facts = {}
    _lesions_into(f, lr, mets)
    return f


def _lesions_into(f: Facts, lr: LocalRecurrence | None, mets: tuple[Metastasis, ...] | None) -> None:
    """Per site: the summed count and the largest size (unknown if any entry lacks one), the least
    favourable resectability; only 'other' may be listed twice (the edge refuses other repeats)."""
    f["local_recurrence.present"] = lr is not None
    f["local_recurrence.resectability"] = "none" if lr is None else lr.resectability
    f["metastases.known"] = mets is not None
    lesions: list[str | None] = [lr.resectability] if lr is not None else []
    if mets is None:
        f.update(_UNKNOWN_METS)
        lesions.append(None)
        f["disease.resectability"] = _worst(lesions)
        return
    f.update(_NO_SITE)
    sites: list[str] = []
    total: int | None = 0
    for m in mets:
        count_key, size_key, res_key = _SITE_KEYS[m.site]
        count, size, res = m.count, m.largest_mm, m.resectability
        lesions.append(res)
        total = None if total is None or count is None else total + count
        if m.site in sites:  # a repeated 'other': merge with the entries before
            before_count, before_size = f[count_key], f[size_key]
            count = None if before_count is None or count is None else before_count + count
            size = None if before_size is None or size is None else max(before_size, size)
            res = _worst([f[res_key], res])
        else:
            sites.append(m.site)
        f[count_key], f[size_key], f[res_key] = count, size, res
    f["metastases.sites"] = frozenset(sites)
    f["metastases.site_count"] = len(sites)
    f["metastases.total_count"] = total
    f["metastases.resectability"] = _worst(lesions[1:] if lr is not None else lesions) if mets else "none"
    f["disease.resectability"] = _worst(lesions)


_SITE_KEYS: Final = {
    site: (f"metastases.{site}.count", f"metastases.{site}.largest_mm", f"metastases.{site}.resectability")
    for site in SITES
}


def part_facts(
    case: Case,
    part: str,
    value: Any,
    resistance_class: Mapping[str, str],
    drug_classes: Mapping[str, tuple[str, ...]],
) -> Facts:
    """The facts derived from one attribute `part` of the case, were it `value` (the rest as in `case`).

    What-if changes one part of a case per probe and re-derives only its facts this way;
    `tests/test_engine_speed_whatif.py` checks that this equals `case_facts` of the changed case."""
    if part == "biomarkers":
        return biomarker_facts(value)
    if part == "metastases":
        return lesion_facts(case.local_recurrence, value)
    if part == "local_recurrence":
        return {"symptoms": _symptom_union(case.primary.symptoms, value), **lesion_facts(value, case.metastases)}
    if part == "primary":
        return {
            **_PART_FIELDS["primary"](value),
            "symptoms": _symptom_union(value.symptoms, case.local_recurrence),
        }
    if part == "prior":
        return {
            **_PART_FIELDS["prior"](value),
            "prior.surgeries": None if value.surgeries is None else frozenset(value.surgeries),
            **line_facts(value.systemic_lines, resistance_class, drug_classes),
        }
    raise ValueError(f"no derivation of the facts of part {part!r} alone")
