"""The probes of 'what would change the plan': each hypothetical value of each unknown case field.

A probe is the case with one value filled in, kept as the change alone (the changed case is built only
when asked for): `patch` when the field is exactly one fact (the probe sets that fact), otherwise `edit`,
the one attribute of the case that changes and its new value, whose facts alone are re-derived
(`rectoplan.core.facts.part_facts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from operator import attrgetter
from typing import Any, NamedTuple

from rectoplan.core._whatif_index import ON_LINE, SINCE_LAST, whatif_index
from rectoplan.core.case import SYMPTOMS, Case, Metastasis
from rectoplan.core.facts import RESECTABLE
from rectoplan.core.fields import BY_FACT, EXCLUSIVE, FIELDS, PRIMARY_IN_PLACE_ONLY
from rectoplan.core.knowledge import KnowledgeBase

# The table's contract 1 fields (`rectoplan.core.fields`) are each exactly one fact: a probe patches that
# fact only. Integers are probed over the ranges between the rules' thresholds; enumerations and yes/no
# fields value by value, tests first (biomarkers), then health, the history, the patient's wishes (the
# order what-if lists fields of equal weight in). Three have probes of their own, below: the primary's
# status (a recurrence implies it was resected) and KRAS and NRAS (read with the variant, and as a panel).
_OWN_PROBES = frozenset({"primary.status", "biomarkers.kras", "biomarkers.nras"})
_PROBE_ORDER = {"biomarkers": 0, "health": 1, "prior": 2, "": 3}
_ATTRIBUTES = [f for f in FIELDS if f.contract == 1]
_INTS = tuple(f for f in _ATTRIBUTES if f.kind == "int")
_DIRECT = tuple(
    sorted(
        (f for f in _ATTRIBUTES if f.kind != "int" and f.fact not in _OWN_PROBES),
        key=lambda f: (f.kind != "enum", _PROBE_ORDER[f.section]),
    )
)
_GET = {f.fact: attrgetter(f.fact) for f in _ATTRIBUTES}
# An abdominoperineal resection removed the primary and left a permanent colostomy: the validator refuses it
# with the primary in place or no stoma (`adapters._case_json_checks`), so no probe makes that case.
_APR = "abdominoperineal_resection"
# The fields of a primary in place (`fields.PRIMARY_IN_PLACE_ONLY`, which the validator refuses for a resected
# primary): recorded, they rule out a resected primary.
IN_PLACE_ONLY = tuple(f"primary.{name}" for name in PRIMARY_IN_PLACE_ONLY)


class Probe(NamedTuple):
    """One hypothetical value of one unknown field of `origin`; `case` has it filled in. Either `patch`
    (fact, value) when the field is exactly one fact, or `edit` (attribute of the case, new value);
    `span` = (low, high, domain maximum) for a range of an integer field. A NamedTuple: what-if makes
    a few dozen per case."""

    fact: str
    condition: str
    origin: Case
    patch: tuple[str, Any] | None = None
    edit: tuple[str, Any] | None = None
    span: tuple[int, int, int] | None = None

    @property
    def case(self) -> Case:
        """The case with the probed value filled in."""
        if self.patch is not None:
            return set_field(self.origin, *self.patch)
        assert self.edit is not None
        return replace(self.origin, **{self.edit[0]: self.edit[1]})


def set_field(case: Case, name: str, value: Any) -> Case:
    """The case with one (possibly nested, one level) field replaced."""
    field = BY_FACT.get(name)
    if field is not None and field.contract == 2:  # held in `Case.declared`
        declared = {**dict(case.declared), name: value}
        return replace(case, declared=tuple(sorted((k, v) for k, v in declared.items() if v is not None)))
    part, _, key = name.rpartition(".")
    if not part:
        return replace(case, **{key: value})
    return replace(case, **{part: replace(getattr(case, part), **{key: value})})


_LAYOUTS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], dict[str, int]]] = {}


def _with(part: Any, **changes: Any) -> Any:
    """`dataclasses.replace` for the case's parts (frozen dataclasses without `__post_init__`), several
    times cheaper: the fields are read by one getter and the constructor called positionally. What-if
    builds ~8 changed parts per case."""
    layout = _LAYOUTS.get(type(part))
    if layout is None:
        names = tuple(f.name for f in fields(part))
        assert len(names) > 1 and all(f.init for f in fields(part)) and not hasattr(part, "__post_init__")
        layout = _LAYOUTS[type(part)] = (attrgetter(*names), {name: i for i, name in enumerate(names)})
    get, position = layout
    values = list(get(part))
    for name, value in changes.items():
        values[position[name]] = value
    return type(part)(*values)


def range_text(fact: str, low: int, high: int, top: int) -> str:
    if low == high:
        return f"{fact} = {low}"
    return f"{fact} >= {low}" if high == top else f"{fact} in {low}..{high}"


def _int_probes(
    fact: str, low: int, high: int, cuts: Iterable[int], origin: Case, edit: Callable[[int], Any] | None = None
) -> list[Probe]:
    """One probe per range of values between the rules' thresholds (all values of a range act alike).
    Without `edit` the field is exactly one fact; with it, `edit(value)` is the probe's edit."""
    ranges = _ranges(fact, low, high, frozenset(cuts))
    if edit is None:
        return [_new(Probe, (fact, text, origin, patch, None, span)) for text, patch, span in ranges]
    return [_new(Probe, (fact, text, origin, None, edit(span[0]), span)) for text, _, span in ranges]


_new = tuple.__new__  # a Probe from all its fields, without NamedTuple's Python-level `__new__`
Range = tuple[str, tuple[str, int], tuple[int, int, int]]  # (condition, patch, span)
_RANGES: dict[tuple[str, int, int, frozenset[int]], tuple[Range, ...]] = {}  # few: one per field and cuts


def _ranges(fact: str, low: int, high: int, cuts: frozenset[int]) -> tuple[Range, ...]:
    """The ranges of an integer field between its thresholds, with their words (made once per field and
    thresholds: the same for every case)."""
    key = (fact, low, high, cuts)
    found = _RANGES.get(key)
    if found is not None:
        return found
    points = sorted({low} | {c for c in cuts if low < c <= high})
    out = []
    for i, start in enumerate(points):
        end = points[i + 1] - 1 if i + 1 < len(points) else high
        out.append((range_text(fact, start, end, high), (fact, start), (start, end, high)))
    if len(_RANGES) < 10_000:  # metastasis counts add their other sites' count to the cuts: bounded anyway
        _RANGES[key] = tuple(out)
    return tuple(out)


def _direct(case: Case, name: str, values: Iterable[Any]) -> list[Probe]:
    key = (name, tuple(values))
    made = _DIRECT_PROBES.get(key)
    if made is None:
        made = _DIRECT_PROBES[key] = tuple(
            (f"{name} = {str(value).lower() if isinstance(value, bool) else str(value)}", (name, value))
            for value in key[1]
        )
    return [_new(Probe, (name, text, case, patch, None, None)) for text, patch in made]


# The words and patch of each value of a field probed value by value: one entry per field of the table.
_DIRECT_PROBES: dict[tuple[str, tuple[Any, ...]], tuple[tuple[str, tuple[str, Any]], ...]] = {}


def _pair_probes(case: Case) -> list[Probe]:
    """Facts that decide together, probed together: RAS (KRAS and NRAS) and BRAF are reported by one
    panel, and anti-EGFR therapy needs all of them wild-type, so probing each alone never shows it."""
    b = case.biomarkers
    if b.braf is not None or (b.kras is not None and b.nras is not None):
        return []
    if "mutant" in (b.kras, b.nras):
        return []
    changed = _with(b, kras="wild_type", nras="wild_type", braf="wild_type", kras_variant=None)
    text = "biomarkers.ras_braf = wild_type (KRAS, NRAS and BRAF V600E all wild-type)"
    return [Probe("biomarkers.ras_braf", text, case, edit=("biomarkers", changed))]


def _wait_probes(case: Case, cuts: Iterable[int]) -> list[Probe]:
    """Waiting periods: a known count of days since major surgery below a rule's threshold (e.g. anti-VEGF
    therapy 28 days after surgery) is probed at each later threshold, as 'in N days'."""
    fact = "health.days_since_major_surgery"
    days = case.health.days_since_major_surgery
    if days is None:
        return []
    points = set(cuts)  # a literal v gives v and v + 1: the wait ends at v
    later = sorted(c for c in points if c > days and c - 1 not in points)
    return [Probe(fact, f"{fact} = {c} (in {c - days} days)", case, (fact, c)) for c in later[:2]]


def probes(case: Case, kb: KnowledgeBase) -> list[Probe]:
    """Every hypothetical value of every unknown field of `case`; each probe is itself a valid case.

    Branchy by design: one branch per kind of unknown field (scalar, declared, list, biomarker)."""
    index = whatif_index(kb)
    cuts = index.thresholds
    out: list[Probe] = []
    for f in _INTS:
        if _GET[f.fact](case) is None:
            out += _int_probes(f.fact, f.low, f.high, cuts.get(f.fact, ()), case)
    out += _wait_probes(case, cuts.get("health.days_since_major_surgery", ()))
    apr = _APR in (case.prior.surgeries or ())
    if case.primary.status is None:
        resected = case.local_recurrence is not None or apr  # a recurrence or an APR implies it
        staged = any(fact in IN_PLACE_ONLY for fact, _ in case.declared)  # MRI staging: a primary in place
        statuses = ("in_place",) * (not resected) + ("resected",) * (not staged)
        out += _direct(case, "primary.status", statuses)
    out += _lesion_probes(case)
    out += _metastasis_probes(case, cuts)
    out += _biomarker_probes(case)
    for f in _DIRECT:
        if _GET[f.fact](case) is None:
            out += _direct(case, f.fact, (True, False) if f.kind == "bool" else f.values)
    out += _declared_probes(case, kb)
    apr_contradicted = case.primary.status == "in_place" or dict(case.declared).get("primary.stoma") is False
    out += _history_probes(case, tuple(p for p in index.surgeries_named if not (p == _APR and apr_contradicted)))
    return out


def _lesion_probes(case: Case) -> list[Probe]:
    """Symptoms (of the primary or the local recurrence) and the local recurrence's resectability."""
    out: list[Probe] = []
    lr = case.local_recurrence
    if case.primary.symptoms is None and (lr is None or lr.symptoms is None):
        out.append(Probe("symptoms", "symptoms = none", case, edit=("primary", _with(case.primary, symptoms=()))))
        out += [
            Probe("symptoms", f"symptoms = {s}", case, edit=("primary", _with(case.primary, symptoms=(s,))))
            for s in SYMPTOMS
        ]
    if lr is not None and lr.resectability is None:
        fact = "local_recurrence.resectability"
        out += [
            Probe(fact, f"{fact} = {r}", case, edit=("local_recurrence", _with(lr, resectability=r)))
            for r in RESECTABLE
        ]
    return out


def _biomarker_probes(case: Case) -> list[Probe]:
    """KRAS (with G12C), a KRAS variant, NRAS, and the RAS/BRAF panel together."""
    b = case.biomarkers
    out: list[Probe] = []
    if b.kras is None:
        for value, variant, text in (
            ("wild_type", None, "wild_type"),
            ("mutant", None, "mutant"),
            ("mutant", "G12C", "mutant (G12C)"),
        ):
            edit = ("biomarkers", _with(b, kras=value, kras_variant=variant))
            out.append(Probe("biomarkers.kras", f"biomarkers.kras = {text}", case, edit=edit))
    elif b.kras == "mutant" and b.kras_variant is None:
        for variant, text in (("G12C", "true"), ("G12D", "false")):
            edit = ("biomarkers", _with(b, kras_variant=variant))
            out.append(Probe("biomarkers.kras_g12c", f"biomarkers.kras_g12c = {text}", case, edit=edit))
    if b.nras is None:
        out += [
            Probe("biomarkers.nras", f"biomarkers.nras = {v}", case, edit=("biomarkers", _with(b, nras=v)))
            for v in ("wild_type", "mutant")
        ]
    return out + _pair_probes(case)


def _history_probes(case: Case, named: tuple[str, ...]) -> list[Probe]:
    """No earlier systemic therapy; no earlier operation, or each operation a rule names."""
    p = case.prior
    out: list[Probe] = []
    if p.systemic_lines is None and SINCE_LAST not in dict(case.declared):  # growth since a line: there was one
        text = "prior.systemic_lines = none (no earlier systemic therapy)"
        out.append(Probe("prior.systemic_lines", text, case, edit=("prior", _with(p, systemic_lines=()))))
    if p.surgeries is None:
        fact = "prior.surgeries"
        out.append(Probe(fact, f"{fact} = none", case, edit=("prior", _with(p, surgeries=()))))
        out += [Probe(fact, f"{fact} = {proc}", case, edit=("prior", _with(p, surgeries=(proc,)))) for proc in named]
    return out


def _declared_probes(case: Case, kb: KnowledgeBase) -> list[Probe]:
    """Probes of the unknown declared fields (`rectoplan.core.fields`) that a rule reads."""
    index = whatif_index(kb)
    lines = case.prior.systemic_lines or ()
    ongoing = bool(lines) and lines[-1].stopped_for == "ongoing"
    paused = bool(lines) and lines[-1].stopped_for not in ("ongoing", "progression")  # restaging can tell
    known = dict(case.declared)
    out: list[Probe] = []
    for f in index.declared:
        if f.fact in known or (f.fact == ON_LINE and not ongoing) or (f.fact == SINCE_LAST and not paused):
            continue
        if f.kind == "int":
            out += _int_probes(f.fact, f.low, f.high, index.thresholds.get(f.fact, ()), case)
        elif f.fact == "primary.stoma" and _APR in (case.prior.surgeries or ()):
            out += _direct(case, f.fact, (True,))  # an APR left a permanent colostomy
        elif f.kind == "bool":
            out += _direct(case, f.fact, tuple(v for v in (True, False) if not _excluded(f.fact, v, known)))
        else:
            out += _direct(case, f.fact, f.values)
    return out


def _excluded(fact: str, value: bool, known: Mapping[str, object]) -> bool:
    """Whether `fact` = `value` and a known field form a pair the validator refuses (`EXCLUSIVE`)."""
    return any(
        (fact == e.field and value is e.value and known.get(e.other) is e.other_value)
        or (fact == e.other and value is e.other_value and known.get(e.field) is e.value)
        for e in EXCLUSIVE
    )


def _metastasis_probes(case: Case, cuts: Any) -> list[Probe]:
    mets = case.metastases
    if mets is None:
        if case.local_recurrence is None:  # without a local recurrence, 'no metastases' is out of scope
            return []
        text = "metastases = none (distant staging shows no spread)"
        return [Probe("metastases", text, case, edit=("metastases", ()))]
    out: list[Probe] = []
    for i, m in enumerate(mets):

        def with_entry(entry: Metastasis, i: int = i) -> tuple[str, Any]:
            return ("metastases", (*mets[:i], entry, *mets[i + 1 :]))

        if m.resectability is None:
            fact = f"metastases.{m.site}.resectability"
            out += [Probe(fact, f"{fact} = {r}", case, edit=with_entry(_with(m, resectability=r))) for r in RESECTABLE]
        if m.count is None:
            fact = f"metastases.{m.site}.count"
            others = [x.count for j, x in enumerate(mets) if j != i]
            points = set(cuts.get(fact, ()))
            if None not in others:  # the total count becomes known too: its thresholds matter
                known = sum(c for c in others if c is not None)
                points |= {c - known for c in cuts.get("metastases.total_count", ())}

            def edit(v: int, m: Metastasis = m, with_entry: Callable[[Metastasis], Any] = with_entry) -> Any:
                return with_entry(_with(m, count=v))

            out += _int_probes(fact, 1, 1000, points, case, edit)
        size_cuts = cuts.get(f"metastases.{m.site}.largest_mm")
        if m.largest_mm is None and size_cuts:  # a size a rule reads (review 12)

            def sized(v: int, m: Metastasis = m, with_entry: Callable[[Metastasis], Any] = with_entry) -> Any:
                return with_entry(_with(m, largest_mm=v))

            out += _int_probes(f"metastases.{m.site}.largest_mm", 1, 300, size_cuts, case, sized)
    return out
