"""The rule language and the engine's selection logic compiled to z3, three-valued, over ALL cases.

What is modelled, and why this way:
- **Case fields, not facts, are the variables.** Every field of contract 1 becomes z3 variables with an
  explicit 'absent' state (an enum index of -1, or a `known` flag), constrained by the contract (ranges,
  scope, `kras_variant` only with mutant KRAS, a local recurrence only after a resected primary, how many
  lines and metastasis entries a case can list). The named facts are then *derived* exactly as
  `rectoplan.core.facts.case_facts` derives them, so every model of the solver is a real case and maps back
  to a case JSON that reproduces through `rectoplan recommend`.
- **Kleene logic by two rails.** A condition compiles to a pair (T, F) of z3 Booleans: 'is TRUE' and 'is
  FALSE'; unknown is neither. Fact tests are guarded by the fact's `known` flag, so an unknown fact never
  makes a test true or false, exactly as in `conditions.evaluate`.
- **The engine.** Intent = the first intent rule that is TRUE (else the last); per option, the first
  TRUE setting selects it; then requirements (FALSE -> not indicated), exclusions (TRUE -> excluded),
  unknown gates (hold -> held; warn -> offered with warning), then cautions. The outcome of every option is
  a z3 term, as are the decision facts invariants may read (`outcome.*`, `plan.*`).
Each site of metastasis is modelled once (repeated 'other' entries as one aggregated entry), which covers
every combination of facts the engine can see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, assert_never

import z3

from rectoplan.core.case import SITES, SYMPTOMS, Case
from rectoplan.core.conditions import All, AnyOf, Condition, Const, Count, Not, OptionRef, Test
from rectoplan.core.facts import RESECTABLE
from rectoplan.core.fields import DECLARED, HER2_POSITIVE_RESULTS
from rectoplan.core.knowledge import KnowledgeBase, Option
from rectoplan.core.schema import INTENTS, PHASES, STRENGTHS
from rectoplan.kb.invariants import NONE, STATUSES, caution_ids, gate_ids

Tri = tuple[z3.BoolRef, z3.BoolRef]  # (is TRUE, is FALSE)
TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)
MAX_ENTRIES, MAX_COUNT, MAX_LINES, MAX_AGENTS, MAX_SURGERIES = 7, 1000, 20, 10, 20


@dataclass(frozen=True)
class Fact:
    """A fact as z3 terms: `known`, and a value (an int term, a Boolean, or one Boolean per set member)."""

    known: Any
    kind: str
    value: Any
    domain: tuple[str, ...] = ()


def any_of(items: list[Any]) -> Any:
    """The disjunction of z3 booleans (false for none); public: the verifier asks 'is any of these possible'."""
    return z3.Or(*items) if items else FALSE


def _and(items: list[Any]) -> Any:
    return z3.And(*items) if items else TRUE


def _count(bools: list[Any]) -> Any:
    return z3.Sum([z3.If(b, 1, 0) for b in bools]) if bools else z3.IntVal(0)


def _choose(cases: list[tuple[Any, Any]], default: Any) -> Any:
    """If-chain: the value of the first true guard."""
    out = default
    for guard, value in reversed(cases):
        out = z3.If(guard, value, out)
    return out


class CaseVars:
    """The z3 variables of one contract-1 case, grouped into the fields a clinician would change."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """The z3 variables of a case. Branchy by design: one group of variables per section of contract 1."""
        self.kb = kb
        self.sites, self.symptoms = SITES, SYMPTOMS
        self.drugs = tuple(kb.vocabulary.drugs)
        self.procedures = tuple(kb.vocabulary.procedures)
        self.domains: dict[str, tuple[str, ...]] = {
            "primary.status": kb.schema["primary.status"].values,
            **{
                f"biomarkers.{b}": kb.schema[f"biomarkers.{b}"].values
                for b in ("kras", "nras", "braf", "mmr", "her2", "ntrk_fusion", "ret_fusion")
            },
            "health.dpyd": kb.schema["health.dpyd"].values,
            **{f.fact: f.values for f in DECLARED if f.kind == "enum"},
        }
        B, I = z3.Bool, z3.Int  # noqa: E741 - short names for the z3 constructors
        self.enum = {name: I(name) for name in self.domains}  # -1 = absent (unknown)
        self.kras_variant = I("biomarkers.kras_variant")  # 0 absent, 1 G12C, 2 another variant
        self.int_bounds = {
            "age": (18, 120),
            "ecog": (0, 4),
            "health.days_since_major_surgery": (0, 36500),
            **{f.fact: (f.low, f.high) for f in DECLARED if f.kind == "int"},
        }
        self.ints = {name: (B(f"{name}?"), I(name)) for name in self.int_bounds}
        self.bools = {
            name: (B(f"{name}?"), B(name))
            for name in (
                "prior.pelvic_radiation",
                "health.bleeding_risk",
                "health.fit_for_intensive_therapy",
                "wants_clinical_trials",
                *(f.fact for f in DECLARED if f.kind == "bool"),
            )
        }
        self.psym_k = B("primary.symptoms?")
        self.psym = {s: B(f"primary.symptoms.{s}") for s in SYMPTOMS}
        self.lr = B("local_recurrence?")
        self.lr_res = I("local_recurrence.resectability")  # -1 unknown, else index in RESECTABLE
        self.lrsym_k = B("local_recurrence.symptoms?")
        self.lrsym = {s: B(f"local_recurrence.symptoms.{s}") for s in SYMPTOMS}
        self.mk = B("metastases?")
        self.site = {s: B(f"metastases.{s}?") for s in SITES}
        self.count_k = {s: B(f"metastases.{s}.count?") for s in SITES}
        self.count = {s: I(f"metastases.{s}.count") for s in SITES}
        self.res = {s: I(f"metastases.{s}.resectability") for s in SITES}
        self.size_k = {s: B(f"metastases.{s}.largest_mm?") for s in SITES}
        self.size = {s: I(f"metastases.{s}.largest_mm") for s in SITES}
        self.other_entries = I("metastases.other.entries")
        self.lines_k = B("prior.systemic_lines?")
        self.lines = I("prior.systemic_lines")
        self.ongoing = B("prior.ongoing_line")  # the last line is still being given
        self.agents = {d: B(f"prior.agents.{d}") for d in self.drugs}
        self.progressed = {d: B(f"prior.progressed.{d}") for d in self.drugs}
        self.intolerant = {d: B(f"prior.intolerant.{d}") for d in self.drugs}
        self.chunks = (I("prior.lines.progression"), I("prior.lines.intolerance"), I("prior.lines.other"))
        self.surg_k = B("prior.surgeries?")
        self.surg = {p: B(f"prior.surgeries.{p}") for p in self.procedures}

    # -- the contract --------------------------------------------------------------------------------
    def contract(self) -> list[Any]:
        """Every constraint contract 1 (and its validator) puts on a case.

        Long by design: one constraint per rule of contract 1's validator."""
        c: list[Any] = []
        for name, var in self.enum.items():
            c.append(z3.And(var >= -1, var < len(self.domains[name])))
        c.append(z3.And(self.kras_variant >= 0, self.kras_variant <= 2))
        mutant = self.domains["biomarkers.kras"].index("mutant")
        c.append(z3.Implies(self.kras_variant != 0, self.enum["biomarkers.kras"] == mutant))
        for name, (low, high) in self.int_bounds.items():
            k, v = self.ints[name]
            c.append(z3.If(k, z3.And(v >= low, v <= high), v == low))
        for k, v in self.bools.values():
            c.append(z3.Implies(z3.Not(k), z3.Not(v)))
        c.append(z3.Implies(z3.Not(self.psym_k), z3.Not(any_of(list(self.psym.values())))))
        in_place = self.domains["primary.status"].index("in_place")
        c.append(z3.Implies(self.lr, self.enum["primary.status"] != in_place))
        c.append(z3.And(self.lr_res >= -1, self.lr_res < len(RESECTABLE)))
        c.append(z3.Implies(z3.Not(self.lr), z3.And(self.lr_res == -1, z3.Not(self.lrsym_k))))
        c.append(z3.Implies(z3.Not(self.lrsym_k), z3.Not(any_of(list(self.lrsym.values())))))
        for s in self.sites:
            present = self.site[s]
            c.append(z3.Implies(present, self.mk))
            c.append(z3.And(self.res[s] >= -1, self.res[s] < len(RESECTABLE)))
            c.append(
                z3.If(
                    present,
                    z3.Implies(self.count_k[s], self.count[s] >= 1),
                    z3.And(z3.Not(self.count_k[s]), self.res[s] == -1),
                )
            )
            c.append(z3.Implies(z3.Not(self.count_k[s]), self.count[s] == 1))
            c.append(z3.Implies(self.size_k[s], z3.And(present, self.size[s] >= 1, self.size[s] <= 300)))
            c.append(z3.Implies(z3.Not(self.size_k[s]), self.size[s] == 1))
            limit = MAX_COUNT * self.other_entries if s == "other" else MAX_COUNT
            c.append(self.count[s] <= limit)
        c.append(z3.And(self.other_entries >= 1, self.other_entries <= MAX_ENTRIES))
        entries = _count([self.site[s] for s in self.sites if s != "other"])
        c.append(entries + z3.If(self.site["other"], self.other_entries, 0) <= MAX_ENTRIES)
        c.append(z3.Or(self.lr, any_of(list(self.site.values()))))  # scope: stage 4 or recurrent
        # treatment history: sets of agents realisable as at most 20 lines of 1-10 agents each
        c.append(z3.And(self.lines >= 0, self.lines <= MAX_LINES))
        c.append(z3.Implies(z3.Not(self.lines_k), self.lines == 0))
        c.append(z3.Implies(self.ongoing, z3.And(self.lines_k, self.chunks[0] + self.chunks[1] < self.lines)))
        c.append(self._her2_result())
        anyone = []
        for d in self.drugs:
            a, p, i = self.agents[d], self.progressed[d], self.intolerant[d]
            c += [z3.Implies(p, a), z3.Implies(i, a), z3.Implies(z3.Not(self.lines_k), z3.Not(a))]
            anyone.append(a)
        c.append((self.lines >= 1) == any_of(anyone))
        groups = (
            [self.progressed[d] for d in self.drugs],
            [self.intolerant[d] for d in self.drugs],
            [z3.And(self.agents[d], z3.Not(self.progressed[d]), z3.Not(self.intolerant[d])) for d in self.drugs],
        )
        for chunk, members in zip(self.chunks, groups, strict=True):
            c += [chunk >= 0, MAX_AGENTS * chunk >= _count(members)]
        c.append(z3.Sum(list(self.chunks)) <= self.lines)
        c.append(z3.Implies(z3.Not(self.surg_k), z3.Not(any_of(list(self.surg.values())))))
        c.append(_count(list(self.surg.values())) <= MAX_SURGERIES)
        return c

    def _her2_result(self) -> Any:
        """A reported HER2 test fixes HER2 status (IHC 3+ or IHC 2+/ISH+ positive, otherwise negative)."""
        result, her2 = self.enum["biomarkers.her2_result"], self.enum["biomarkers.her2"]
        results, statuses = self.domains["biomarkers.her2_result"], self.domains["biomarkers.her2"]
        positive = z3.Or(*(result == results.index(r) for r in HER2_POSITIVE_RESULTS))
        return z3.Implies(result >= 0, her2 == z3.If(positive, statuses.index("positive"), statuses.index("negative")))

    # -- fields: what 'unchanged' and 'absent' mean, for why-not and minimal counterexamples ------------
    def fields(self) -> dict[str, list[Any]]:
        """Field name -> the variables that carry it (auxiliary counters excluded)."""
        out: dict[str, list[Any]] = {name: list(pair) for name, pair in self.ints.items()}
        out.update({name: list(pair) for name, pair in self.bools.items()})
        out.update({name: [var] for name, var in self.enum.items()})
        out["biomarkers.kras_variant"] = [self.kras_variant]
        out["primary.symptoms"] = [self.psym_k, *self.psym.values()]
        out["local_recurrence"] = [self.lr]
        out["local_recurrence.resectability"] = [self.lr_res]
        out["local_recurrence.symptoms"] = [self.lrsym_k, *self.lrsym.values()]
        out["metastases"] = [self.mk]
        for s in self.sites:
            out[f"metastases.{s}"] = [self.site[s]]
            out[f"metastases.{s}.count"] = [self.count_k[s], self.count[s]]
            out[f"metastases.{s}.resectability"] = [self.res[s]]
            out[f"metastases.{s}.largest_mm"] = [self.size_k[s], self.size[s]]
        out["prior.systemic_lines"] = [
            self.lines_k,
            self.lines,
            self.ongoing,
            *self.agents.values(),
            *self.progressed.values(),
            *self.intolerant.values(),
        ]
        out["prior.surgeries"] = [self.surg_k, *self.surg.values()]
        return out

    def absent(self) -> dict[str, Any]:
        """Field name -> 'this field is absent from the case JSON' (the simplest value)."""
        out: dict[str, Any] = {name: z3.Not(k) for name, (k, _) in {**self.ints, **self.bools}.items()}
        out.update({name: var == -1 for name, var in self.enum.items()})
        out.update(
            {
                "biomarkers.kras_variant": self.kras_variant == 0,
                "primary.symptoms": z3.Not(self.psym_k),
                "local_recurrence": z3.Not(self.lr),
                "local_recurrence.resectability": self.lr_res == -1,
                "local_recurrence.symptoms": z3.Not(self.lrsym_k),
                "metastases": z3.Not(self.mk),
                "prior.systemic_lines": z3.Not(self.lines_k),
                "prior.surgeries": z3.Not(self.surg_k),
            }
        )
        for s in self.sites:
            out[f"metastases.{s}"] = z3.Not(self.site[s])
            out[f"metastases.{s}.count"] = z3.Not(self.count_k[s])
            out[f"metastases.{s}.resectability"] = self.res[s] == -1
            out[f"metastases.{s}.largest_mm"] = z3.Not(self.size_k[s])
        return out

    def fix(self, case: Case) -> dict[str, list[Any]]:
        """Field name -> equalities pinning the variables to `case` (values of unknown parts left free).

        Branchy by design: one branch per field of contract 1, the inverse of `verify.casejson.model_case`."""
        b, h, p = case.biomarkers, case.health, case.prior
        out: dict[str, list[Any]] = {}

        def enum(name: str, value: str | None) -> None:
            out[name] = [self.enum[name] == (-1 if value is None else self.domains[name].index(value))]

        def tri_int(name: str, value: int | None) -> None:
            k, v = self.ints[name]
            out[name] = [k == (value is not None)] + ([v == value] if value is not None else [])

        def tri_bool(name: str, value: bool | None) -> None:
            k, v = self.bools[name]
            out[name] = [k == (value is not None)] + ([v == value] if value is not None else [])

        def symptoms(name: str, known: Any, members: dict[str, Any], values: tuple[str, ...] | None) -> None:
            out[name] = [known == (values is not None)] + [
                m == (values is not None and s in values) for s, m in members.items()
            ]

        tri_int("age", case.age)
        tri_int("ecog", case.ecog)
        tri_int("health.days_since_major_surgery", h.days_since_major_surgery)
        enum("primary.status", case.primary.status)
        symptoms("primary.symptoms", self.psym_k, self.psym, case.primary.symptoms)
        lr = case.local_recurrence
        out["local_recurrence"] = [self.lr == (lr is not None)]
        res = None if lr is None else lr.resectability
        out["local_recurrence.resectability"] = [self.lr_res == (-1 if res is None else RESECTABLE.index(res))]
        symptoms("local_recurrence.symptoms", self.lrsym_k, self.lrsym, None if lr is None else lr.symptoms)
        mets = case.metastases
        out["metastases"] = [self.mk == (mets is not None)]
        for s in self.sites:
            here = [m for m in (mets or ()) if m.site == s]
            out[f"metastases.{s}"] = [self.site[s] == bool(here)]
            counts = [m.count for m in here]
            known_count = bool(here) and None not in counts
            total = sum(c for c in counts if c is not None)
            out[f"metastases.{s}.count"] = [
                self.count_k[s] == known_count,
                self.count[s] == (total if known_count else 1),
            ]
            sizes = [m.largest_mm for m in here]
            known_size = bool(here) and None not in sizes
            largest = max((x for x in sizes if x is not None), default=1)
            out[f"metastases.{s}.largest_mm"] = [
                self.size_k[s] == known_size,
                self.size[s] == (largest if known_size else 1),
            ]
            worst = _worst([m.resectability for m in here]) if here else None
            out[f"metastases.{s}.resectability"] = [self.res[s] == (-1 if worst is None else RESECTABLE.index(worst))]
            if s == "other" and here:
                out["metastases.other"].append(self.other_entries == len(here))
        for name in ("kras", "nras", "braf", "mmr", "her2", "ntrk_fusion", "ret_fusion"):
            enum(f"biomarkers.{name}", getattr(b, name))
        variant = b.kras_variant
        out["biomarkers.kras_variant"] = [
            self.kras_variant == (0 if variant is None else 1 if variant == "G12C" else 2)
        ]
        tri_bool("prior.pelvic_radiation", p.pelvic_radiation)
        tri_bool("health.bleeding_risk", h.bleeding_risk)
        tri_bool("health.fit_for_intensive_therapy", h.fit_for_intensive_therapy)
        tri_bool("wants_clinical_trials", case.wants_clinical_trials)
        enum("health.dpyd", h.dpyd)
        for declared in DECLARED:
            value = case.value(declared.fact)
            if declared.kind == "enum":
                enum(declared.fact, value if isinstance(value, str) else None)
            elif declared.kind == "int":
                tri_int(declared.fact, value if isinstance(value, int) else None)
            else:
                tri_bool(declared.fact, value if isinstance(value, bool) else None)
        lines = p.systemic_lines
        agents = {a for line in lines or () for a in line.agents}
        prog = {a for line in lines or () for a in line.progressed_agents}
        intol = {a for line in lines or () if line.stopped_for == "intolerance" for a in line.agents}
        ongoing = bool(lines) and lines is not None and lines[-1].stopped_for == "ongoing"
        out["prior.systemic_lines"] = [
            self.lines_k == (lines is not None),
            self.lines == len(lines or ()),
            self.ongoing == ongoing,
        ]
        out["prior.systemic_lines"] += [self.agents[d] == (d in agents) for d in self.drugs]
        out["prior.systemic_lines"] += [self.progressed[d] == (d in prog) for d in self.drugs]
        out["prior.systemic_lines"] += [self.intolerant[d] == (d in intol) for d in self.drugs]
        surgeries = p.surgeries
        out["prior.surgeries"] = [self.surg_k == (surgeries is not None)]
        out["prior.surgeries"] += [self.surg[q] == (surgeries is not None and q in surgeries) for q in self.procedures]
        return out


def _worst(values: list[str | None]) -> str | None:
    known = [v for v in values if v is not None]
    if "unresectable" in known:
        return "unresectable"
    if len(known) < len(values) or not known:
        return None
    return max(known, key=RESECTABLE.index)


def case_facts(v: CaseVars) -> dict[str, Fact]:
    """The named facts of `rectoplan.core.facts`, derived from the case variables the same way.

    Long by design: one derivation per fact, mirroring `core.facts.case_facts` (the differential tests hold them
    equal)."""
    kb, schema = v.kb, v.kb.schema
    f: dict[str, Fact] = {}

    def idx(name: str, value: str) -> int:
        return schema[name].values.index(value)

    for name, (k, x) in v.ints.items():
        f[name] = Fact(k, "int", x)
    for name, (k, x) in v.bools.items():
        f[name] = Fact(k, "bool", x)
    for name, x in v.enum.items():
        f[name] = Fact(x >= 0, "enum", x, v.domains[name])
    sym_k = z3.Or(v.psym_k, z3.And(v.lr, v.lrsym_k))
    f["symptoms"] = Fact(
        sym_k,
        "set",
        {s: z3.Or(z3.And(v.psym_k, v.psym[s]), z3.And(v.lr, v.lrsym_k, v.lrsym[s])) for s in v.symptoms},
    )
    f["local_recurrence.present"] = Fact(TRUE, "bool", v.lr)
    none = len(RESECTABLE)  # index of 'none' in the resectability facts
    f["local_recurrence.resectability"] = Fact(z3.Or(z3.Not(v.lr), v.lr_res >= 0), "enum", z3.If(v.lr, v.lr_res, none))
    f["metastases.known"] = Fact(TRUE, "bool", v.mk)
    f["metastases.sites"] = Fact(v.mk, "set", dict(v.site))
    f["metastases.site_count"] = Fact(v.mk, "int", _count(list(v.site.values())))
    all_counts = _and([z3.Implies(v.site[s], v.count_k[s]) for s in v.sites])
    f["metastases.total_count"] = Fact(
        z3.And(v.mk, all_counts), "int", z3.Sum([z3.If(v.site[s], v.count[s], 0) for s in v.sites])
    )
    unres, pot = RESECTABLE.index("unresectable"), RESECTABLE.index("potentially_resectable")
    any_site = any_of(list(v.site.values()))
    m_unres = any_of([z3.And(v.site[s], v.res[s] == unres) for s in v.sites])
    m_unknown = any_of([z3.And(v.site[s], v.res[s] == -1) for s in v.sites])
    m_pot = any_of([z3.And(v.site[s], v.res[s] == pot) for s in v.sites])
    f["metastases.resectability"] = Fact(
        z3.And(v.mk, z3.Or(z3.Not(any_site), m_unres, z3.Not(m_unknown))),
        "enum",
        z3.If(z3.Not(any_site), none, z3.If(m_unres, unres, z3.If(m_pot, pot, 0))),
    )
    for s in v.sites:
        f[f"metastases.{s}.count"] = Fact(
            z3.And(v.mk, z3.Or(z3.Not(v.site[s]), v.count_k[s])), "int", z3.If(v.site[s], v.count[s], 0)
        )
        f[f"metastases.{s}.resectability"] = Fact(
            z3.And(v.mk, z3.Or(z3.Not(v.site[s]), v.res[s] >= 0)), "enum", z3.If(v.site[s], v.res[s], none)
        )
        f[f"metastases.{s}.largest_mm"] = Fact(
            z3.And(v.mk, z3.Or(z3.Not(v.site[s]), v.size_k[s])), "int", z3.If(v.site[s], v.size[s], 0)
        )
    d_unres = z3.Or(z3.And(v.lr, v.lr_res == unres), z3.And(v.mk, m_unres))
    d_unknown = z3.Or(z3.And(v.lr, v.lr_res == -1), z3.Not(v.mk), m_unknown)
    d_empty = z3.And(z3.Not(v.lr), v.mk, z3.Not(any_site))
    d_pot = z3.Or(z3.And(v.lr, v.lr_res == pot), z3.And(v.mk, m_pot))
    f["disease.resectability"] = Fact(
        z3.Or(d_unres, z3.And(z3.Not(d_unknown), z3.Not(d_empty))),
        "enum",
        z3.If(d_unres, unres, z3.If(d_pot, pot, 0)),
    )
    kras, nras = v.enum["biomarkers.kras"], v.enum["biomarkers.nras"]
    wt, mut = idx("biomarkers.ras", "wild_type"), idx("biomarkers.ras", "mutant")
    k_wt, k_mut = kras == idx("biomarkers.kras", "wild_type"), kras == idx("biomarkers.kras", "mutant")
    n_wt, n_mut = nras == idx("biomarkers.nras", "wild_type"), nras == idx("biomarkers.nras", "mutant")
    f["biomarkers.ras"] = Fact(
        z3.Or(k_mut, n_mut, z3.And(k_wt, n_wt)),
        "enum",
        z3.If(z3.Or(k_mut, n_mut), mut, wt),
        schema["biomarkers.ras"].values,
    )
    f["biomarkers.kras_g12c"] = Fact(z3.Or(v.kras_variant != 0, k_wt), "bool", v.kras_variant == 1)
    f["prior.systemic_recorded"] = Fact(TRUE, "bool", v.lines_k)
    f["prior.line_count"] = Fact(TRUE, "int", v.lines)
    f["prior.ongoing_line"] = Fact(v.lines_k, "bool", v.ongoing)
    f["prior.agents"] = Fact(TRUE, "set", dict(v.agents))
    f["prior.progressed_agents"] = Fact(TRUE, "set", dict(v.progressed))
    f["prior.intolerant_agents"] = Fact(TRUE, "set", dict(v.intolerant))
    f["prior.classes"] = Fact(
        TRUE,
        "set",
        {
            c: any_of([v.agents[d] for d in v.drugs if c in kb.drug_classes.get(d, ())])
            for c in schema["prior.classes"].values
        },
    )
    f["prior.progressed_classes"] = Fact(
        TRUE,
        "set",
        {
            c: any_of([v.progressed[d] for d in v.drugs if kb.resistance_class.get(d) == c])
            for c in schema["prior.progressed_classes"].values
        },
    )
    f["prior.surgeries"] = Fact(v.surg_k, "set", dict(v.surg))
    for name, fact in list(f.items()):  # enum domains from the schema, so literals index the same list
        if fact.kind == "enum" and not fact.domain:
            f[name] = Fact(fact.known, "enum", fact.value, schema[name].values)
    return f


class Conditions:
    """Compiles conditions of the rule language to (is TRUE, is FALSE) pairs over an environment of facts."""

    def __init__(self, env: Mapping[str, Fact]) -> None:
        self.env = env
        self.memo: dict[Condition, Tri] = {}

    def tri(self, cond: Condition) -> Tri:
        hit = self.memo.get(cond)
        if hit is None:
            hit = self._tri(cond)
            self.memo[cond] = hit
        return hit

    def _tri(self, cond: Condition) -> Tri:
        match cond:
            case Const():
                return (TRUE, FALSE) if cond.value else (FALSE, TRUE)
            case Not():
                t, f = self.tri(cond.item)
                return f, t
            case All():
                parts = [self.tri(i) for i in cond.items]
                return _and([t for t, _ in parts]), any_of([f for _, f in parts])
            case AnyOf():
                parts = [self.tri(i) for i in cond.items]
                return any_of([t for t, _ in parts]), _and([f for _, f in parts])
            case Count():
                parts = [self.tri(i) for i in cond.items]
                true = _count([t for t, _ in parts])
                unknown = _count([z3.And(z3.Not(t), z3.Not(f)) for t, f in parts])
                return _count_tri(cond.op, cond.n, true, true + unknown)
            case Test():
                return self._test(cond)
            case _:
                assert_never(cond)

    def _test(self, t: Test) -> Tri:
        fact = self.env.get(t.fact)
        if fact is None:  # a fact not available here (e.g. plan.intent inside an intent rule): unknown
            return (
                z3.BoolVal(t.op == "known" and t.value is False),
                z3.BoolVal(t.op == "known" and t.value is True),
            )
        if t.op == "known":
            yes = fact.known if t.value else z3.Not(fact.known)
            return yes, z3.Not(yes)
        if isinstance(t.value, OptionRef):
            raise ValueError(f"unbound option reference in a test of {t.fact}")
        p = _predicate(t, fact)
        return z3.And(fact.known, p), z3.And(fact.known, z3.Not(p))


def _count_tri(op: str, n: int, low: Any, high: Any) -> Tri:
    """Decided iff every count in [low, high] gives the same answer (as `conditions.count_result`)."""
    if op == "ge":
        return low >= n, high < n
    if op == "gt":
        return low > n, high <= n
    if op == "le":
        return high <= n, low > n
    if op == "lt":
        return high < n, low >= n
    exact = z3.And(low == n, high == n)
    outside = z3.Or(low > n, high < n)
    return (exact, outside) if op == "eq" else (outside, exact)


def _scalar(fact: Fact, value: Any) -> Any:
    if fact.kind == "enum":
        return fact.domain.index(value) if value in fact.domain else None
    return value


def _equals(fact: Fact, value: Any) -> Any:
    lit = _scalar(fact, value)
    if lit is None:
        return FALSE
    if fact.kind == "bool":
        return fact.value if lit else z3.Not(fact.value)
    return fact.value == lit


def _predicate(t: Test, fact: Fact) -> Any:
    op, value = t.op, t.value
    if fact.kind == "set":
        members: dict[str, Any] = fact.value
        if op == "contains":
            return members.get(value, FALSE)
        items = [members.get(x, FALSE) for x in value]
        return any_of(items) if op == "contains_any" else _and(items)
    if op == "is":
        return _equals(fact, value)
    if op == "is_not":
        return z3.Not(_equals(fact, value))
    if op in ("in", "not_in"):
        inside = any_of([_equals(fact, x) for x in value])
        return inside if op == "in" else z3.Not(inside)
    x = fact.value
    return {
        "eq": x == value,
        "ne": x != value,
        "lt": x < value,
        "le": x <= value,
        "gt": x > value,
        "ge": x >= value,
    }[op]


@dataclass
class OptionTerms:
    """One option's decision as z3 terms."""

    option: Option
    status: Any  # Int: index into STATUSES
    chosen: list[Any]  # per setting: this setting selected the option
    gates: list[Tri]
    cautions: list[Tri]
    outcome: dict[str, Fact] = field(default_factory=dict)

    @property
    def offered(self) -> Any:
        return self.status == STATUSES.index("offered")


class Engine:
    """The whole engine for one knowledge base, symbolically: `facts`, intent, every option's outcome."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.case = CaseVars(kb)
        self.facts = case_facts(self.case)
        intents = kb.schema["plan.intent"].values
        before = Conditions(self.facts)  # plan.intent is not yet known while intent rules run
        chosen = [(before.tri(r.when)[0], z3.IntVal(intents.index(r.intent))) for r in kb.intents]
        self.intent = _choose(chosen, z3.IntVal(intents.index(kb.intents[-1].intent)))
        self.env = {**self.facts, "plan.intent": Fact(TRUE, "enum", self.intent, intents)}
        self.conditions = Conditions(self.env)
        self.options = {o.id: self._option(o) for o in kb.options}
        shown = {}
        for c in kb.global_cautions:
            t, f = self.conditions.tri(c.when)
            shown[c.id] = z3.Or(
                z3.And(t, z3.BoolVal(bool(c.text))), z3.And(z3.Not(t), z3.Not(f), z3.BoolVal(bool(c.unknown)))
            )
        self.plan = {**self.env, "plan.warnings": Fact(TRUE, "set", shown)}

    def _option(self, option: Option) -> OptionTerms:
        tri = self.conditions.tri
        settings = [tri(s.when)[0] for s in option.settings]
        chosen = [z3.And(t, z3.Not(any_of(settings[:i]))) for i, t in enumerate(settings)]
        gates = [tri(g.when) for g in option.gates]
        failed, excluded, held, warned = [], [], [], []
        for g, (t, f) in zip(option.gates, gates, strict=True):
            unknown = z3.And(z3.Not(t), z3.Not(f))
            failed.append(f if g.effect == "requires" else FALSE)
            excluded.append(t if g.effect == "excludes" else FALSE)
            held.append(unknown if g.on_unknown == "hold" else FALSE)
            warned.append(unknown if g.on_unknown == "warn" else FALSE)
        code = STATUSES.index
        status = z3.If(
            z3.Not(any_of(settings)),
            code("not_applicable"),
            z3.If(
                any_of(failed),
                code("not_indicated"),
                z3.If(any_of(excluded), code("excluded"), z3.If(any_of(held), code("held"), code("offered"))),
            ),
        )
        terms = OptionTerms(option, status, chosen, gates, [tri(c.when) for c in option.cautions])
        terms.outcome = self._outcome(terms, excluded, held, warned)
        return terms

    def _outcome(self, o: OptionTerms, excluded: list[Any], held: list[Any], warned: list[Any]) -> dict[str, Fact]:
        option, offered = o.option, o.offered

        def pick(domain: tuple[str, ...], value: Any) -> Any:
            return _choose(
                [(c, value(s)) for c, s in zip(o.chosen, option.settings, strict=True)],
                z3.IntVal(domain.index(NONE)),
            )

        phase_d, strength_d, intent_d = (*PHASES, NONE), (*STRENGTHS, NONE), (*INTENTS, NONE)
        warnings: dict[str, list[Any]] = {}
        notes: dict[str, list[Any]] = {}
        for g, w in zip(option.gates, warned, strict=True):
            if g.unknown:
                warnings.setdefault(g.id, []).append(w)
        for c, (t, f) in zip(option.cautions, o.cautions, strict=True):
            if c.text:
                (warnings if c.severity == "warning" else notes).setdefault(c.id, []).append(t)
            if c.unknown:
                warnings.setdefault(c.id, []).append(z3.And(z3.Not(t), z3.Not(f)))
        cited_offered = z3.And(
            z3.BoolVal(bool(option.cite)),
            any_of([c for c, s in zip(o.chosen, option.settings, strict=True) if s.cite]),
        )
        cited_excluded = _and(
            [z3.Implies(e, z3.BoolVal(bool(g.cite))) for g, e in zip(option.gates, excluded, strict=True)]
        )
        cited_held = _and([z3.Implies(h, z3.BoolVal(bool(g.cite))) for g, h in zip(option.gates, held, strict=True)])
        code = STATUSES.index
        cited = z3.If(
            offered,
            cited_offered,
            z3.If(
                o.status == code("excluded"),
                cited_excluded,
                z3.If(o.status == code("held"), cited_held, TRUE),
            ),
        )
        return {
            "outcome.status": Fact(TRUE, "enum", o.status, STATUSES),
            "outcome.phase": Fact(TRUE, "enum", pick(phase_d, lambda s: phase_d.index(s.phase)), phase_d),
            "outcome.strength": Fact(
                TRUE, "enum", pick(strength_d, lambda s: strength_d.index(s.strength)), strength_d
            ),
            "outcome.intent": Fact(
                TRUE,
                "enum",
                pick(intent_d, lambda s: z3.IntVal(intent_d.index(s.intent)) if s.intent else self.intent),
                intent_d,
            ),
            "outcome.warnings": Fact(
                TRUE,
                "set",
                {i: z3.And(offered, any_of(warnings.get(i, []))) for i in (*gate_ids(self.kb), *caution_ids(self.kb))},
            ),
            "outcome.notes": Fact(
                TRUE, "set", {i: z3.And(offered, any_of(notes.get(i, []))) for i in caution_ids(self.kb)}
            ),
            "outcome.cited": Fact(TRUE, "bool", cited),
        }

    def env_for(self, option_id: str | None) -> dict[str, Fact]:
        """Facts an invariant reads: the plan's, plus the outcome of one option."""
        if option_id is None:
            return self.plan
        return {**self.plan, **self.options[option_id].outcome}
