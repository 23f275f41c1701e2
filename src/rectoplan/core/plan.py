"""The knowledge base compiled to one Python function: the engine's fast path.

Interpreting ~80 options x several closures per case costs far more than the logic itself, so every
setting, gate and rule condition is compiled into straight-line Python (Kleene logic spelled out, each
fact read once into a local, shared conditions evaluated once per case). `compile_plan` gives the raw
results (tests hold the engine's plan equal to it); `compile_engine_plan`, which the engine compiles on first use, gives
candidates that double as cache keys. The closure interpreter in `conditions.py` stays the reference:
tests check that they agree on thousands of cases and on random condition trees.
Generating and `exec`-ing source is pure computation: no I/O, no state beyond the returned function.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Any

from rectoplan.core._codegen import _Gen, _Inline, _Local, _setting_chain
from rectoplan.core.conditions import All, Condition

# (intent index, candidates, test results, global caution results, setting indexes of the engine plan's
# candidates kept out, in order, and the engine plan's candidates offered: see `compile_engine_plan`; the
# last two are empty for `compile_plan`, whose candidates are all in the second)
PlanResult = tuple[int, list[tuple[Any, ...]], tuple[Any, ...], tuple[Any, ...], list[int], list[tuple[Any, ...]]]

_NAME = re.compile(r"_[a-z]+[0-9]+")  # a local of the generated plan


OptionConditions = tuple[tuple[Condition, ...], tuple[Condition, ...], tuple[Condition, ...]]
GateRule = tuple[Condition, str, str]  # (condition, effect: requires | excludes, on_unknown: hold | warn | ignore)
CautionRule = tuple[Condition, bool]  # (condition, whether it says something when its facts are unknown)
EngineOption = tuple[tuple[Condition, ...], tuple[GateRule, ...], tuple[CautionRule, ...]]


def compile_plan(
    intents: tuple[tuple[Condition, str], ...],
    options: tuple[OptionConditions, ...],
    tests: tuple[Condition, ...],
    cautions: tuple[Condition, ...],
) -> tuple[Callable[[Mapping[str, Any]], PlanResult], str]:
    """Compile a knowledge base's conditions into `plan(facts)`.

    `options` holds, per option, (setting conditions, gate conditions, caution conditions). The plan
    returns (intent index, candidates, test results, global caution results, [], []). A candidate is a flat tuple
    (option index, setting index, *gate results, *caution results) for each option whose setting applies.
    The plan sets `plan.intent` in `facts`. The engine compiles its own plan (`compile_engine_plan`), whose
    candidates are keys of its caches.
    """

    def full(o: int, x: str, option: Any) -> list[str]:
        results = "".join(f", {name}" for name in option[1] + option[2])
        return [f"    if {x} >= 0: _a(({o}, {x}{results}))"]

    return _compile(intents, tuple((o[0], (*o[1], *o[2])) for o in options), options, tests, cautions, full)


# (option index, whether the key holds the setting index (offered), the fixed results, and a getter of the
# results of its gates then cautions from the key followed by the fixed results: see `_layout`)
Layout = tuple[int, bool, tuple[Any, ...], Callable[[tuple[Any, ...]], tuple[Any, ...]]]


def compile_engine_plan(
    intents: tuple[tuple[Condition, str], ...],
    options: tuple[EngineOption, ...],
    tests: tuple[Condition, ...],
    cautions: tuple[Condition, ...],
) -> tuple[Callable[[Mapping[str, Any]], PlanResult], str, dict[int, Layout]]:
    """`compile_plan` for the engine: the same plan, except that a candidate holds only the gate and
    caution results the option's outcome depends on, with `layouts` to read them back (`expand`).

    A candidate is the key under which the engine caches the option's outcome (`engine.assess`), and an
    option kept out by one gate does not depend on its cautions nor on most of its other gates: with the
    raw results, most candidates the engine meets are new to its cache; with these, few are (and short
    keys are quicker to build and hash). Results that do not matter are replaced by fixed values, chosen
    so that `engine._outcome` gives exactly the outcome of the raw results (a test compares): an option
    not indicated keeps which requirements failed; an excluded one which exclusions hold and which gates
    hold it back; a held one which gates hold or warn; an offered one what it warns, notes and passed.
    An offered candidate is (code, setting index, *results that vary), the code naming the option and its
    status; a candidate kept out (not indicated, excluded, held) is (code, *results that vary): nothing the
    engine renders or what-if reads of it depends on the setting, and without it the same candidate serves
    every setting (measured: 40% fewer distinct candidates). Its setting index goes, in order, to the plan's
    fifth result, for `Assessment.outcomes`. Offered candidates go to the sixth result, kept out ones to the
    second (each in knowledge order): rendering reads them apart, without a test per candidate."""
    layouts: dict[int, Layout] = {}

    def canonical(o: int, x: str, option: Any) -> list[str]:
        return [f"    if {x} >= 0:", *_canonical_keys(o, x, option[1], option[2], layouts)]

    conditions = tuple((o[0], (*(g[0] for g in o[1]), *(c[0] for c in o[2]))) for o in options)
    plan, source = _compile(intents, conditions, options, tests, cautions, canonical)
    return plan, source, layouts


def expand(key: tuple[Any, ...], layouts: dict[int, Layout]) -> tuple[int, int, tuple[Any, ...]]:
    """(option index, setting index or -1 if kept out, the results of its gates then cautions) of an engine
    candidate."""
    option, offered, fixed, results = layouts[key[0]]
    return option, key[1] if offered else -1, results(key + fixed)


def _layout(o: int, offered: bool, fill: list[tuple[bool, Any]]) -> Layout:
    """The layout of a candidate whose results are `fill`: per gate and caution, (True, its index in the key)
    or (False, its fixed value). The results are read in C (`itemgetter`) from the key followed by the
    fixed values: a candidate met for the first time builds no list in Python."""
    fixed = tuple(v for from_key, v in fill if not from_key)
    width = 1 + (1 if offered else 0) + sum(1 for from_key, _ in fill if from_key)
    at = iter(range(width, width + len(fixed)))
    positions = [v if from_key else next(at) for from_key, v in fill]
    if len(positions) >= 2:
        return o, offered, fixed, itemgetter(*positions)
    if positions:
        only = positions[0]
        return o, offered, fixed, lambda row: (row[only],)
    return o, offered, fixed, lambda row: ()


def _canonical_keys(
    o: int,
    x: str,
    gates: tuple[tuple[str, str, str], ...],
    cauts: tuple[tuple[str, bool], ...],
    layouts: dict[int, Layout],
) -> list[str]:
    """The branches of one option's candidate, by status (see `compile_engine_plan`); `gates` and `cauts`
    hold the names of their results. Each branch's layout goes to `layouts` under its code."""
    fails = [g for g, effect, _ in gates if effect == "requires"]
    excludes = [g for g, effect, _ in gates if effect == "excludes"]
    holds = [g for g, _, on_unknown in gates if on_unknown == "hold"]

    def key(
        rep_gate: Callable[[str, str, str], str], rep_caution: Callable[[str, bool], str], offered: bool = False
    ) -> str:
        reps = [rep_gate(*g) for g in gates] + [rep_caution(*c) for c in cauts]
        code = _code(o, layouts)
        varying = [r for r in reps if r not in ("True", "False")]
        fill: list[tuple[bool, Any]] = []
        at = 2 if offered else 1
        for r in reps:
            if r in ("True", "False"):
                fill.append((False, r == "True"))
            else:
                fill.append((True, at))
                at += 1
        layouts[code] = _layout(o, offered, fill)
        items = "".join(", " + r for r in varying)
        return f"_o(({code}, {x}{items}))" if offered else f"_a(({code}{items},)); _k({x})"

    def not_indicated(g: str, effect: str, _: str) -> str:
        return f"({g} is not False)" if effect == "requires" else "False"

    def excluded(g: str, effect: str, on_unknown: str) -> str:
        if on_unknown == "hold":
            return g  # requires: True or None; excludes: all three values matter
        return f"({g} is True)" if effect == "excludes" else "True"

    def held(g: str, effect: str, on_unknown: str) -> str:
        if on_unknown != "ignore":
            return g
        return "False" if effect == "excludes" else "True"

    def offered(g: str, effect: str, on_unknown: str) -> str:
        if on_unknown == "hold":  # known here: an exclusion is False, a requirement True
            return "False" if effect == "excludes" else "True"
        if effect == "excludes" or on_unknown == "warn":
            return g
        return "True"

    def silent(_: str, __: bool) -> str:
        return "False"

    def fired(g: str, unknown: bool) -> str:
        return g if unknown else f"({g} is True)"

    branches = []
    if fails:
        branches.append((" or ".join(f"{g} is False" for g in fails), key(not_indicated, silent)))
    if excludes:
        branches.append((" or ".join(f"{g} is True" for g in excludes), key(excluded, silent)))
    if holds:
        branches.append((" or ".join(f"{g} is None" for g in holds), key(held, silent)))
    lines = [f"        {'if' if i == 0 else 'elif'} {test}: {append}" for i, (test, append) in enumerate(branches)]
    lines.append(f"        {'else: ' if branches else ''}{key(offered, fired, True)}")
    return lines


def _code(o: int, layouts: dict[int, Layout]) -> int:
    """The next free code of option `o`'s candidates: 4 o + its branch number (at most 4 branches)."""
    branch = sum(1 for code in layouts if code // 4 == o)
    assert branch < 4
    return 4 * o + branch


def _compile(
    intents: tuple[tuple[Condition, str], ...],
    conditions: tuple[tuple[tuple[Condition, ...], tuple[Condition, ...]], ...],
    options: tuple[Any, ...],
    tests: tuple[Condition, ...],
    cautions: tuple[Condition, ...],
    candidate: Callable[[int, str, Any], list[str]],
) -> tuple[Callable[[Mapping[str, Any]], PlanResult], str]:
    """The plan's source and function. `conditions` holds per option its settings and the conditions of
    its gates and cautions (in that order); `candidate(o, x, named)` writes the lines that append option
    `o`'s candidate when its setting index `x` is not negative, given `options[o]` with each condition
    replaced by the name of its result."""
    gen = _Local()
    lines: list[str] = []
    shared: dict[Condition, str] = {}

    def shared_name(cond: Condition) -> str:
        if cond not in shared:
            shared[cond] = f"_s{len(shared)}"
        return shared[cond]

    lines.append("    _i = None")
    for i, (cond, _) in enumerate(intents):
        code = gen.is_true(cond)
        gen.flush(lines)
        lines.append(f"    if _i is None and {code}: _i = {i}")
    lines.append(f"    if _i is None: _i = {len(intents) - 1}")
    lines.append("    _pi = f['plan.intent'] = _INTENTS[_i]")
    gen.decide_intent()
    for cond in dict.fromkeys(c for _, conds in conditions for c in conds):  # shared by several options
        code = gen.expr(cond)
        gen.flush(lines)
        if _NAME.fullmatch(code):  # already a local (a fact's test): named by it, not copied into another
            shared[cond] = code
        else:
            lines.append(f"    {shared_name(cond)} = {code}")
    lines.append("    _c = []")
    lines.append("    _a = _c.append")
    lines.append("    _s = []")
    lines.append("    _k = _s.append")
    lines.append("    _ol = []")
    lines.append("    _o = _ol.append")
    chains: dict[tuple[Condition, ...], str] = {}  # options with the same settings share their decision
    uses = Counter(settings for settings, _ in conditions if settings)
    for o, ((settings, conds), option) in enumerate(zip(conditions, options, strict=True)):
        if not settings:
            continue
        x = chains.get(settings)
        appends = candidate(o, x or f"_x{len(chains)}", _named(option, [shared_name(c) for c in conds]))
        if x is not None:
            lines += appends
            continue
        x = chains[settings] = f"_x{len(chains)}"
        if uses[settings] == 1:  # the decision serves this option only: nested under its first test
            lines += _alone(gen, settings, x, appends)
            continue
        chain = _setting_chain(gen, settings, x, _common_conjuncts(settings))
        gen.flush(lines)
        lines += [*chain, f"    else: {x} = -1", *appends]
    test_tuple = ", ".join(gen.expr(t) for t in tests) + ("," if len(tests) == 1 else "")
    caution_tuple = ", ".join(gen.expr(c) for c in cautions) + ("," if len(cautions) == 1 else "")
    gen.flush(lines)
    lines.append(f"    return _i, _c, ({test_tuple}), ({caution_tuple}), _s, _ol")
    tables = gen.tabled(lines)
    source = "\n".join(["def plan(f):", *gen.prologue(), *tables, *lines]) + "\n"
    namespace = gen.consts  # the tables' functions are defined in it: one module
    namespace["_INTENTS"] = tuple(name for _, name in intents)
    exec(compile(source, "<rectoplan knowledge plan>", "exec"), namespace)
    return namespace["plan"], source


def _alone(gen: _Gen, settings: tuple[Condition, ...], x: str, appends: list[str]) -> list[str]:
    """The decision of an option whose settings no other option shares, and the lines that append its
    candidate, nested under the test that every setting needs: the conjuncts common to its settings, or
    its one setting. Most options do not apply to a case; then this one test is all that runs (a chain
    of settings then a test of its result cost about three times as many steps)."""
    common = _common_conjuncts(settings)
    out: list[str] = []
    if len(settings) == 1:
        out.append(f"    if {gen.is_true(settings[0])}:")
        out.append(f"        {x} = 0")
    elif common:
        out.append(f"    if {gen.all_true(common)}:")
        chain = _setting_chain(gen, settings, x)
        out += ["    " + line for line in chain]
        out.append(f"        else: {x} = -1")
    else:
        out += [*_setting_chain(gen, settings, x), f"    else: {x} = -1"]
        return _flushed(gen, out + appends)
    return _flushed(gen, out + ["    " + line for line in appends])


def _flushed(gen: _Gen, lines: list[str]) -> list[str]:
    """`lines` after the definitions they need (`_Gen.flush`)."""
    out: list[str] = []
    gen.flush(out)
    return out + lines


def _named(option: Any, names: list[str]) -> Any:
    """`option` (settings, gates, cautions) with each gate's and caution's condition replaced by `names`
    in order, whether gates and cautions are bare conditions or (condition, ...) tuples."""
    settings, gates, cauts = option
    it = iter(names)
    return (
        settings,
        tuple((next(it), *g[1:]) if isinstance(g, tuple) else next(it) for g in gates),
        tuple((next(it), *c[1:]) if isinstance(c, tuple) else next(it) for c in cauts),
    )


GateSpec = tuple[Condition, bool, bool]  # (condition, effect is "requires", on_unknown is "hold")


def compile_deciders(
    options: tuple[tuple[tuple[Condition, ...], tuple[GateSpec, ...]], ...],
) -> tuple[Callable[[Mapping[str, Any]], int], ...]:
    """Per option, `decide(facts)`: the index of the setting under which it is offered, or -1.

    What-if asks only this of each option a probe touches (offered or not, and under which setting, for
    the ranking), so the deciders skip cautions and the trace. An option is offered when a setting is
    TRUE and no gate blocks it: a requirement must not be FALSE, an exclusion must not be TRUE, and a
    gate that holds on unknown must be known (the engine's `_outcome`, which a test compares).
    """
    gen = _Inline()
    lines: list[str] = []
    for o, (settings, gates) in enumerate(options):
        lines.append(f"def decide{o}(f):")
        common = _common_conjuncts(settings)
        if common:  # every row needs these: when one is not TRUE, no row is
            lines.append(f"    if not ({gen.all_true(common)}): return -1")
        chain = _setting_chain(gen, settings, "_x")
        lines += chain or ["    if False: _x = 0"]
        lines.append("    else: return -1")
        ok = [_gate_ok(gen, *gate) for gate in gates]
        lines.append(f"    return _x if {' and '.join(ok) or 'True'} else -1")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(gen.consts)
    exec(compile(source, "<rectoplan what-if deciders>", "exec"), namespace)
    return tuple(namespace[f"decide{o}"] for o in range(len(options)))


def compile_first_true(conditions: tuple[Condition, ...]) -> Callable[[Mapping[str, Any]], int]:
    """`first(facts)`: the index of the first condition that is TRUE, else the last index (the intent
    rules, whose last is unconditional: `engine.decide_intent`'s loop, compiled for what-if's probes)."""
    gen = _Inline()
    lines = ["def first(f):"]
    lines += [f"    if {gen.is_true(c)}: return {i}" for i, c in enumerate(conditions)]
    lines.append(f"    return {len(conditions) - 1}")
    namespace: dict[str, Any] = dict(gen.consts)
    exec(compile("\n".join(lines) + "\n", "<rectoplan what-if intent>", "exec"), namespace)
    first: Callable[[Mapping[str, Any]], int] = namespace["first"]
    return first


def _common_conjuncts(settings: tuple[Condition, ...]) -> list[Condition]:
    """The conditions that every setting requires (conjuncts of each, nested `All`s flattened), in the first
    setting's order: a setting is TRUE only when each of its conjuncts is (Kleene), so none is TRUE unless
    all of these are."""
    if not settings:
        return []
    rest = [set(_conjuncts(s)) for s in settings[1:]]
    return [c for c in dict.fromkeys(_conjuncts(settings[0])) if all(c in r for r in rest)]


def _conjuncts(cond: Condition) -> list[Condition]:
    if isinstance(cond, All):
        return [c for item in cond.items for c in _conjuncts(item)]
    return [cond]


def _gate_ok(gen: _Gen, cond: Condition, requires: bool, hold: bool) -> str:
    """A two-valued expression: this gate lets the option be offered."""
    if requires:
        return gen.is_true(cond) if hold else f"not {gen.is_false(cond)}"
    return gen.is_false(cond) if hold else f"not {gen.is_true(cond)}"
