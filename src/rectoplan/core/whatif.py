"""What would change the plan: for each unknown case field a rule reads, the effect of each value.

For every field of the case that is unknown (absent), each possible value is tried as a *probe*: the
case with that value filled in. A probe re-derives the facts (by patching the one fact for fields that
are exactly one fact, through `case_facts` for derived ones), re-decides the intent only if an intent
rule reads a changed fact, and re-evaluates only the options whose settings or gates read a changed
fact; every other option keeps its outcome. Each probe yields the options that would be added, removed
or re-ranked (their own strength or priority changes); fields are ordered by how much they change.
Integer fields (age, ECOG, days since surgery, metastasis counts) are probed once per range between the
thresholds the rules use, and neighbouring ranges with the same effect are merged.

Pure: standard library only, no I/O; the same case and knowledge always give the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rectoplan.core.case import SITES, SYMPTOMS, Case, Metastasis
from rectoplan.core.conditions import Condition, facts_read, literals
from rectoplan.core.facts import RESECTABLE, Facts, case_facts
from rectoplan.core.fields import BY_FACT, DECLARED
from rectoplan.core.knowledge import KnowledgeBase, Option
from rectoplan.core.recommendation import Change
from rectoplan.core.schema import STRENGTHS

if TYPE_CHECKING:
    from rectoplan.core.engine import Assessment, OptionOutcome

_STRENGTH = {s: i for i, s in enumerate(STRENGTHS)}
_PHASE_WORDS = {"first_line": "first-line", "second_line": "second-line", "later_line": "later-line", "any": ""}
_INT_RANGE = {"age": (18, 120), "ecog": (0, 4), "health.days_since_major_surgery": (0, 36500)}
# Fields that are exactly one fact of the same name (see facts.py): a probe patches that fact only.
_DIRECT_BOOLS = (
    "health.bleeding_risk",
    "health.fit_for_intensive_therapy",
    "prior.pelvic_radiation",
    "wants_clinical_trials",
)


@dataclass(frozen=True, slots=True)
class Probe:
    """One hypothetical value of one unknown field; `case` has it filled in. `patch` is set when the field
    is exactly one fact (the probe then patches that fact instead of re-deriving all facts); `span` =
    (low, high, domain maximum) for a range of an integer field."""

    fact: str
    condition: str
    built: Case | None  # the changed case (None for a patch: built on demand from `origin`)
    patch: tuple[str, Any] | None = None
    span: tuple[int, int, int] | None = None
    origin: Case | None = None

    @property
    def case(self) -> Case:
        """The case with the probed value filled in."""
        if self.built is not None:
            return self.built
        assert self.origin is not None and self.patch is not None
        return _set(self.origin, *self.patch)


@dataclass(frozen=True, slots=True)
class Effect:
    intent: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    reranked: tuple[str, ...]
    top: str | None = None  # the new first option, when it is a different one
    top_words: str = ""  # its strength and phase, e.g. "preferred first-line"

    @property
    def size(self) -> int:
        return len(self.added) + len(self.removed) + len(self.reranked) + 2 * (self.top is not None)


def _set(case: Case, name: str, value: Any) -> Case:
    """The case with one (possibly nested, one level) field replaced."""
    if name in BY_FACT:
        declared = {**dict(case.declared), name: value}
        return replace(case, declared=tuple(sorted((k, v) for k, v in declared.items() if v is not None)))
    part, _, key = name.rpartition(".")
    if not part:
        return replace(case, **{key: value})
    return replace(case, **{part: replace(getattr(case, part), **{key: value})})


def _get(case: Case, name: str) -> Any:
    if name in BY_FACT:
        return case.value(name)
    part, _, key = name.rpartition(".")
    return getattr(getattr(case, part) if part else case, key)


def _thresholds(kb: KnowledgeBase, facts: Iterable[str]) -> dict[str, set[int]]:
    """Values at which a rule's answer about an integer fact can change (for every literal v: v and v+1)."""
    wanted = set(facts)
    found: dict[str, set[int]] = {f: set() for f in wanted}
    unique: dict[int, Condition] = {id(r.when): r.when for r in kb.intents}  # gates are shared: walk once
    for option in kb.options:
        for s in option.settings:
            if not wanted.isdisjoint(s.reads):
                unique[id(s.when)] = s.when
        for g in option.gates:
            if not wanted.isdisjoint(g.reads):
                unique[id(g.when)] = g.when
    for cond in unique.values():
        for fact, value in literals(cond):
            if fact in wanted and isinstance(value, int) and not isinstance(value, bool):
                found[fact] |= {value, value + 1}
    return found


def _all_thresholds(kb: KnowledgeBase) -> dict[str, set[int]]:
    """The thresholds of every integer field a probe can range over: found once per knowledge base."""
    cached: dict[str, set[int]] | None = kb.memo.get("whatif-thresholds")
    if cached is None:
        wide = [name for name in _INT_RANGE if name != "ecog"]  # ECOG's five values are simply all probed
        wide += [f.fact for f in DECLARED if f.kind == "int"]
        sites = [f"metastases.{site}.count" for site in SITES]
        cached = _thresholds(kb, [*wide, *sites, "metastases.total_count"])
        cached["ecog"] = set(range(5))
        kb.memo["whatif-thresholds"] = cached
    return cached


def _range_text(fact: str, low: int, high: int, top: int) -> str:
    if low == high:
        return f"{fact} = {low}"
    return f"{fact} >= {low}" if high == top else f"{fact} in {low}..{high}"


def _int_probes(
    fact: str, low: int, high: int, cuts: set[int], build: Callable[[int], Case] | None, origin: Case | None
) -> list[Probe]:
    """One probe per range of values between the rules' thresholds (all values of a range act alike)."""
    points = sorted({low} | {c for c in cuts if low < c <= high})
    out = []
    for i, start in enumerate(points):
        end = points[i + 1] - 1 if i + 1 < len(points) else high
        text = _range_text(fact, start, end, high)
        if build is None:  # a field that is exactly one fact
            out.append(Probe(fact, text, None, (fact, start), (start, end, high), origin))
        else:
            out.append(Probe(fact, text, build(start), None, (start, end, high)))
    return out


def _direct(case: Case, name: str, values: Iterable[Any]) -> list[Probe]:
    out = []
    for value in values:
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(Probe(name, f"{name} = {shown}", None, (name, value), origin=case))
    return out


def _pair_probes(case: Case) -> list[Probe]:
    """Facts that decide together, probed together: RAS (KRAS and NRAS) and BRAF are reported by one
    panel, and anti-EGFR therapy needs all of them wild-type, so probing each alone never shows it."""
    b = case.biomarkers
    if b.braf is not None or (b.kras is not None and b.nras is not None):
        return []
    if "mutant" in (b.kras, b.nras):
        return []
    changed = replace(
        case, biomarkers=replace(b, kras="wild_type", nras="wild_type", braf="wild_type", kras_variant=None)
    )
    text = "biomarkers.ras_braf = wild_type (KRAS, NRAS and BRAF V600E all wild-type)"
    return [Probe("biomarkers.ras_braf", text, changed)]


def _wait_probes(case: Case, cuts: dict[str, set[int]]) -> list[Probe]:
    """Waiting periods: a known count of days since major surgery below a rule's threshold (e.g. anti-VEGF
    therapy 28 days after surgery) is probed at each later threshold, as 'in N days'."""
    fact = "health.days_since_major_surgery"
    days = _get(case, fact)
    if days is None:
        return []
    points = cuts.get(fact, set())  # a literal v gives v and v + 1: the wait ends at v
    later = sorted(c for c in points if c > days and c - 1 not in points)
    return [Probe(fact, f"{fact} = {c} (in {c - days} days)", None, (fact, c), origin=case) for c in later[:2]]


def probes(case: Case, kb: KnowledgeBase) -> list[Probe]:
    """Every hypothetical value of every unknown field of `case`; each probe is itself a valid case.

    Branchy by design: one branch per kind of unknown field (scalar, declared, list, biomarker)."""
    out: list[Probe] = []
    b, p = case.biomarkers, case.prior
    ints = [name for name in _INT_RANGE if _get(case, name) is None]
    cuts = _all_thresholds(kb)
    for name in ints:
        low, high = _INT_RANGE[name]
        out += _int_probes(name, low, high, cuts[name], None, case)
    out += _wait_probes(case, cuts)
    if case.primary.status is None:
        allowed = ("resected",) if case.local_recurrence is not None else ("in_place", "resected")
        out += _direct(case, "primary.status", allowed)
    lr = case.local_recurrence
    if case.primary.symptoms is None and (lr is None or lr.symptoms is None):
        out.append(Probe("symptoms", "symptoms = none", _set(case, "primary.symptoms", ())))
        out += [Probe("symptoms", f"symptoms = {s}", _set(case, "primary.symptoms", (s,))) for s in SYMPTOMS]
    if lr is not None and lr.resectability is None:
        fact = "local_recurrence.resectability"
        out += [
            Probe(fact, f"{fact} = {r}", replace(case, local_recurrence=replace(lr, resectability=r)))
            for r in RESECTABLE
        ]
    out += _metastasis_probes(case, cuts)
    if b.kras is None:
        for value, variant, text in (
            ("wild_type", None, "wild_type"),
            ("mutant", None, "mutant"),
            ("mutant", "G12C", "mutant (G12C)"),
        ):
            changed = replace(case, biomarkers=replace(b, kras=value, kras_variant=variant))
            out.append(Probe("biomarkers.kras", f"biomarkers.kras = {text}", changed))
    elif b.kras == "mutant" and b.kras_variant is None:
        for variant, text in (("G12C", "true"), ("G12D", "false")):
            changed = _set(case, "biomarkers.kras_variant", variant)
            out.append(Probe("biomarkers.kras_g12c", f"biomarkers.kras_g12c = {text}", changed))
    if b.nras is None:
        out += [
            Probe("biomarkers.nras", f"biomarkers.nras = {v}", _set(case, "biomarkers.nras", v))
            for v in ("wild_type", "mutant")
        ]
    out += _pair_probes(case)
    for name in (
        "biomarkers.braf",
        "biomarkers.mmr",
        "biomarkers.her2",
        "biomarkers.ntrk_fusion",
        "biomarkers.ret_fusion",
        "health.dpyd",
    ):
        if _get(case, name) is None:
            out += _direct(case, name, kb.schema[name].values)
    for name in _DIRECT_BOOLS:
        if _get(case, name) is None:
            out += _direct(case, name, (True, False))
    out += _declared_probes(case, kb, cuts)
    if p.systemic_lines is None:
        text = "prior.systemic_lines = none (no earlier systemic therapy)"
        out.append(Probe("prior.systemic_lines", text, _set(case, "prior.systemic_lines", ())))
    if p.surgeries is None:
        out.append(Probe("prior.surgeries", "prior.surgeries = none", _set(case, "prior.surgeries", ())))
        rules = [r.when for o in kb.options for r in o.settings if "prior.surgeries" in r.reads]
        rules += [r.when for o in kb.options for r in o.gates if "prior.surgeries" in r.reads]
        named = {v for when in rules for f, v in literals(when) if f == "prior.surgeries"}
        out += [
            Probe("prior.surgeries", f"prior.surgeries = {proc}", _set(case, "prior.surgeries", (proc,)))
            for proc in sorted(named)
        ]
    return out


# A HER2 test result also sets HER2 status: probing HER2 status itself covers it. The patient's wishes and
# comorbidities are what the team records when present; their absence is "not recorded", and listing
# "if the patient declined chemotherapy" under every plan would bury the tests and waits that matter.
# The treatment history is the past, not a test to order: of its facts only the time on an ongoing line
# (a wait: maintenance after 4-6 months of induction) is probed.
_NOT_PROBED = frozenset({"biomarkers.her2_result"})


def _rule_facts(kb: KnowledgeBase) -> set[str]:
    """Every fact an option's settings or gates or an intent rule reads: only those can change the plan
    (what would change lists changed options and intent), so only those are worth probing."""
    _, by_settings, by_gates_only, _, intent_reads = _index(kb)
    return {*by_settings, *by_gates_only, *intent_reads}


def _declared_probes(case: Case, kb: KnowledgeBase, cuts: dict[str, set[int]]) -> list[Probe]:
    """Probes of the unknown declared fields (`rectoplan.core.fields`) that a rule reads."""
    read = _rule_facts(kb)
    lines = case.prior.systemic_lines or ()
    ongoing = bool(lines) and lines[-1].stopped_for == "ongoing"
    out: list[Probe] = []
    for f in DECLARED:
        wait = f.fact == "prior.months_on_current_line" and ongoing
        if (f.path[0] != "biomarkers" and not wait) or f.fact in _NOT_PROBED:
            continue
        if f.fact not in read or case.value(f.fact) is not None:
            continue
        if f.kind == "int":
            out += _int_probes(f.fact, f.low, f.high, cuts.get(f.fact, set()), None, case)
        else:
            out += _direct(case, f.fact, (True, False) if f.kind == "bool" else f.values)
    return out


def _metastasis_probes(case: Case, cuts: dict[str, set[int]]) -> list[Probe]:
    mets = case.metastases
    if mets is None:
        if case.local_recurrence is None:  # without a local recurrence, 'no metastases' is out of scope
            return []
        return [
            Probe(
                "metastases",
                "metastases = none (distant staging shows no spread)",
                replace(case, metastases=()),
            )
        ]
    out: list[Probe] = []
    for i, m in enumerate(mets):

        def with_entry(entry: Metastasis, i: int = i) -> Case:
            return replace(case, metastases=(*mets[:i], entry, *mets[i + 1 :]))

        if m.resectability is None:
            fact = f"metastases.{m.site}.resectability"
            out += [Probe(fact, f"{fact} = {r}", with_entry(replace(m, resectability=r))) for r in RESECTABLE]
        if m.count is None:
            fact = f"metastases.{m.site}.count"
            others = [x.count for j, x in enumerate(mets) if j != i]
            points = set(cuts.get(fact, set()))
            if None not in others:  # the total count becomes known too: its thresholds matter
                known = sum(c for c in others if c is not None)
                points |= {c - known for c in cuts.get("metastases.total_count", set())}

            def build(v: int, m: Metastasis = m, with_entry: Callable[[Metastasis], Case] = with_entry) -> Case:
                return with_entry(replace(m, count=v))

            out += _int_probes(fact, 1, 1000, points, build, None)
    return out


Decision = tuple[str, Any]  # (status, selecting setting or None): all that ranking needs


def _key(decision: Decision, option: Option) -> tuple[int, int, int]:
    setting = decision[1]
    return (_STRENGTH[setting.strength], setting.priority, option.order)


def _decide(option: Option, base: OptionOutcome, facts: Facts, changed: set[str], setting_reads: set[str]) -> Decision:
    """The option's status and setting with `facts`, re-evaluating only conditions that read a changed
    fact; the others keep the result the base trace implies (or are evaluated where the trace is silent).

    Branchy by design: the engine's decision order (settings, gates, holds) for one option, re-evaluated
    incrementally."""
    status = base.status
    same_setting = changed.isdisjoint(setting_reads)
    if status != "offered" and same_setting:
        if status == "not_applicable":
            return (status, None)
        if any(changed.isdisjoint(g.reads) for g in (*base.blocking, *base.holding)):
            return (status, base.setting)  # a gate that kept it out still does
    chosen = None
    base_setting = base.setting if status != "not_applicable" else None
    past_base = False  # settings after the base choice were never evaluated
    for s in option.settings:
        # before the base choice a setting was not TRUE, the base choice was; later ones were not evaluated
        fresh = past_base or not changed.isdisjoint(s.reads)
        hit = s.check(facts) is True if fresh else s is base_setting
        past_base |= s is base_setting
        if hit:
            chosen = s
            break
    if chosen is None:
        return ("not_applicable", None)
    listed = status in ("offered", "held", "excluded")  # then the trace lists every blocking gate
    failed = excluded = held = False
    for g in option.gates:
        if changed.isdisjoint(g.reads) and (listed or status == "not_indicated"):
            if base.blocking and any(g is x for x in base.blocking):
                failed |= status == "not_indicated"
                excluded |= status == "excluded"
                continue
            if base.holding and any(g is x for x in base.holding):
                held = True
                continue
            if listed:
                continue
        r = g.check(facts)
        if r is None:
            held |= g.on_unknown == "hold"
        elif g.effect == "requires":
            failed |= r is False
        else:
            excluded |= r is True
        if failed:
            break
    decided = "not_indicated" if failed else "excluded" if excluded else "held" if held else "offered"
    return (decided, chosen)


def probe_facts(probe: Probe, base: Facts, intent: str, kb: KnowledgeBase) -> tuple[Facts, set[str]]:
    """The facts of a probe (with the base intent) and the names of the facts that differ from `base`."""
    if probe.patch is not None:
        facts = dict(base)
        facts[probe.patch[0]] = probe.patch[1]
        return facts, {probe.patch[0]}
    facts = case_facts(probe.case, kb.resistance_class, kb.drug_classes)
    facts["plan.intent"] = intent
    return facts, {k for k, v in facts.items() if base.get(k) != v}


def what_would_change(assessment: Assessment, kb: KnowledgeBase) -> tuple[Change, ...]:
    """'What would change the plan' for the unknown fields of an assessed case, biggest effect first."""
    intent = assessment.intent.intent
    entries = [(p, e) for p, e in effects(assessment, kb) if e.size or e.intent != intent]
    return _ordered(_merge(entries), kb, intent)


Readers = dict[str, dict[str, Option]]  # fact -> options (by id) that read it
Index = tuple[dict[str, Option], Readers, Readers, dict[str, set[str]], set[str]]


def _index(kb: KnowledgeBase) -> Index:
    """Which options read which facts: built once per knowledge base and kept in its memo."""
    cached: Index | None = kb.memo.get("whatif-index")
    if cached is not None:
        return cached
    by_settings: Readers = {}  # fact -> options whose settings read it
    by_gates_only: Readers = {}  # fact -> options whose gates, and not settings, read it
    setting_reads: dict[str, set[str]] = {}
    for option in kb.options:
        seen = setting_reads[option.id] = set()
        for s in option.settings:
            seen.update(s.reads)
        for fact in seen:
            by_settings.setdefault(fact, {})[option.id] = option
        for g in option.gates:
            for fact in g.reads:
                if fact not in seen:
                    by_gates_only.setdefault(fact, {})[option.id] = option
    intent_reads = {f for rule in kb.intents for f in facts_read(rule.when)}
    index: Index = ({o.id: o for o in kb.options}, by_settings, by_gates_only, setting_reads, intent_reads)
    kb.memo["whatif-index"] = index
    return index


def effects(assessment: Assessment, kb: KnowledgeBase) -> list[tuple[Probe, Effect]]:
    """Every probe of the case with its effect on the plan (including probes that change nothing)."""
    from rectoplan.core.engine import decide_intent  # the engine imports this module

    todo = probes(assessment.case, kb)
    if not todo:
        return []
    base = assessment.facts
    intent = assessment.intent.intent
    outcomes = {o.option.id: o for o in assessment.outcomes}
    before: dict[str, Decision] = {oid: (o.status, o.setting) for oid, o in outcomes.items()}
    options, by_settings, by_gates_only, setting_reads, intent_reads = _index(kb)
    ranking = sorted(
        (oid for oid, d in before.items() if d[0] == "offered"),
        key=lambda oid: _key(before[oid], options[oid]),
    )
    order = {oid: i for i, oid in enumerate(before)}
    applicable = {oid for oid, d in before.items() if d[0] != "not_applicable"}
    entries: list[tuple[Probe, Effect]] = []
    for probe in todo:
        facts, changed = probe_facts(probe, base, intent, kb)
        new_intent = intent
        if not changed.isdisjoint(intent_reads):
            del facts["plan.intent"]  # intent rules run before the intent is known
            new_intent = decide_intent(facts, kb).intent
            facts["plan.intent"] = new_intent
            if new_intent != intent:
                changed.add("plan.intent")
        touched: dict[str, Option] = {}
        for f in changed:
            touched.update(by_settings.get(f, ()))
            # an option no setting fits stays so while its settings read nothing that changed
            touched.update((oid, o) for oid, o in by_gates_only.get(f, {}).items() if oid in applicable)
        after = {oid: _decide(o, outcomes[oid], facts, changed, setting_reads[oid]) for oid, o in touched.items()}
        entries.append((probe, _effect(before, after, ranking, options, order, new_intent)))
    return entries


def _effect(
    before: dict[str, Decision],
    after: dict[str, Decision],
    ranking: list[str],
    options: dict[str, Option],
    order: dict[str, int],
    intent: str,
) -> Effect:
    """How a change moves the plan (options added, removed, re-ranked; intent; top option). Branchy by design: one
    branch per kind of change."""
    added, removed, reranked = [], [], []
    for oid, now in after.items():
        was = before[oid]
        if was[0] == "offered" and now[0] != "offered":
            removed.append(oid)
        elif was[0] != "offered" and now[0] == "offered":
            added.append(oid)
        elif was[0] == "offered" and was[1] is not now[1] and _key(was, options[oid]) != _key(now, options[oid]):
            reranked.append(oid)
    a, r, k = (tuple(sorted(x, key=order.__getitem__)) for x in (added, removed, reranked))
    base_top = ranking[0] if ranking else None
    if not (a or r or k):
        return Effect(intent, a, r, k)
    offered = [oid for oid, d in after.items() if d[0] == "offered"]
    offered += [oid for oid in ranking if oid not in after][:1]  # best of the untouched options
    top = min(offered, key=lambda oid: _key(after.get(oid) or before[oid], options[oid])) if offered else None
    if top is None or top == base_top:
        return Effect(intent, a, r, k)
    setting = (after.get(top) or before[top])[1]
    phase = _PHASE_WORDS.get(setting.phase, setting.phase.replace("_", " "))
    words = f"{setting.strength} {phase}" if phase else setting.strength  # "preferred", not "preferred any"
    return Effect(intent, a, r, k, top, words)


def _merge(entries: list[tuple[Probe, Effect]]) -> list[tuple[Probe, Effect]]:
    """Merge neighbouring ranges of one integer field, and values of one other field, with the same effect."""
    out: list[tuple[Probe, Effect]] = []
    for probe, effect in entries:
        prev = out[-1][0] if out else None
        if (
            prev is not None
            and prev.span is not None
            and probe.span is not None
            and prev.fact == probe.fact
            and prev.span[1] + 1 == probe.span[0]
            and out[-1][1] == effect
        ):
            span = (prev.span[0], probe.span[1], probe.span[2])
            out[-1] = (replace(prev, condition=_range_text(probe.fact, *span), span=span), effect)
            continue
        same = None
        if probe.span is None:  # other values of the same field with the same effect: one entry
            same = next(
                (i for i, (p, e) in enumerate(out) if p.fact == probe.fact and p.span is None and e == effect), None
            )
        if same is None:
            out.append((probe, effect))
        else:
            first = out[same][0]
            value = probe.condition.split(" = ", 1)[1]
            out[same] = (replace(first, condition=f"{first.condition} or {value}"), effect)
    return out


def _titles(ids: tuple[str, ...], kb: KnowledgeBase, limit: int = 3) -> str:
    names = [kb.option(i).title for i in ids[:limit]]
    if len(ids) > limit:
        names.append(f"{len(ids) - limit} more")
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sentence(effect: Effect, kb: KnowledgeBase, old_intent: str) -> str:
    parts = []
    if effect.intent != old_intent:
        parts.append(f"the treatment intent becomes {effect.intent}")
    added = effect.added
    if effect.top is not None:
        parts.append(f"{kb.option(effect.top).title} becomes the {effect.top_words} option ranked first")
        added = tuple(a for a in added if a != effect.top)
    if added:
        parts.append(f"{_titles(added, kb)} would {'also ' if effect.top else ''}be offered")
    if effect.removed:
        parts.append(f"{_titles(effect.removed, kb)} would no longer be offered")
    if effect.reranked:
        parts.append(f"{_titles(effect.reranked, kb)} would change rank")
    text = "; ".join(parts) or "the options stay the same"
    return text[0].upper() + text[1:] + "."


def _ordered(entries: list[tuple[Probe, Effect]], kb: KnowledgeBase, intent: str) -> tuple[Change, ...]:
    """Fields with the biggest effect first; within a field, its values by effect."""
    weight: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, (probe, effect) in enumerate(entries):
        weight[probe.fact] = max(weight.get(probe.fact, 0), effect.size + (effect.intent != intent))
        first.setdefault(probe.fact, i)
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (-weight[entries[i][0].fact], first[entries[i][0].fact], -entries[i][1].size, i),
    )
    return tuple(
        Change(
            entries[i][0].condition,
            _sentence(entries[i][1], kb, intent),
            entries[i][0].fact,
            entries[i][1].added,
            entries[i][1].removed,
            entries[i][1].reranked,
        )
        for i in ranked
    )
