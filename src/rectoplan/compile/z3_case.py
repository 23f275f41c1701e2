"""The case as z3 variables: every field a case can give, its domain, the contract's constraints, and the
facts derived from it exactly as `rectoplan.core.facts.case_facts` derives them (the verifier's half of a
case; `rectoplan.compile.z3_smt` compiles the rules and the engine over these facts).

**Case fields, not facts, are the variables.** Every field becomes z3 variables with an explicit 'absent'
state (an enum index of -1, or a `known` flag), constrained by the contract (ranges, scope, `kras_variant`
only with mutant KRAS, a local recurrence only after a resected primary, how many lines and metastasis
entries a case can list). The scalar fields, their domains and how a case pins them come from the field
table (`rectoplan.core.fields.FIELDS`); the list-shaped parts (symptoms, metastases, lines, operations)
are modelled here by hand. Every model of the solver is a real case and maps back to a case JSON that
reproduces through `rectoplan recommend` (`rectoplan.verify.casejson`). Each site of metastasis is
modelled once (repeated 'other' entries as one aggregated entry), which covers every combination of facts
the engine can see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3

from rectoplan.adapters._case_json_checks import EXCLUSIVE, IN_PLACE_ONLY, SINCE_LAST_LINE
from rectoplan.core.case import SITES, SYMPTOMS, Case
from rectoplan.core.facts import RESECTABLE
from rectoplan.core.fields import FIELDS, HER2_POSITIVE_RESULTS, DeclaredField
from rectoplan.core.knowledge import KnowledgeBase

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


def all_of(items: list[Any]) -> Any:
    return z3.And(*items) if items else TRUE


def count_of(bools: list[Any]) -> Any:
    return z3.Sum([z3.If(b, 1, 0) for b in bools]) if bools else z3.IntVal(0)


def choose(cases: list[tuple[Any, Any]], default: Any) -> Any:
    """If-chain: the value of the first true guard."""
    out = default
    for guard, value in reversed(cases):
        out = z3.If(guard, value, out)
    return out


class CaseVars:
    """The z3 variables of one case, grouped into the fields a clinician would change."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """The z3 variables of a case: the table's fields, then one group per list-shaped part."""
        self.kb = kb
        self.sites, self.symptoms = SITES, SYMPTOMS
        self.drugs = tuple(kb.vocabulary.drugs)
        self.procedures = tuple(kb.vocabulary.procedures)
        # The table's scalar fields (`rectoplan.core.fields`): one variable each (and a `known` flag for
        # ints and yes/no fields), over the field's domain.
        self.domains: dict[str, tuple[str, ...]] = {f.fact: f.values for f in FIELDS if f.kind == "enum"}
        B, I = z3.Bool, z3.Int  # noqa: E741 - short names for the z3 constructors
        self.enum = {name: I(name) for name in self.domains}  # -1 = absent (unknown)
        self.kras_variant = I("biomarkers.kras_variant")  # 0 absent, 1 G12C, 2 another variant
        self.int_bounds = {f.fact: (f.low, f.high) for f in FIELDS if f.kind == "int"}
        self.ints = {name: (B(f"{name}?"), I(name)) for name in self.int_bounds}
        self.bools = {f.fact: (B(f"{f.fact}?"), B(f.fact)) for f in FIELDS if f.kind == "bool"}
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
        self.running = {d: B(f"prior.ongoing.{d}") for d in self.drugs}  # drugs of the ongoing (last) line
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
        entries = count_of([self.site[s] for s in self.sites if s != "other"])
        c.append(entries + z3.If(self.site["other"], self.other_entries, 0) <= MAX_ENTRIES)
        c.append(z3.Or(self.lr, any_of(list(self.site.values()))))  # scope: stage 4 or recurrent
        # treatment history: sets of agents realisable as at most 20 lines of 1-10 agents each
        c.append(z3.And(self.lines >= 0, self.lines <= MAX_LINES))
        c.append(z3.Implies(z3.Not(self.lines_k), self.lines == 0))
        c.append(z3.Implies(self.ongoing, z3.And(self.lines_k, z3.Sum(list(self.chunks)) < self.lines)))
        running = list(self.running.values())
        c.append(z3.If(self.ongoing, count_of(running) >= 1, z3.Not(any_of(running))))
        c.append(count_of(running) <= MAX_AGENTS)
        c.append(self._her2_result())
        anyone = []
        for d in self.drugs:
            a, p, i = self.agents[d], self.progressed[d], self.intolerant[d]
            c += [z3.Implies(p, a), z3.Implies(i, a), z3.Implies(z3.Not(self.lines_k), z3.Not(a))]
            c.append(z3.Implies(self.running[d], a))
            anyone.append(a)
        c.append((self.lines >= 1) == any_of(anyone))
        groups = (
            [self.progressed[d] for d in self.drugs],
            [self.intolerant[d] for d in self.drugs],
            [
                z3.And(self.agents[d], z3.Not(self.progressed[d]), z3.Not(self.intolerant[d]), z3.Not(self.running[d]))
                for d in self.drugs
            ],
        )
        c += [chunk >= 0 for chunk in self.chunks]
        # A line stopped for progression during maintenance names the drugs it progressed on
        # (`SystemicLine.progressed_on`): its other drugs, neither progressed nor stopped for intolerance,
        # sit in that progression line, so the progression and other lines hold both groups together.
        c.append(MAX_AGENTS * self.chunks[0] >= count_of(groups[0]))
        c.append(MAX_AGENTS * self.chunks[1] >= count_of(groups[1]))
        c.append(MAX_AGENTS * (self.chunks[0] + self.chunks[2]) >= count_of(groups[0]) + count_of(groups[2]))
        c.append(z3.Sum(list(self.chunks)) <= self.lines)
        c.append(z3.Implies(z3.Not(self.surg_k), z3.Not(any_of(list(self.surg.values())))))
        c.append(count_of(list(self.surg.values())) <= MAX_SURGERIES)
        apr = self.surg.get("abdominoperineal_resection")
        if apr is not None:  # the operation removed the primary and left a permanent colostomy
            stoma_k, stoma = self.bools["primary.stoma"]
            c.append(z3.Implies(apr, z3.And(self.enum["primary.status"] != in_place, z3.Implies(stoma_k, stoma))))
        c += self._primary_in_place_and_running_line()
        c += self._exclusive_and_growth_without_a_line()
        return c

    def _exclusive_and_growth_without_a_line(self) -> list[Any]:
        """No two yes/no fields with values that exclude each other, and no growth recorded (either way) since
        a last line the case records as none (`adapters._case_json_checks.EXCLUSIVE`;
        `_case_json_derive._growth_after_no_line`, stop 19)."""
        grown_k, _ = self.bools[SINCE_LAST_LINE]
        c = [z3.Not(z3.And(grown_k, self.lines_k, self.lines == 0))]
        for e in EXCLUSIVE:
            (known, value), (other_known, other) = self.bools[e.field], self.bools[e.other]
            c.append(z3.Not(z3.And(known, value == e.value, other_known, other == e.other_value)))
        return c

    def _primary_in_place_and_running_line(self) -> list[Any]:
        """The MRI staging and the resectability of the primary only for a primary not resected, and no growth
        recorded since a line that still runs (`adapters._case_json_checks`, review 14 F7 and F13)."""
        resected = self.enum["primary.status"] == self.domains["primary.status"].index("resected")
        recorded = [
            self.enum[f"primary.{name}"] >= 0 if f"primary.{name}" in self.enum else self.bools[f"primary.{name}"][0]
            for name in IN_PLACE_ONLY
        ]
        grown_k, grown = self.bools[SINCE_LAST_LINE]
        return [
            z3.Implies(resected, z3.Not(z3.Or(*recorded))),
            z3.Not(z3.And(self.ongoing, grown_k, grown)),
        ]

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
            *self.running.values(),
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

        The table's fields pinned alike, the list-shaped parts one branch each (the inverse of
        `verify.casejson.model_case`). The order is the one why-not weighs equally small changes in and
        lists them (kept from when contract 1 was written out here): the numbers, the primary, the lesions,
        the biomarkers, the yes/no fields, the rest of contract 1, contract 2, the history."""
        pins = {f.fact: self._pin(f, case.value(f.fact)) for f in FIELDS}
        out: dict[str, list[Any]] = {}

        def take(keep: Callable[[DeclaredField], bool]) -> None:
            for f in FIELDS:
                if f.fact in pins and keep(f):
                    out[f.fact] = pins.pop(f.fact)

        def symptoms(name: str, known: Any, members: dict[str, Any], values: tuple[str, ...] | None) -> None:
            out[name] = [known == (values is not None)] + [
                m == (values is not None and s in values) for s, m in members.items()
            ]

        take(lambda f: f.contract == 1 and f.kind == "int")
        take(lambda f: f.contract == 1 and f.section == "primary")
        symptoms("primary.symptoms", self.psym_k, self.psym, case.primary.symptoms)
        lr = case.local_recurrence
        out["local_recurrence"] = [self.lr == (lr is not None)]
        res = None if lr is None else lr.resectability
        out["local_recurrence.resectability"] = [self.lr_res == (-1 if res is None else RESECTABLE.index(res))]
        symptoms("local_recurrence.symptoms", self.lrsym_k, self.lrsym, None if lr is None else lr.symptoms)
        self._fix_metastases(case, out)
        take(lambda f: f.contract == 1 and f.section == "biomarkers")
        variant = case.biomarkers.kras_variant
        out["biomarkers.kras_variant"] = [
            self.kras_variant == (0 if variant is None else 1 if variant == "G12C" else 2)
        ]
        take(lambda f: f.contract == 1 and f.kind == "bool")
        take(lambda f: f.contract == 1)
        take(lambda f: True)
        self._fix_history(case, out)
        return out

    def _pin(self, f: DeclaredField, value: object) -> list[Any]:
        """Equalities fixing one field of the table at `value` (None: absent)."""
        if f.kind == "enum":
            return [self.enum[f.fact] == (-1 if value is None else self.domains[f.fact].index(str(value)))]
        k, v = (self.ints if f.kind == "int" else self.bools)[f.fact]
        return [k == (value is not None)] + ([v == value] if value is not None else [])

    def _fix_metastases(self, case: Case, out: dict[str, list[Any]]) -> None:
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

    def _fix_history(self, case: Case, out: dict[str, list[Any]]) -> None:
        p = case.prior
        lines = p.systemic_lines
        agents = {a for line in lines or () for a in line.agents}
        prog = {a for line in lines or () for a in line.progressed_agents}
        intol = {a for line in lines or () if line.stopped_for == "intolerance" for a in line.agents}
        ongoing = bool(lines) and lines is not None and lines[-1].stopped_for == "ongoing"
        running = set(lines[-1].agents) if lines and ongoing else set()
        out["prior.systemic_lines"] = [
            self.lines_k == (lines is not None),
            self.lines == len(lines or ()),
            self.ongoing == ongoing,
        ]
        out["prior.systemic_lines"] += [self.agents[d] == (d in agents) for d in self.drugs]
        out["prior.systemic_lines"] += [self.progressed[d] == (d in prog) for d in self.drugs]
        out["prior.systemic_lines"] += [self.intolerant[d] == (d in intol) for d in self.drugs]
        out["prior.systemic_lines"] += [self.running[d] == (d in running) for d in self.drugs]
        surgeries = p.surgeries
        out["prior.surgeries"] = [self.surg_k == (surgeries is not None)]
        out["prior.surgeries"] += [self.surg[q] == (surgeries is not None and q in surgeries) for q in self.procedures]


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
    f["metastases.site_count"] = Fact(v.mk, "int", count_of(list(v.site.values())))
    all_counts = all_of([z3.Implies(v.site[s], v.count_k[s]) for s in v.sites])
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
    f["prior.ongoing_agents"] = Fact(TRUE, "set", dict(v.running))
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
