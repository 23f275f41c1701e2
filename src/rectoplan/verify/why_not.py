"""'Why not X?': the rules that keep an option out of the plan, and the smallest change that lets it in.

The rules come from the engine's own evaluation of the case (the same facts and conditions that made
the recommendation), so the answer can never disagree with it. The smallest change is found by z3 as
a weighted MaxSAT problem over the whole engine (`rectoplan.compile.z3_smt`), subject to 'the option is
offered'. Changing a field costs 1000, so the number of changed contract-1 fields is minimised first;
small extra costs break ties in the order a clinician would look: filling in an unknown fact (+0) before
changing a known one (+1), before adding or removing a lesion (+2); a known fact is changed to
another known value rather than made unknown (+1), and a changed list (treatment history, symptoms,
surgeries) changes as few of its entries as possible (+1 each); then, as further objectives, a changed
number moves as little as it can (the sum of |new - old| over the known numeric fields), so that the answer
names the nearest boundary a rule draws (age 68 -> 65, days since surgery 10 -> 28), not the end of the
field's range; and a filled-in treatment history has as few lines and drugs as possible, chemotherapy
before targeted drugs. The answer is replayed through the Python engine before it is shown.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from rectoplan.adapters.case_json import parse_case
from rectoplan.core.case import Case
from rectoplan.core.conditions import All, Condition, describe, evaluate
from rectoplan.core.engine import Assessment, OptionOutcome, assess
from rectoplan.core.errors import CaseError
from rectoplan.core.fields import DECLARED
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import shown_sources
from rectoplan.core.schema import STRENGTHS

ABSENT = "absent (unknown)"
LESIONS = ("local_recurrence", "metastases")
# What already happened cannot be changed: a known treatment history is kept as it is (never a course
# deleted or one added that was not given). Times can only grow (a wait): days since surgery, months
# since a drug. Unknown parts may still be filled in, as a test result may be.
PAST = (
    "prior.systemic_lines",
    "prior.surgeries",
    "prior.pelvic_radiation",
    *(f.fact for f in DECLARED if f.derived_from == "prior.courses" and not f.fact.startswith("prior.months")),
)
WAITS = (
    "health.days_since_major_surgery",
    "prior.months_since_anti_egfr",
    "prior.months_on_current_line",
    "prior.months_since_induction",
)
STATUS_WORDS = {
    "offered": "offered",
    "excluded": "excluded (unsafe or contraindicated for this case)",
    "held": "held back until unknown facts are known",
    "not_indicated": "not indicated (a requirement is not met)",
    "not_applicable": "not applicable (no situation in which it is used matches this case)",
}

# The search keeps the treatment history as recorded (it never proposes undoing a course), so "no change"
# means no change to what can still change, not that no patient could ever get the option.
NO_CHANGE = (
    "No change to what can still change (test results, waiting times, fitness) would get it offered for this"
    " case; the treatment history is kept as recorded, so it may still become an option after further treatment."
)


@dataclass(frozen=True)
class RuleReason:
    """One rule that keeps the option out: a setting that does not match, or a gate that blocks or holds.

    `value` is the rule's three-valued result for this case; `unmet` lists the parts not TRUE."""

    kind: str  # setting | requires | excludes
    id: str
    value: str  # true | false | unknown: the condition's value for this case
    condition: str
    unmet: tuple[str, ...]
    reason: str
    test: str | None = None
    sources: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON data (an item of `rules` in `rectoplan why-not --format json`)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "value": self.value,
            "condition": self.condition,
            "unmet": list(self.unmet),
            "reason": self.reason,
            "test": self.test,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class FieldChange:
    """One field of the case changed by the smallest change, as a clinician reads it (before -> after)."""

    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON data (`from` and `to`, as `rectoplan why-not --format json` prints it)."""
        return {"field": self.field, "from": self.before, "to": self.after}


@dataclass
class WhyNotAnswer:
    """Why an option has its status for a case: the rules from the engine's own evaluation and, when it
    was searched for, the smallest changes to the case that would get it offered (each replayed)."""

    option: str
    title: str
    status: str
    setting: str | None
    rank: int | None
    rules: list[RuleReason] = field(default_factory=list)
    changes: list[list[FieldChange]] | None = None  # None: not searched; []: no admissible case offers it
    cases: list[dict[str, Any]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON data (`rectoplan why-not --format json`)."""
        out: dict[str, Any] = {
            "option": self.option,
            "title": self.title,
            "status": self.status,
            "setting": self.setting,
            "rank": self.rank,
            "rules": [r.to_dict() for r in self.rules],
        }
        if self.changes is not None:
            out["smallest_change"] = {
                "method": self.method,
                "found": bool(self.changes),
                "alternatives": [
                    {"changes": [c.to_dict() for c in changes], "case": case, "verified": ok}
                    for changes, case, ok in zip(self.changes, self.cases, self.verified, strict=True)
                ],
            }
        return out

    def to_text(self) -> str:
        """The answer as the clinician reads it (`rectoplan why-not`)."""
        return render(self)


def _tri(value: bool | None) -> str:
    return "unknown" if value is None else str(value).lower()


def _unmet(cond: Condition, facts: dict[str, Any]) -> tuple[str, ...]:
    """The parts of a condition that are not TRUE for this case (the conjuncts of an `all`)."""
    items = cond.items if isinstance(cond, All) else (cond,)
    return tuple(f"{describe(i)} [{_tri(evaluate(i, facts))}]" for i in items if evaluate(i, facts) is not True)


def _rank_key(outcome: OptionOutcome) -> tuple[int, int, int]:
    setting = outcome.setting
    assert setting is not None
    return (STRENGTHS.index(setting.strength), setting.priority, outcome.option.order)


def explain(assessment: Assessment, option_id: str) -> WhyNotAnswer:
    """Why the option has its status: the settings that do not match, the gates that keep it out.

    Branchy by design: one part per kind of reason (settings, gates, holds, intent)."""
    outcome = next(o for o in assessment.outcomes if o.option.id == option_id)
    option, facts = outcome.option, assessment.facts
    offered = sorted((o for o in assessment.outcomes if o.status == "offered"), key=_rank_key)
    rank = next((i for i, o in enumerate(offered, 1) if o.option.id == option_id), None)
    answer = WhyNotAnswer(
        option.id, option.title, outcome.status, outcome.setting.id if outcome.setting else None, rank
    )
    if outcome.status == "offered":
        return answer
    if outcome.setting is None:
        for s in option.settings:
            answer.rules.append(
                RuleReason(
                    "setting",
                    s.id,
                    _tri(s.check(facts)),
                    describe(s.when),
                    _unmet(s.when, facts),
                    s.because,
                    None,
                    tuple(shown_sources(s.cite)),
                )
            )
    for g in option.gates:
        value = g.check(facts)
        blocks = (value is False and g.effect == "requires") or (value is True and g.effect == "excludes")
        holds = value is None and g.on_unknown == "hold"
        if not (blocks or holds):
            continue
        reason = g.unknown if holds and g.unknown else g.reason
        unmet = _unmet(g.when, facts) if g.effect == "requires" else ()
        answer.rules.append(
            RuleReason(
                g.effect,
                g.id,
                _tri(value),
                describe(g.when),
                unmet,
                reason,
                g.test if holds else None,
                tuple(shown_sources(g.cite)),
            )
        )
    return answer


# -- the smallest change -------------------------------------------------------------------------------


def _get(data: dict[str, Any], path: list[str]) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _put(data: dict[str, Any], path: list[str], value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value)


def _site(field_name: str) -> str | None:
    parts = field_name.split(".")
    return parts[1] if parts[0] == "metastases" and len(parts) > 1 else None


def _entries(data: dict[str, Any], site: str) -> list[dict[str, Any]] | None:
    mets = data.get("metastases")
    if mets is None:
        return None
    return [m for m in mets if m["site"] == site]


def patch(original: dict[str, Any], full: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    """`original` with the changed fields taken from `full` (the solver's case); the rest untouched."""
    out = copy.deepcopy(original)
    whole = {"metastases", "local_recurrence"} & set(changed)
    for name in whole:
        _put(out, [name], full.get(name))
    for name in changed:
        site = _site(name)
        if name in whole or (site is None and name.split(".")[0] in whole):
            continue
        if site is None:
            _put(out, name.split("."), _get(full, name.split(".")))
        elif "metastases" not in whole:
            new = _entries(full, site) or []
            mets = out.setdefault("metastases", [])
            at = next((i for i, m in enumerate(mets) if m["site"] == site), len(mets))
            mets[:] = [m for m in mets[:at] if m["site"] != site] + new + [m for m in mets[at:] if m["site"] != site]
    return out


def _shown(data: dict[str, Any], name: str) -> Any:
    """The value of one changed field as a clinician reads it: for a site's count or resectability, that
    value (not the whole metastasis entry)."""
    site = _site(name)
    if site is None:
        value = _get(data, name.split("."))
    else:
        entries = _entries(data, site)
        if entries == []:
            return "none"  # distant staging is recorded and lists no lesion there
        value = entries
        part = name.split(".")[2:]
        if entries is not None and part:
            values = [e.get(part[0]) for e in entries]
            value = values[0] if len(values) == 1 else values
    return ABSENT if value is None else value


def _shown_changes(original: dict[str, Any], new: dict[str, Any], changed: list[str]) -> list[FieldChange]:
    """The changes to show: a site's count and resectability go without saying when the site itself
    appears or disappears."""
    whole_sites = {name for name in changed if _site(name) is not None and name.count(".") == 1}
    shown = [n for n in changed if not (n.count(".") == 2 and n.rsplit(".", 1)[0] in whole_sites)]
    return [FieldChange(n, _shown(original, n), _shown(new, n)) for n in shown]


def smallest_changes(
    kb: KnowledgeBase,
    case: Case,
    option_id: str,
    alternatives: int = 3,
    timeout_ms: int = 30000,
    engine: Any = None,
) -> tuple[list[list[FieldChange]], list[dict[str, Any]], list[bool]]:
    """Up to `alternatives` different smallest sets of field changes that get the option offered.

    `engine` (a `rectoplan.compile.z3_smt.Engine` for `kb`) may be passed to reuse the encoding.

    Long by design: the solver loop (minimise, block, repeat) with its limits in one place."""
    import z3

    from rectoplan.compile.z3_smt import Engine
    from rectoplan.verify.casejson import case_dict, model_case

    engine = engine or Engine(kb)
    fixed = engine.case.fix(case)
    absent = engine.case.absent()
    check = z3.Solver()
    check.add(*engine.case.contract(), *(eq for eqs in fixed.values() for eq in eqs))
    if check.check() != z3.sat:
        raise RuntimeError("the z3 model does not admit this case: please report this as a bug")
    now = check.model()
    original = case_dict(case)
    keep = {name: z3.And(*eqs) for name, eqs in fixed.items()}
    opt = z3.Optimize()
    opt.set("timeout", timeout_ms)
    opt.add(*engine.case.contract(), engine.options[option_id].offered)
    _keep_the_past(opt, engine.case, keep, now, absent)
    for name, kept in keep.items():
        if name in LESIONS or (name.startswith("metastases.") and name.count(".") == 1):
            opt.add_soft(kept, 1002)  # the extent of disease is described, not chosen
            continue
        was_known = not z3.is_true(now.eval(absent[name], model_completion=True))
        opt.add_soft(kept, 1001 if was_known else 1000)
        if was_known:
            opt.add_soft(z3.Not(absent[name]), 1)
    # within a changed list (treatment history, symptoms, surgeries), change as few entries as possible
    for eq in (*fixed["prior.systemic_lines"], *fixed["primary.symptoms"][1:], *fixed["prior.surgeries"][1:]):
        opt.add_soft(eq, 1)
    # then (the next lexicographic objective) each changed number moves as little as it can: to the nearest
    # boundary a rule draws (68 -> 65), not to the end of its range (68 -> 18)
    opt.minimize(_distance(engine.case, now))
    # then the shortest treatment history, with no filler lines, made of as few
    # drugs as possible, chemotherapy before targeted drugs when a history has to be filled in
    opt.minimize(engine.case.lines)
    agents = engine.case.agents
    other = [d for d in agents if "chemotherapy" not in kb.drug_classes.get(d, ())]
    opt.minimize(z3.Sum([z3.If(agents[d], 1, 0) for d in other]))
    opt.minimize(z3.Sum([z3.If(a, 1, 0) for a in agents.values()]))
    found: list[list[FieldChange]] = []
    cases: list[dict[str, Any]] = []
    verified: list[bool] = []
    best: int | None = None
    while len(found) < alternatives and opt.check() == z3.sat:
        model = opt.model()
        changed = [n for n, kept in keep.items() if not z3.is_true(model.eval(kept, model_completion=True))]
        if best is not None and len(changed) > best:
            break
        best = len(changed)
        full = model_case(engine.case, model, case.id)
        new = patch(original, full, changed)
        found.append(_shown_changes(original, new, changed))
        cases.append(new)
        verified.append(_offered(kb, new, option_id))
        if not changed:
            break
        opt.add(z3.Or(*(keep[n] for n in changed)))  # another answer must keep one of these fields
    return found, cases, verified


def _numbers(v: Any) -> list[tuple[Any, Any]]:
    """(known flag, value) of every numeric field: the table's ints, each site's count and largest size."""
    return [
        *v.ints.values(),
        *((v.count_k[s], v.count[s]) for s in v.sites),
        *((v.size_k[s], v.size[s]) for s in v.sites),
    ]


def _distance(v: Any, now: Any) -> Any:
    """How far the known numbers move: the sum of |new - old| over the numeric fields known in the case
    and still known in the answer. A field made unknown, or an unknown one filled in, has no distance
    (the first is already weighed by the field count, the second has no value to stay near)."""
    import z3

    moved = [
        z3.If(k, z3.Abs(x - now.eval(x, model_completion=True)), 0)
        for k, x in _numbers(v)
        if z3.is_true(now.eval(k, model_completion=True))
    ]
    return z3.Sum(moved) if moved else z3.IntVal(0)


def _keep_the_past(opt: Any, v: Any, keep: dict[str, Any], now: Any, absent: dict[str, Any]) -> None:
    """Hard constraints: a known history stays as it is; a known time only grows."""
    import z3

    def known(name: str) -> bool:
        return not z3.is_true(now.eval(absent[name], model_completion=True))

    for name in PAST:
        if name in keep and known(name):
            opt.add(keep[name])
    for name in WAITS:
        if name in v.ints and known(name):
            k, x = v.ints[name]
            opt.add(k, x >= now.eval(x, model_completion=True))


def _offered(kb: KnowledgeBase, data: dict[str, Any], option_id: str) -> bool:
    try:
        parsed = parse_case(data, kb.vocabulary.drugs, kb.vocabulary.procedures)
    except CaseError:
        return False
    return any(o.option.id == option_id and o.status == "offered" for o in assess(parsed, kb).outcomes)


def why_not(case: Case, kb: KnowledgeBase, option_id: str, search: bool = True, engine: Any = None) -> WhyNotAnswer:
    """The full answer: rules from the engine's trace, and (unless offered) the smallest changes."""
    answer = explain(assess(case, kb), option_id)
    if search and answer.status != "offered":
        answer.changes, answer.cases, answer.verified = smallest_changes(kb, case, option_id, engine=engine)
        answer.method = (
            "z3 weighted MaxSAT over contract-1 case fields: fewest fields changed (unknown "
            "fields preferred), then the smallest move of each changed number, subject to the option being"
            " offered; replayed through the engine"
        )
    return answer


def render(answer: WhyNotAnswer) -> str:
    """Readable text for the clinician.

    Branchy by design: one branch per kind of answer."""
    lines = [f"Why not {answer.title} ({answer.option})?", f"Status: {STATUS_WORDS[answer.status]}."]
    if answer.status == "offered":
        lines.append(f"It is offered for this case (rank {answer.rank}, setting {answer.setting}).")
        return "\n".join(lines)
    if answer.setting:
        lines.append(f"It would fit this case as setting {answer.setting}, but:")
    settings = [r for r in answer.rules if r.kind == "setting"]
    if settings:
        lines.append("No situation in which it is used matches this case:")
        for r in settings:
            lines.append(f"  - {r.id}: {r.reason}")
            lines += [f"      not met: {u}" for u in r.unmet]
    gates = [r for r in answer.rules if r.kind != "setting"]
    if gates:
        lines.append("Rules that keep it out:" if answer.setting else "Rules that would also keep it out:")
        for r in gates:
            what = {"requires": "requirement", "excludes": "exclusion"}[r.kind]
            state = "unknown, so it is held back" if r.value == "unknown" else f"{r.value}"
            lines.append(f"  - {r.id} ({what}; {state}): {r.reason}")
            lines.append(f"      condition: {r.condition}")
            lines += [f"      not met: {u}" for u in r.unmet]
            if r.test:
                lines.append(f"      test needed: {r.test}")
            if r.sources:
                lines.append("      sources: " + "; ".join(s["label"] for s in r.sources))
    if answer.changes is not None:
        if not answer.changes:
            lines.append(NO_CHANGE)
        for i, changes in enumerate(answer.changes):
            head = "Smallest change that would let it in" if i == 0 else "Or, equally small"
            ok = "" if answer.verified[i] else " (NOT confirmed by the engine: please report)"
            lines.append(f"{head} ({len(changes)} field{'s' if len(changes) != 1 else ''}){ok}:")
            lines += [f"  - {c.field}: {_value(c.before)} -> {_value(c.after)}" for c in changes]
    return "\n".join(lines)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
