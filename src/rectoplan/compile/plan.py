"""The cohort plan: a knowledge base compiled into column stages, from facts to the result columns.

The stages mirror `rectoplan.core.engine` step by step: facts; the intent (first TRUE intent rule, with
`plan.intent` unknown inside intent rules as in the engine); every distinct fact test once (atoms) and
every distinct condition once, so a gate shared by thirty options is evaluated once per row; then per
option one small integer, its *code*, decided exactly as `assess_option` decides the status:

    0 not applicable or not indicated, 1 excluded, 2 held, 2 + k offered under its k-th setting.

The result columns are lists of ids collected from those codes: options in rank order (the knowledge
base's (strength, priority, file order) is a total order over (option, setting) pairs, so collecting the
pairs in that order ranks each row without sorting), their settings, exclusions and holds with the gates
that decided them, tests needed and global cautions. Every text a reader sees (reasons, rationale,
`why`) belongs to one of those ids and is rendered once, by `rectoplan.cohort.explain`, not once per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rectoplan.compile import ir
from rectoplan.compile.case_columns import FactDeriver, ListStage, Normalizer, RawType
from rectoplan.compile.rules import RuleCompiler, fact_column
from rectoplan.core.conditions import Condition, Test
from rectoplan.core.errors import Problem, RectoplanError
from rectoplan.core.knowledge import Gate, KnowledgeBase, Option, Setting
from rectoplan.core.schema import STRENGTHS, FactType

Stage = tuple[tuple[str, ir.Expr], ...]
CODE_NONE, CODE_EXCLUDED, CODE_HELD = 0, 1, 2
SEP = "/"  # option SEP gate, in the exclusions and holds columns


class PlanError(RectoplanError):
    """The knowledge base does not compile to a cohort plan (two plan columns would share a name)."""


RESULT_COLUMNS = (
    "intent",
    "intent_rule",
    "options",
    "settings",
    "excluded",
    "exclusions",
    "held",
    "holds",
    "tests_needed",
    "cautions",
    "cautions_unknown",
)


def offered_code(setting_index: int) -> int:
    """Code of an option offered under its `setting_index`-th setting (0-based)."""
    return CODE_HELD + 1 + setting_index


def ranked_settings(kb: KnowledgeBase) -> list[tuple[Option, int, Setting]]:
    """Every (option, setting) pair in the engine's rank order: strength, then priority, then file order."""
    strength = {s: i for i, s in enumerate(STRENGTHS)}
    pairs = [(o, k, s) for o in kb.options for k, s in enumerate(o.settings)]
    return sorted(pairs, key=lambda p: (strength[p[2].strength], p[2].priority, p[0].order))


class _AtomCompiler(RuleCompiler):
    """Compiles each distinct fact test once, into an atom column."""

    def __init__(
        self,
        schema: Mapping[str, FactType],
        atoms: dict[ir.Expr, str],
        prefix: str,
        unknown: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(schema, unknown)
        self.atoms = atoms
        self.prefix = prefix

    def test(self, t: Test) -> ir.Expr:
        expr = super().test(t)
        if isinstance(expr, ir.Lit):
            return expr
        if expr not in self.atoms:
            self.atoms[expr] = f"{self.prefix}{len(self.atoms)}"
        return ir.Col(self.atoms[expr])


class _Conditions:
    """Distinct conditions, one column each."""

    def __init__(self, compiler: RuleCompiler, prefix: str) -> None:
        self.compiler = compiler
        self.prefix = prefix
        self.columns: dict[ir.Expr, str] = {}

    def ref(self, cond: Condition) -> ir.Expr:
        expr = self.compiler.compile(cond)
        if isinstance(expr, (ir.Lit, ir.Col)):
            return expr
        if expr not in self.columns:
            self.columns[expr] = f"{self.prefix}{len(self.columns)}"
        return ir.Col(self.columns[expr])

    def stage(self) -> Stage:
        return tuple((name, expr) for expr, name in self.columns.items())


@dataclass(frozen=True, slots=True)
class CohortPlan:
    """Stages from the normalized columns (n_*) to `RESULT_COLUMNS`; a stage reads only earlier stages."""

    kb: KnowledgeBase
    stages: tuple[Stage, ...]
    codes: tuple[tuple[Option, str], ...]  # option -> its code column

    @property
    def columns(self) -> tuple[str, ...]:
        return RESULT_COLUMNS


def input_stages(kb: KnowledgeBase, raw: Mapping[str, RawType]) -> tuple[Stage, Stage]:
    """The stages that read the input columns as stored: list columns, then scalar columns and `_clean`.
    They depend on the input's column types; `compile_plan` (everything after them) does not."""
    return tuple(ListStage(kb, raw).stage()), tuple(Normalizer(raw, kb).stage())


def compile_plan(kb: KnowledgeBase) -> CohortPlan:
    """Compile `kb` into a cohort plan."""
    facts = tuple(FactDeriver(kb).stage())
    intent_stages = _intent_stages(kb)
    atoms: dict[ir.Expr, str] = {}
    conds = _Conditions(_AtomCompiler(kb.schema, atoms, "a_"), "c_")
    offsets = _Offsets(conds, "l_")
    codes, code_of, gate_refs = _option_codes(kb, conds, offsets)
    outputs = _outputs(kb, conds, code_of, gate_refs)  # reads conditions too: before the stages below
    stages = (
        facts,
        *intent_stages,
        tuple((name, expr) for expr, name in atoms.items()),
        conds.stage(),
        offsets.stage(),
        tuple(codes),
        outputs,
    )
    names = [name for stage in stages for name, _ in stage]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise PlanError([Problem("cohort plan", f"the column name(s) {dupes} more than once", "each name once")])
    code_columns = tuple((o, c.name) for o in kb.options if isinstance(c := code_of[o.id], ir.Col))
    return CohortPlan(kb, tuple(s for s in stages if s), code_columns)


def _intent_stages(kb: KnowledgeBase) -> tuple[Stage, Stage, Stage, Stage]:
    """The intent: its atoms, its conditions, the index of the first intent rule that holds, its words."""
    intent_atoms: dict[ir.Expr, str] = {}
    intents = _Conditions(_AtomCompiler(kb.schema, intent_atoms, "ai_", unknown=frozenset({"plan.intent"})), "ci_")
    intent_refs = [intents.ref(r.when) for r in kb.intents[:-1]]
    last = len(kb.intents) - 1
    intent_index = ir.Case(tuple((ir.is_true(r), ir.small(i)) for i, r in enumerate(intent_refs)), ir.small(last))
    plan_intent = ir.Case(
        tuple((ir.Cmp("=", ir.Col("intent_index"), ir.small(i)), ir.text(r.intent)) for i, r in enumerate(kb.intents)),
        ir.NULL_TEXT,
    )
    intent_rule = ir.Case(
        tuple((ir.Cmp("=", ir.Col("intent_index"), ir.small(i)), ir.text(r.id)) for i, r in enumerate(kb.intents)),
        ir.NULL_TEXT,
    )
    return (
        tuple((name, expr) for expr, name in intent_atoms.items()),
        intents.stage(),
        (("intent_index", intent_index),),
        ((fact_column("plan.intent"), plan_intent), ("_intent_rule", intent_rule)),
    )


def _option_codes(
    kb: KnowledgeBase, conds: _Conditions, offsets: _Offsets
) -> tuple[list[tuple[str, ir.Expr]], dict[str, ir.Expr], dict[tuple[str, int], ir.Expr]]:
    """Each option's code column (none, excluded, held, or offered by setting k), the code of each option
    (a constant when it can never apply) and the condition reference of each (option, gate)."""
    codes: list[tuple[str, ir.Expr]] = []
    code_of: dict[str, ir.Expr] = {}
    gate_refs: dict[tuple[str, int], ir.Expr] = {}
    for i, option in enumerate(kb.options):
        offered = _offered(option, conds, offsets)
        own = [cond for cond, _ in offered]
        if all(s == ir.FALSE for s in own):
            code_of[option.id] = ir.small(CODE_NONE)  # never applicable: always silent
            continue
        gates = [(g, conds.ref(g.when)) for g in option.gates]
        for k, (_, ref) in enumerate(gates):
            gate_refs[(option.id, k)] = ref
        whens: list[tuple[ir.Expr, ir.Expr]] = [
            (ir.negate(ir.any_of(*own)), ir.small(CODE_NONE)),
            (ir.any_of(*(ir.is_false(r) for g, r in gates if g.effect == "requires")), ir.small(CODE_NONE)),
            (ir.any_of(*(ir.is_true(r) for g, r in gates if g.effect == "excludes")), ir.small(CODE_EXCLUDED)),
            (ir.any_of(*(ir.IsNull(r) for g, r in gates if g.on_unknown == "hold")), ir.small(CODE_HELD)),
            *offered,
        ]
        name = f"o_{i}"
        codes.append((name, ir.Case(tuple(w for w in whens if w[0] != ir.FALSE), ir.small(CODE_NONE))))
        code_of[option.id] = ir.Col(name)
    return codes, code_of, gate_refs


class _Offsets:
    """Where a row's lowered copies put an option that its row offers: one small column per distinct list
    of copies' warnings (a handful in the shipped knowledge, shared by a hundred and more rows)."""

    def __init__(self, compiler: _Conditions, prefix: str) -> None:
        self.conds = compiler
        self.prefix = prefix
        self.columns: dict[tuple[tuple[Condition, ...], ...], tuple[str, ir.Expr]] = {}

    def ref(self, warnings: tuple[tuple[Condition, ...], ...]) -> ir.Expr:
        """How many of the copies come before the first one whose warnings all hold (all of them: none)."""
        if warnings not in self.columns:
            whens = tuple(
                (ir.all_of(*(ir.is_true(self.conds.ref(c)) for c in combo)), ir.small(k))
                for k, combo in enumerate(warnings)
            )
            name = f"{self.prefix}{len(self.columns)}"
            self.columns[warnings] = (name, ir.Case(whens, ir.small(len(warnings))))
        return ir.Col(self.columns[warnings][0], never_null=True)

    def stage(self) -> Stage:
        return tuple(self.columns.values())


def _offered(option: Option, conds: _Conditions, offsets: _Offsets) -> list[tuple[ir.Expr, ir.Expr]]:
    """(condition, code) of each of the option's own rows, in order: the option is offered under the first
    row that holds, or under one of the copies a warning's `lowers` put before it (kb/_loader_lowering.py).

    A copy is its row AND its warnings, and the loader puts a row's copies right before it, so the first
    TRUE setting is always in the group of the first TRUE own row: among that group, the first copy whose
    warnings hold, or the row. Deciding the row first and then the copy (a column per distinct list of
    warnings, `_Offsets`) tests each row once instead of once per copy. An option whose copies are
    placed otherwise is compiled setting by setting."""
    rows = option.settings
    copies: dict[int, list[int]] = {}
    for k, row in enumerate(rows):
        if row.lowers_row >= 0:
            copies.setdefault(row.lowers_row, []).append(k)
    if any(ks != list(range(r - len(ks), r)) for r, ks in copies.items()):
        return _offered_one_by_one(option, conds)
    out: list[tuple[ir.Expr, ir.Expr]] = []
    for k, row in enumerate(rows):
        if row.lowers_row >= 0:
            continue
        cond = ir.is_true(conds.ref(row.when))
        ks = copies.get(k, [])
        if not ks:
            out.append((cond, ir.small(offered_code(k))))
            continue
        offset = offsets.ref(tuple(rows[j].lowered_by for j in ks))
        out.append((cond, ir.Add((ir.small(offered_code(ks[0])), offset))))
    return out


def _offered_one_by_one(option: Option, conds: _Conditions) -> list[tuple[ir.Expr, ir.Expr]]:
    """(condition, code) of each setting of the option, copies too (each its row's condition AND its
    warnings'), for knowledge whose copies are not right before their row."""
    own = {k: ir.is_true(conds.ref(row.when)) for k, row in enumerate(option.settings) if row.lowers_row < 0}
    return [
        (
            own[k] if k in own else ir.all_of(own[row.lowers_row], *(ir.is_true(conds.ref(c)) for c in row.lowered_by)),
            ir.small(offered_code(k)),
        )
        for k, row in enumerate(option.settings)
    ]


def _outputs(
    kb: KnowledgeBase, conds: _Conditions, code_of: dict[str, ir.Expr], gate_refs: dict[tuple[str, int], ir.Expr]
) -> Stage:
    """The result columns (`RESULT_COLUMNS`) from the option codes, gates, test rules and cautions."""

    def code_is(option: Option, value: int) -> ir.Expr:
        code = code_of[option.id]
        if isinstance(code, ir.Lit):
            return ir.FALSE
        return ir.Cmp("=", code, ir.small(value))

    by_id = sorted(kb.options, key=lambda o: o.id)
    ranked = ranked_settings(kb)
    exclusions, holds = _gate_outputs(by_id, gate_refs, code_is)
    tests = []
    for test in kb.vocabulary.tests:
        why = [ir.is_true(conds.ref(r.when)) for r in kb.test_rules if r.test == test]
        why += [
            ir.all_of(code_is(o, CODE_HELD), ir.IsNull(gate_refs[(o.id, k)]))
            for o in kb.options
            for k, g in enumerate(o.gates)
            if g.test == test and g.on_unknown == "hold" and (o.id, k) in gate_refs
        ]
        tests.append((ir.any_of(*why), test))
    caution_refs = [(c, conds.ref(c.when)) for c in kb.global_cautions]
    return (
        ("intent", ir.Col(fact_column("plan.intent"))),
        ("intent_rule", ir.Col("_intent_rule")),
        ("options", _collect([(code_is(o, offered_code(k)), o.id) for o, k, _ in ranked])),
        ("settings", _collect([(code_is(o, offered_code(k)), s.id) for o, k, s in ranked])),
        ("excluded", _collect([(code_is(o, CODE_EXCLUDED), o.id) for o in by_id])),
        ("exclusions", _collect(exclusions)),
        ("held", _collect([(code_is(o, CODE_HELD), o.id) for o in by_id])),
        ("holds", _collect(holds)),
        ("tests_needed", _collect(tests)),
        ("cautions", _collect([(ir.is_true(r), c.id) for c, r in caution_refs])),
        ("cautions_unknown", _collect([(ir.IsNull(r), c.id) for c, r in caution_refs if c.unknown])),
    )


def _gate_outputs(
    by_id: list[Option], gate_refs: dict[tuple[str, int], ir.Expr], code_is: Callable[[Option, int], ir.Expr]
) -> tuple[list[tuple[ir.Expr, str]], list[tuple[ir.Expr, str]]]:
    """(condition, option/gate) of each exclusion and each hold, by option id then gate order."""
    exclusions: list[tuple[ir.Expr, str]] = []
    holds: list[tuple[ir.Expr, str]] = []
    for o in by_id:
        for k, g in enumerate(o.gates):
            if (o.id, k) not in gate_refs:
                continue
            ref = gate_refs[(o.id, k)]
            if g.effect == "excludes":
                exclusions.append((ir.all_of(code_is(o, CODE_EXCLUDED), ir.is_true(ref)), _pair(o, g)))
            if g.on_unknown == "hold":
                holds.append((ir.all_of(code_is(o, CODE_HELD), ir.IsNull(ref)), _pair(o, g)))
    return exclusions, holds


def _pair(option: Option, gate: Gate) -> str:
    return f"{option.id}{SEP}{gate.id}"


def _collect(items: list[tuple[ir.Expr, str]]) -> ir.Expr:
    for _, label in items:
        if not label or any(ch.isspace() for ch in label):
            raise ValueError(f"cohort results join ids with spaces: id {label!r} must not contain whitespace")
    return ir.Collect(tuple((c, label) for c, label in items if c != ir.FALSE))
