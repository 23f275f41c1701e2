"""Python source for conditions in the rule language, as the compiled plan and what-if's deciders write it
(split from `rectoplan.core.plan`, which assembles the plan from these pieces).

Kleene logic spelled out (`is True` / `is False` tests, `None` for unknown), literals as constants of
the generated module, fact tests defined once before their first use; `_Local` reads each fact once into
a local and looks the tests of a much-tested fact up in a table; `_Inline` writes tests where they are
used, for short-circuit decisions. Pure computation: no I/O, no state beyond the generators.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count
from operator import itemgetter
from typing import Any, assert_never

from rectoplan.core.conditions import _CMP, All, AnyOf, Condition, Const, Count, Not, Test, count_result


def _count_of(op: str, n: int, results: tuple[bool | None, ...]) -> bool | None:
    return count_result(op, n, results.count(True), results.count(None))


class _Gen:
    """Builds expression source for conditions; literals become named constants of the module."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {"_count_of": _count_of}
        self.names = count()
        self.const_names: dict[Any, str] = {}
        self.tests: dict[Test, str] = {}
        self.pending: list[str] = []

    def const(self, value: Any) -> str:
        """A literal's source: written in place when it is a plain scalar (a constant of the code, faster to
        load than a global), else the name of a module constant."""
        if type(value) in (str, int, bool) or value is None:
            return repr(value)
        if type(value) is frozenset and value and all(type(v) in (str, int) for v in value):
            return "{" + ", ".join(sorted(map(repr, value))) + "}"  # `x in {...}`: folded to a frozenset constant
        return self._named(value)

    def _named(self, value: Any) -> str:
        key = (type(value), value)
        if key not in self.const_names:
            name = f"_k{len(self.const_names)}"
            self.const_names[key] = name
            self.consts[name] = value
        return self.const_names[key]

    def flush(self, lines: list[str]) -> None:
        """Emit the definitions of fact tests first used by the expressions generated since the last flush."""
        lines += self.pending
        self.pending = []

    def tmp(self) -> str:
        return f"_t{next(self.names)}"

    def fact_test(self, cond: Test) -> str:
        """The local variable holding a fact test's three-valued result (defined once, before first use)."""
        if cond not in self.tests:
            name = f"_f{len(self.tests)}"
            self.tests[cond] = name
            self.pending.append(f"    {name} = {self.test(cond)}")
        return self.tests[cond]

    def is_true(self, cond: Condition) -> str:
        """A two-valued expression: the condition is definitely TRUE (Kleene). Plain short-circuit logic."""
        return self.definite(cond, True)

    def all_true(self, conds: Sequence[Condition]) -> str:
        """A two-valued expression: every one of `conds` is definitely TRUE."""
        return " and ".join(self.is_true(c) for c in conds)

    def is_false(self, cond: Condition) -> str:
        """A two-valued expression: the condition is definitely FALSE (Kleene)."""
        return self.definite(cond, False)

    def definite(self, cond: Condition, want: bool) -> str:
        """`is_true` (`want`) or `is_false`: the two are mirror images (De Morgan), so one walk writes both;
        items are written by `is_true` / `is_false`, which a subclass may override for fact tests."""
        match cond:
            case Const():
                return "True" if bool(cond.value) is want else "False"
            case Test():
                return f"{self.fact_test(cond)} is {want}"
            case Not():
                return self.is_false(cond.item) if want else self.is_true(cond.item)
            case All() | AnyOf():
                both = isinstance(cond, All) is want  # all items TRUE, or (AnyOf) all items FALSE
                write = self.is_true if want else self.is_false
                return "(" + (" and " if both else " or ").join(write(i) for i in cond.items) + ")"
            case Count():
                return f"{self.expr(cond)} is {want}"
            case _:
                assert_never(cond)

    def expr(self, cond: Condition) -> str:
        """A three-valued expression (True, False or None for unknown)."""
        match cond:
            case Const():
                return "True" if cond.value else "False"
            case Test():
                return self.fact_test(cond)
            case Count():
                items = ", ".join(self.expr(i) for i in cond.items)
                return f"_count_of({cond.op!r}, {cond.n}, ({items},))"
            case Not() | All() | AnyOf():
                return f"(True if {self.is_true(cond)} else (False if {self.is_false(cond)} else None))"
            case _:
                assert_never(cond)

    def read(self, fact: str) -> str:
        """The expression that reads a fact (a subscript of `f`; `_Local` reads a local variable)."""
        return f"f[{fact!r}]"

    def test(self, t: Test) -> str:
        fact = self.read(t.fact)
        if t.op == "known":
            return f"({fact} is {'not ' if t.value else ''}None)"
        if fact.isidentifier():  # a local: no temporary needed
            return f"(None if {fact} is None else {self.body(t, fact)[1]})"
        v, body = self.body(t)
        return f"(None if ({v} := {fact}) is None else {body})"

    def body(self, t: Test, v: str = "") -> tuple[str, str]:
        """(temporary, comparison of the temporary) for a test on a known value."""
        op, value = t.op, t.value
        v = v or self.tmp()
        if op in ("in", "not_in"):
            lit = self.const(frozenset(value))
        elif op in ("contains_any", "contains_all"):  # a method's argument: a set display would be built each time
            lit = self._named(frozenset(value))
        else:
            lit = self.const(value)
        body = {
            "is": f"{v} == {lit}",
            "is_not": f"{v} != {lit}",
            "in": f"{v} in {lit}",
            "not_in": f"{v} not in {lit}",
            "contains": f"{lit} in {v}",
            "contains_any": f"not {v}.isdisjoint({lit})",
            "contains_all": f"{v}.issuperset({lit})",
        }.get(op)
        if body is None:
            assert op in _CMP
            symbol = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
            body = f"{v} {symbol} {lit}"
        return v, body


class _Inline(_Gen):
    """Fact tests written where they are used, so that `and` / `or` skip what a decision does not need.

    For what-if's deciders, which each decide one option: the plan evaluates every test once up front
    instead, since tests are shared by many options there."""

    def fact_test(self, cond: Test) -> str:
        return self.test(cond)

    def is_true(self, cond: Condition) -> str:
        return self._definitely(cond, True) if isinstance(cond, Test) else super().is_true(cond)

    def all_true(self, conds: Sequence[Condition]) -> str:
        """A two-valued expression: every one of `conds` is definitely TRUE."""
        return " and ".join(self.is_true(c) for c in conds)

    def is_false(self, cond: Condition) -> str:
        return self._definitely(cond, False) if isinstance(cond, Test) else super().is_false(cond)

    def _definitely(self, t: Test, want: bool) -> str:
        fact = self.read(t.fact)
        if t.op == "known":
            return f"({fact} is {'not ' if bool(t.value) is want else ''}None)"
        v, body = self.body(t)
        return f"(({v} := {fact}) is not None and {'' if want else 'not '}({body}))"


class _Local(_Gen):
    """Each fact read once into a local variable (`_vN`, read at the top of the plan) instead of one
    dictionary lookup per test: a knowledge base tests its ~70 facts ~250 times.

    `plan.intent` is decided inside the plan: before it is decided, intent rules read the value given in
    `f`; afterwards tests read the local `_pi`, and fact tests on it made before are forgotten."""

    def __init__(self) -> None:
        super().__init__()
        self.locals: dict[str, str] = {}
        self.decided = False
        self.test_names = count()
        self.defined: dict[str, list[tuple[str, str]]] = {}  # local read -> (name, definition line) of its tests
        self.tables: list[dict[Any, tuple[Any, ...]]] = []

    def read(self, fact: str) -> str:
        if fact == INTENT and self.decided:
            return "_pi"
        if fact not in self.locals:
            self.locals[fact] = f"_v{len(self.locals)}"
        return self.locals[fact]

    def decide_intent(self) -> None:
        self.decided = True
        self.tests = {t: name for t, name in self.tests.items() if t.fact != INTENT}

    def prologue(self) -> list[str]:
        """Each fact the plan reads into its local: all at once, by one getter in C (`_READ`)."""
        if len(self.locals) < 2:
            return [f"    {name} = f[{fact!r}]" for fact, name in self.locals.items()]
        self.consts["_READ"] = itemgetter(*self.locals)
        return [f"    {', '.join(self.locals.values())} = _READ(f)"]

    def fact_test(self, cond: Test) -> str:
        """As `_Gen.fact_test`, keeping each definition by the local it reads (for `tabled`); names come from a
        counter, as `decide_intent` forgets tests."""
        if cond not in self.tests:
            name = f"_f{next(self.test_names)}"
            self.tests[cond] = name
            line = f"    {name} = {self.test(cond)}"
            self.pending.append(line)
            self.defined.setdefault(self.read(cond.fact), []).append((name, line))
        return self.tests[cond]

    def tabled(self, lines: list[str]) -> list[str]:
        """Replace the fact tests of each local read by `TABLED` tests or more by one table lookup at the top of
        the plan: the tuple of their results per value met (a few values recur: the empty set of drugs, an
        ECOG of 1), computed by a generated function on a value first met and kept (`TABLE_SIZE` values per
        fact at most; an unhashable value is computed each time). Removes their definitions from `lines`
        and returns the lookups. A knowledge base tests a set of drugs or classes up to ~50 times."""
        out: list[str] = []
        moved: set[str] = set()
        for local, defs in self.defined.items():
            if not local.startswith("_v") or len(defs) < TABLED:
                continue
            g = len(self.tables)
            table: dict[Any, tuple[Any, ...]] = {}
            self.tables.append(table)
            names = ", ".join(name for name, _ in defs)
            exprs = ", ".join(line.split(" = ", 1)[1] for _, line in defs)
            source = (
                f"def _m{g}({local}):\n"
                f"    _r = ({exprs},)\n"
                f"    try:\n"
                f"        if len(_T{g}) < {TABLE_SIZE}: _T{g}[{local}] = _r\n"
                f"    except TypeError: pass\n"
                f"    return _r\n"
            )
            self.consts[f"_T{g}"] = table
            exec(compile(source, "<rectoplan knowledge plan tables>", "exec"), self.consts)
            out += [
                "    try:",
                f"        {names}, = _T{g}[{local}]",
                "    except (KeyError, TypeError):",
                f"        {names}, = _m{g}({local})",
            ]
            moved.update(line for _, line in defs)
        lines[:] = [line for line in lines if line not in moved]
        return out


INTENT = "plan.intent"
TABLED = 3  # a local read by this many fact tests or more has them looked up in a table (`_Local.tabled`)
TABLE_SIZE = 4096


def _setting_chain(gen: _Gen, settings: tuple[Condition, ...], x: str, common: Sequence[Condition] = ()) -> list[str]:
    """`if` / `elif` lines setting `x` to the index of the first setting that is TRUE (the caller writes the
    `else`).

    `common`: conditions every setting requires (`plan._common_conjuncts`); with two settings or more, one
    first test of them sets `x` to -1 when one is not TRUE. Most options do not apply to a given case, and
    their rows mostly share a first conjunct (metastatic, palliative, a line): one test then replaces one
    per row.

    A row that warnings lower is preceded by its lowered copies, each `All((*warnings, row))`
    (`kb/_loader_lowering.py`): such a run is written as one test of the row, then, only when it holds, of the
    copies' warnings. The first true setting is the same (a copy holds exactly when its row and its
    warnings do), but a row that does not hold costs one test instead of one per copy."""
    lines: list[str] = []
    if common and len(settings) > 1:
        lines.append(f"    if not ({gen.all_true(common)}): {x} = -1")
    i = 0
    while i < len(settings):
        keyword = "if" if not lines else "elif"
        end = _copies_end(settings, i)
        if end == i:
            lines.append(f"    {keyword} {gen.is_true(settings[i])}: {x} = {i}")
            i += 1
            continue
        lines.append(f"    {keyword} {gen.is_true(settings[end])}:")
        for j in range(i, end):
            copy = settings[j]
            assert isinstance(copy, All)  # `_copies_end` checked
            lines.append(f"        {'if' if j == i else 'elif'} {gen.is_true(All(copy.items[:-1]))}: {x} = {j}")
        lines.append(f"        else: {x} = {end}")
        i = end + 1
    return lines


def _copies_end(settings: tuple[Condition, ...], i: int) -> int:
    """The index of the row that `settings[i:end]` are copies of (each `All((..., row))`), or `i` if none."""
    first = settings[i]
    if not (isinstance(first, All) and len(first.items) > 1):
        return i
    row = first.items[-1]
    end = i
    while end < len(settings):
        s = settings[end]
        if not (isinstance(s, All) and len(s.items) > 1 and s.items[-1] == row):
            break
        end += 1
    return end if end < len(settings) and settings[end] == row else i
