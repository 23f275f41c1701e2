"""A small column-expression language: what the cohort plan is made of, before any back end sees it.

The rule language is compiled once into these nodes; `duckdb_sql`, `polars_expr` and `spark` only print
them. Keeping the node set small and its semantics explicit is what lets three engines agree: every
boolean node is three-valued (NULL = unknown) with Kleene AND/OR/NOT, comparisons and `In` give NULL on a
NULL input, and the few two-valued nodes (`IsNull`, `Fold` with `all`/`any`, `Coalesce`) say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, assert_never

Scalar = str | int | bool | None
LitKind = Literal["text", "int", "small", "bool", "text_list", "lines"]  # small: 8-bit codes
# JSON / list types: "text" | "int" | "bool" | ("list", T) | ("struct", ((name, T), ...))
JsonType = Any
TEXT_LIST: JsonType = ("list", "text")
LINES: JsonType = ("list", ("struct", (("agents", ("list", "text")), ("stopped_for", "text"))))


@dataclass(frozen=True, slots=True)
class Col:
    """A column of the current frame. `never_null` says that the plan made it so that it is never NULL
    (a choice among non-NULL literals): a printer may rely on it (see `polars_expr._case`)."""

    name: str
    never_null: bool = False


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal; `kind` fixes the type of NULL literals and of integers (always 64-bit). List kinds are
    for NULL only (a column that the input does not have)."""

    value: Scalar
    kind: LitKind


@dataclass(frozen=True, slots=True)
class Var:
    """The element bound by the enclosing `Fold`."""

    name: str


@dataclass(frozen=True, slots=True)
class Field:
    """A field of a struct value."""

    base: Expr
    name: str


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


@dataclass(frozen=True, slots=True)
class IsNull:
    """Two-valued: true exactly when the value is NULL."""

    item: Expr


@dataclass(frozen=True, slots=True)
class Cmp:
    """`left op right` with op in = <> < <= > >=; NULL if either side is NULL."""

    op: Literal["=", "<>", "<", "<=", ">", ">="]
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class In:
    """Membership in a list of non-NULL literals; NULL if the value is NULL."""

    item: Expr
    values: tuple[Lit, ...]


@dataclass(frozen=True, slots=True)
class Case:
    """The first `when` that is TRUE (NULL counts as not true) gives the value, else `default`."""

    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr


@dataclass(frozen=True, slots=True)
class Coalesce:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class BitAnd:
    """Bitwise AND of two 64-bit integers (NULL propagates)."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BitOr:
    """Bitwise OR of 64-bit integers (NULL propagates)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Lookup:
    """Map a text to an integer through a fixed table; `default` for anything else (and for NULL)."""

    item: Expr
    table: tuple[tuple[str, int], ...]
    default: int


@dataclass(frozen=True, slots=True)
class Last:
    """Last element of a list; NULL for a NULL or empty list."""

    item: Expr


@dataclass(frozen=True, slots=True)
class Collect:
    """The `label`s whose condition is TRUE, in the given order, joined by single spaces ('' when none).

    Result lists are ids (never containing spaces) stored as text: one text per row is written and read
    far faster than a list column, and `string_split(x, ' ')` gives the list back."""

    items: tuple[tuple[Expr, str], ...]


@dataclass(frozen=True, slots=True)
class Add:
    """Sum of integers of one width (NULL propagates); 8-bit sums must stay below 128."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Mul:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Fold:
    """Reduce a list: `bit_or` of `body` over elements (0 for an empty list), `all` / `any` of a boolean
    `body` (two-valued: a NULL body counts as false), `count` of TRUE bodies. A NULL list gives NULL."""

    items: Expr
    var: str
    body: Expr
    how: Literal["bit_or", "all", "any", "count"]


@dataclass(frozen=True, slots=True)
class Len:
    """Number of list elements; NULL for a NULL list."""

    item: Expr


@dataclass(frozen=True, slots=True)
class TextLen:
    """Length of a text in bytes (UTF-8); an upper bound of its length in characters."""

    item: Expr


@dataclass(frozen=True, slots=True)
class Matches:
    """Full match of a text against a regular expression (RE2/Java/Rust subset: ASCII classes only)."""

    item: Expr
    pattern: str


@dataclass(frozen=True, slots=True)
class ToInt:
    """Text of ASCII digits (already checked by `Matches`) to a 64-bit integer; NULL otherwise."""

    item: Expr


@dataclass(frozen=True, slots=True)
class ToText:
    """Any scalar as text (for an integer id)."""

    item: Expr


@dataclass(frozen=True, slots=True)
class JsonDecode:
    """JSON text to a typed value. Only applied to text that `Matches` has checked (never raises)."""

    item: Expr
    type: JsonType


@dataclass(frozen=True, slots=True)
class Cast:
    """Reinterpret a value as another IR type (text <-> lists are not allowed; used for int widths)."""

    item: Expr
    kind: Literal["int", "bool", "text"]


Expr = (
    Col
    | Lit
    | Var
    | Field
    | And
    | Or
    | Not
    | IsNull
    | Cmp
    | In
    | Case
    | Coalesce
    | BitAnd
    | BitOr
    | Lookup
    | Last
    | Collect
    | Add
    | Mul
    | Fold
    | Len
    | TextLen
    | Matches
    | ToInt
    | ToText
    | JsonDecode
    | Cast
)

TRUE = Lit(True, "bool")
FALSE = Lit(False, "bool")
NULL_BOOL = Lit(None, "bool")
NULL_INT = Lit(None, "int")
NULL_TEXT = Lit(None, "text")
ZERO = Lit(0, "int")


def text(value: str | None) -> Lit:
    return Lit(value, "text")


def integer(value: int | None) -> Lit:
    return Lit(value, "int")


def small(value: int) -> Lit:
    """An 8-bit integer (option codes, the intent index): eight times less to move than a 64-bit one."""
    assert -128 <= value <= 127
    return Lit(value, "small")


def all_of(*items: Expr) -> Expr:
    """Kleene AND with constant folding (TRUE items dropped, a FALSE item decides)."""
    kept: list[Expr] = []
    for item in items:
        if item == FALSE:
            return FALSE
        if item != TRUE and item not in kept:
            kept.append(item)
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def any_of(*items: Expr) -> Expr:
    """Kleene OR with constant folding."""
    kept: list[Expr] = []
    for item in items:
        if item == TRUE:
            return TRUE
        if item != FALSE and item not in kept:
            kept.append(item)
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else Or(tuple(kept))


def negate(item: Expr) -> Expr:
    if item == TRUE:
        return FALSE
    if item == FALSE:
        return TRUE
    if isinstance(item, Not):
        return item.item
    return Not(item)


def is_true(item: Expr) -> Expr:
    """Two-valued: TRUE only when `item` is TRUE (NULL -> FALSE)."""
    if item in (TRUE, FALSE):
        return item
    if item == NULL_BOOL:
        return FALSE
    return Coalesce((item, FALSE))


def is_false(item: Expr) -> Expr:
    """Two-valued: TRUE only when `item` is FALSE."""
    return is_true(negate(item))


def when(cond: Expr, then: Expr, otherwise: Expr) -> Expr:
    if cond == TRUE:
        return then
    if cond in (FALSE, NULL_BOOL):
        return otherwise
    return Case(((cond, then),), otherwise)


def bit(cond: Expr, weight: int) -> Expr:
    """`weight` when `cond` is TRUE, else 0 (used to pack flags into signature words)."""
    return when(cond, integer(weight), ZERO)


def total(items: list[Expr]) -> Expr:
    kept = [i for i in items if i != ZERO]
    if not kept:
        return ZERO
    return kept[0] if len(kept) == 1 else Add(tuple(kept))


def children(expr: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions (for analyses such as 'which columns does this read')."""
    match expr:
        case Col() | Lit() | Var():
            return ()
        case And() | Or() | Coalesce() | Add() | BitOr():
            return expr.items
        case Not() | IsNull() | Len() | TextLen() | Matches() | ToInt() | ToText() | JsonDecode() | Cast() | Lookup():
            return (expr.item,)
        case Last() | In():
            return (expr.item,)
        case Field():
            return (expr.base,)
        case Cmp() | BitAnd() | Mul():
            return (expr.left, expr.right)
        case Case():
            return (*(x for pair in expr.whens for x in pair), expr.default)
        case Collect():
            return tuple(c for c, _ in expr.items)
        case Fold():
            return (expr.items, expr.body)
        case _:
            assert_never(expr)


def columns_read(expr: Expr) -> frozenset[str]:
    if isinstance(expr, Col):
        return frozenset({expr.name})
    return frozenset().union(*(columns_read(c) for c in children(expr)))


def prune(stages: list[list[tuple[str, Expr]]], keep: list[str]) -> list[tuple[list[str], list[tuple[str, Expr]]]]:
    """Per stage: the earlier columns still needed afterwards, and the new columns still needed.

    Keeps each stage's projection as narrow as the rest of the plan allows (the SQL engines analyse every
    column a `SELECT *` carries, which made planning the wide plans slow); unused expressions are dropped.
    """
    needed = set(keep)
    out: list[tuple[list[str], list[tuple[str, Expr]]]] = []
    for stage in reversed(stages):
        produced = {name for name, _ in stage}
        live = [(name, expr) for name, expr in stage if name in needed]
        carried = needed - produced
        needed = carried.union(*(columns_read(expr) for _, expr in live))
        out.append((sorted(carried), live))
    out.reverse()
    return out


def inputs_of(stages: list[list[tuple[str, Expr]]], keep: list[str]) -> list[str]:
    """The columns that must exist before the first stage for `keep` to be computed."""
    pruned = prune(stages, keep)
    if not pruned:
        return sorted(set(keep))
    carried, first = pruned[0]
    return sorted(set(carried).union(*(columns_read(e) for _, e in first)))


def _is_true_of(expr: Expr) -> Expr | None:
    """`x` when `expr` is `is_true(x)` (printed `COALESCE(x, FALSE)`), else None."""
    if isinstance(expr, Coalesce) and len(expr.items) == 2 and expr.items[1] == FALSE:
        return expr.items[0]
    return None


def _two_valued(expr: Expr) -> bool:
    """Whether `expr` is a boolean that is never NULL (by its form; False when it cannot tell)."""
    match expr:
        case IsNull():
            return True
        case Coalesce():
            return _is_true_of(expr) is not None
        case Not():
            return _two_valued(expr.item)
        case And() | Or():
            return all(_two_valued(i) for i in expr.items)
        case Lit():
            return expr.kind == "bool" and expr.value is not None
        case Fold():
            return expr.how in ("all", "any")
        case _:
            return False


def _truth(expr: Expr) -> Expr:
    """`expr` where only its being TRUE matters (a `Case` condition): `is_true` is implied, so it is dropped,
    also inside AND and OR (an AND or an OR is TRUE exactly when it is of the items' TRUE-ness)."""
    inner = _is_true_of(expr)
    if inner is not None:
        return _truth(inner)
    if isinstance(expr, And):
        return And(tuple(_truth(i) for i in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(_truth(i) for i in expr.items))
    return expr


def _merged(expr: And | Or) -> Expr:
    """An AND or OR of two-valued items, at least two of them `is_true(x)`, as one `is_true` of the AND or OR
    of the items without their own: `is_true(a) OR is_true(b)` is `is_true(a OR b)` for every a and b."""
    if sum(_is_true_of(i) is not None for i in expr.items) < 2 or not all(_two_valued(i) for i in expr.items):
        return expr
    items = tuple(_truth(i) for i in expr.items)
    return is_true(And(items) if isinstance(expr, And) else Or(items))


def lean(expr: Expr) -> Expr:
    """`expr` with fewer `is_true` (COALESCE(x, FALSE)) nodes, for the same values on every row.

    The plan states TRUE-ness where it reads it, so that every node means what it says; a printer need not
    compute it where the context implies it. A `Case` condition treats NULL as not TRUE, so `is_true` is
    dropped there (through AND and OR); an AND or OR of several `is_true` items takes one `is_true` of the
    whole. On the Polars plan of the shipped knowledge this removes most of the ~3,300 COALESCE nodes of the
    option codes and the result words (each a pass over every row)."""
    memo: dict[int, tuple[Expr, Expr]] = {}  # by identity (hashing a deep tree is slow); holds e, so id(e) stays its

    def walk(e: Expr) -> Expr:
        key = id(e)
        if key not in memo:
            memo[key] = (e, _lean_node(e, walk))
        return memo[key][1]

    return walk(expr)


def _lean_node(e: Expr, walk: Callable[[Expr], Expr]) -> Expr:
    match e:
        case Case():
            return Case(tuple((walk(_truth(c)), walk(v)) for c, v in e.whens), walk(e.default))
        case And():
            return _merged(And(tuple(walk(i) for i in e.items)))
        case Or():
            return _merged(Or(tuple(walk(i) for i in e.items)))
        case Coalesce():
            items = tuple(walk(i) for i in e.items)
            inner = _is_true_of(Coalesce(items))
            return inner if inner is not None and _two_valued(inner) else Coalesce(items)
        case Not():
            return Not(walk(e.item))
        case IsNull():
            return IsNull(walk(e.item))
        case Cmp():
            return Cmp(e.op, walk(e.left), walk(e.right))
        case In():
            return In(walk(e.item), e.values)
        case Add():
            return Add(tuple(walk(i) for i in e.items))
        case Cast():
            return Cast(walk(e.item), e.kind)
        case Mul():
            return Mul(walk(e.left), walk(e.right))
        case Fold():
            return Fold(walk(e.items), e.var, walk(e.body), e.how)
        case Collect():
            return Collect(tuple((walk(_truth(c)), label) for c, label in e.items))
        case _:
            return e
