"""Result lists for the embedded engines: pack each `Collect` into bit words, build its text per distinct word.

A `Collect` (the ids whose condition holds, joined by spaces) is the semantic definition, and Spark prints
it as it is. Building a text per row is the slowest thing an embedded engine can do here, so for them each
item's condition becomes one bit of a 62-bit word (per row only integers are computed), and the texts are
made once per distinct word combination and broadcast back as a dictionary column. Outputs with the same
conditions (ranked options and their settings) share their words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rectoplan.compile import ir
from rectoplan.compile.rules import WORD_BITS

Stage = Sequence[tuple[str, ir.Expr]]


Field = tuple[str, int, int, int]  # a packed column, its word, shift and width
Test = tuple[tuple[str, int], ...]  # a label is set when every (column, value) holds


@dataclass(frozen=True, slots=True)
class Packed:
    """Where one result column's items live: `labels[w][b]` is the id of bit `b` of word column `words[w]`."""

    name: str
    words: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    # A *coded* output: `words` hold small integer columns side by side (`fields`: column, word, shift,
    # width), and label i is set exactly when every (column, value) of `tests[i]` holds.
    tests: tuple[Test, ...] = ()
    fields: tuple[Field, ...] = ()


def _small(e: ir.Expr) -> int | None:
    """The value of an 8-bit integer literal (an option code), else None."""
    return e.value if isinstance(e, ir.Lit) and e.kind == "small" and isinstance(e.value, int) else None


def value_ranges(stages: Sequence[Stage]) -> dict[str, int]:
    """The largest value of each column that is a choice among small non-negative literals (option codes)."""
    out: dict[str, int] = {}
    for stage in stages:
        for name, expr in stage:
            if isinstance(expr, ir.Case):
                values = [_small(v) for v in (*(v for _, v in expr.whens), expr.default)]
                numbers = [v for v in values if v is not None]
                if len(numbers) == len(values) and min(numbers) >= 0:
                    out[name] = max(numbers)
    return out


def _code_test(cond: ir.Expr, ranges: Mapping[str, int]) -> tuple[str, int] | None:
    """(column, value) when `cond` is `code column = value`, else None."""
    if not (isinstance(cond, ir.Cmp) and cond.op == "=" and isinstance(cond.left, ir.Col)):
        return None
    value = _small(cond.right)
    return (cond.left.name, value) if cond.left.name in ranges and value is not None else None


def _code_tests(expr: ir.Collect, ranges: Mapping[str, int], flags: dict[ir.Expr, str]) -> tuple[Test, ...] | None:
    """For a `Collect` whose every item is `code column = value`, optionally AND-ed with other conditions
    (an exclusion is `code = excluded AND gate is TRUE`), each item's tests; else None. The other
    conditions become *flags* (`flags`, expression to name), one bit each: an item holds exactly when its
    code has its value and each of its flags is TRUE."""
    found: dict[ir.Expr, str] = {}
    tests: list[Test] = []
    for cond, _ in expr.items:
        parts = cond.items if isinstance(cond, ir.And) else (cond,)
        read = [(part, _code_test(part, ranges)) for part in parts]
        codes = [t for _, t in read if t is not None]
        if len(codes) != 1:
            return None
        others = [part for part, t in read if t is None]
        names = [flags.get(part) or found.setdefault(part, f"_g_{len(flags) + len(found)}") for part in others]
        tests.append((*codes, *((name, 1) for name in names)))
    flags.update(found)
    return tuple(tests) if tests else None


def _code_words(columns: Sequence[str], ranges: Mapping[str, int]) -> tuple[list[ir.Expr], list[Field]]:
    """Small integer columns side by side in 62-bit words: (word expressions, fields).

    The codes are 8-bit columns. Those that fall in one 7-bit window of a word are summed as 8-bit
    integers first, and only those partial sums are widened and shifted into place (as `packed_word` does
    for bits): a third of the 64-bit arithmetic."""
    fields: list[Field] = []
    word, shift = 0, 0
    for column in columns:
        width = max(1, ranges[column].bit_length())
        if shift + width > WORD_BITS:
            word, shift = word + 1, 0
        fields.append((column, word, shift, width))
        shift += width
    words: list[ir.Expr] = []
    for w in range(word + 1):
        windows: list[list[Field]] = []
        for f in (f for f in fields if f[1] == w):
            if not windows or f[2] + f[3] - windows[-1][0][2] > BYTE_BITS:
                windows.append([])
            windows[-1].append(f)
        parts: list[ir.Expr] = []
        for window in windows:
            base = window[0][2]
            small = [ir.Col(c) if s == base else ir.Mul(ir.Col(c), ir.small(1 << (s - base))) for c, _, s, _ in window]
            wide: ir.Expr = ir.Cast(small[0] if len(small) == 1 else ir.Add(tuple(small)), "int")
            parts.append(wide if base == 0 else ir.Mul(wide, ir.integer(1 << base)))
        words.append(ir.total(parts))
    return words, fields


def pack_outputs(
    outputs: Stage, ranges: Mapping[str, int] | None = None
) -> tuple[list[list[tuple[str, ir.Expr]]], list[Packed], list[str]]:
    """(the stage computing the words, packed outputs, names of the other outputs, kept as they are).

    The other outputs (texts from a small CASE, such as the intent) are evaluated as they are; they are
    included in the returned stage.

    Outputs decided by option codes (`code = value` items, with the codes' `ranges` known), alone or
    AND-ed with gate conditions, are *coded*: per row only the codes themselves are packed, three bits
    each, with one bit per distinct gate condition, and their items' bits are worked out per distinct
    combination, where the texts are made. For options, settings, excluded and held that is some 80 codes
    per row instead of some 370 bits; exclusions and holds (about 300 option and gate pairs) add one word
    of 57 gate bits.

    Complex: it holds the coded-outputs branch that issue 16 proposes to remove; not split before that decision
    (docs/architecture.md)."""
    ranges = ranges or {}
    words_stage: list[tuple[str, ir.Expr]] = []
    packed: list[Packed] = []
    plain: list[str] = []
    shared: dict[tuple[ir.Expr, ...], tuple[str, ...]] = {}
    flags: dict[ir.Expr, str] = {}
    coded = {
        name: t for name, expr in outputs if isinstance(expr, ir.Collect) and (t := _code_tests(expr, ranges, flags))
    }
    code_columns = list(dict.fromkeys(c for tests in coded.values() for test in tests for c, _ in test if c in ranges))
    code_words: tuple[str, ...] = ()
    flag_words: tuple[str, ...] = ()
    fields: list[Field] = []
    flag_fields: list[Field] = []
    if code_columns:
        exprs, fields = _code_words(code_columns, ranges)
        code_words = tuple(f"_w_codes_{k}" for k in range(len(exprs)))
        words_stage += list(zip(code_words, exprs, strict=True))
    conditions = list(flags)
    for k in range(0, len(conditions), WORD_BITS):
        batch = conditions[k : k + WORD_BITS]
        word = f"_w_flags_{len(flag_words)}"
        words_stage.append((word, packed_word(batch)))
        flag_fields += [(flags[c], len(code_words) + len(flag_words), j, 1) for j, c in enumerate(batch)]
        flag_words += (word,)
    for name, expr in outputs:
        if not isinstance(expr, ir.Collect):
            words_stage.append((name, expr))
            plain.append(name)
            continue
        chunks = [expr.items[i : i + WORD_BITS] for i in range(0, len(expr.items), WORD_BITS)]
        labels = tuple(tuple(label for _, label in chunk) for chunk in chunks)
        if name in coded:
            flagged = any(c not in ranges for test in coded[name] for c, _ in test)
            words, own = (code_words + flag_words, fields + flag_fields) if flagged else (code_words, fields)
            packed.append(Packed(name, words, labels, coded[name], tuple(own)))
            continue
        conds = tuple(c for c, _ in expr.items)
        if conds in shared:
            words = shared[conds]
        else:
            words = tuple(f"_w_{name}_{k}" for k in range(len(chunks)))
            shared[conds] = words
            for word, chunk in zip(words, chunks, strict=True):
                words_stage.append((word, packed_word([c for c, _ in chunk])))
        packed.append(Packed(name, words, labels))
    return [words_stage], packed, plain


BYTE_BITS = 7  # bits summed as 8-bit integers before widening: positive, so no engine sees an overflow


def packed_word(conds: Sequence[ir.Expr]) -> ir.Expr:
    """A 64-bit word whose bit `j` is set when `conds[j]` is TRUE.

    Summing 64-bit weights moves eight bytes per row for every bit; the bits are summed seven at a time as
    8-bit integers, and only those partial sums are widened and shifted into place (about twice as fast in
    Polars for the result words)."""
    parts: list[ir.Expr] = []
    for start in range(0, len(conds), BYTE_BITS):
        chunk = conds[start : start + BYTE_BITS]
        flags = [ir.when(ir.is_true(c), ir.small(1 << j), ir.small(0)) for j, c in enumerate(chunk)]
        kept = [f for f in flags if f != ir.small(0)]
        if not kept:
            continue
        wide = ir.Cast(kept[0] if len(kept) == 1 else ir.Add(tuple(kept)), "int")
        parts.append(wide if start == 0 else ir.Mul(wide, ir.integer(1 << start)))
    return ir.total(parts)


def columns_of(packed: Sequence[Packed]) -> list[str]:
    """Every word column the assembly reads."""
    return list(dict.fromkeys(c for p in packed for c in p.words))
