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


@dataclass(frozen=True, slots=True)
class Packed:
    """Where one result column's items live: `labels[w][b]` is the id of bit `b` of word column `words[w]`."""

    name: str
    words: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]


def pack_outputs(outputs: Stage) -> tuple[list[list[tuple[str, ir.Expr]]], list[Packed], list[str]]:
    """(the stage computing the words, packed outputs, names of the other outputs, kept as they are).

    Each `Collect` becomes one bit per item, 62 to a word; outputs with the same item conditions (ranked
    options and their settings) share their words. The other outputs (texts from a small CASE, such as
    the intent) are evaluated as they are; they are included in the returned stage.

    (Until issue 16, the outputs decided by option codes were packed as the codes themselves, three bits
    each, and decoded per distinct combination. On 2 cores and a million rows that saved 0.15 s of CPU
    on registry-shaped data and cost 0.57 s on coverage-shaped data, where nearly every row is a
    combination of its own; it was removed.)"""
    words_stage: list[tuple[str, ir.Expr]] = []
    packed: list[Packed] = []
    plain: list[str] = []
    shared: dict[tuple[ir.Expr, ...], tuple[str, ...]] = {}
    for name, expr in outputs:
        if not isinstance(expr, ir.Collect):
            words_stage.append((name, expr))
            plain.append(name)
            continue
        chunks = [expr.items[i : i + WORD_BITS] for i in range(0, len(expr.items), WORD_BITS)]
        labels = tuple(tuple(label for _, label in chunk) for chunk in chunks)
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


CODES_PER_KEY = 8  # option codes (8-bit, below 128) per 64-bit key word: one byte each, lowest first
KEY_BITS = 63  # bits of a key word that narrow keys fill (the sign bit stays clear)


@dataclass(frozen=True, slots=True)
class Keyed:
    """The result words that the option codes alone decide (ranked options and settings, excluded, held),
    worked out once per distinct combination of codes instead of once per row.

    `keys` are the key word columns computed per row, each holding the codes of its code columns side by
    side, lowest first: a byte each (`CODES_PER_KEY` to a word), or, when `widths` gives them, the bits
    each code needs (`widths[k][i]` for code `i` of key `k`: `narrow_keys`). `stage` computes the words
    from the code columns."""

    keys: tuple[tuple[str, tuple[str, ...]], ...]
    stage: tuple[tuple[str, ir.Expr], ...]
    widths: tuple[tuple[int, ...], ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.stage)

    def layout(self) -> tuple[tuple[tuple[str, int, int], ...], ...]:
        """Per key word, (code column, lowest bit, bits) of each code it holds."""
        out = []
        for k, (_, names) in enumerate(self.keys):
            widths = self.widths[k] if self.widths else (8,) * len(names)
            offsets = [sum(widths[:i]) for i in range(len(names))]
            out.append(tuple(zip(names, offsets, widths, strict=True)))
        return tuple(out)


def split_by_codes(words_stage: Stage, codes: Sequence[str]) -> tuple[list[tuple[str, ir.Expr]], Keyed | None]:
    """(the stage computed per row, with the key words; the words decided by the `codes` columns alone).

    On a registry-shaped million rows the 84 option codes take some 41,000 distinct combinations, which
    decide 740 of the plan's 1,343 result bits: those bits are computed per distinct combination, and per row
    only the codes, eight to a key word. (Where nearly every row has codes of its own, the words are
    computed for nearly as many rows as before, plus the grouping by codes.)"""
    code_set = set(codes)
    by_codes = [(n, e) for n, e in words_stage if n.startswith("_w_") and ir.columns_read(e) <= code_set]
    read = sorted({c for _, e in by_codes for c in ir.columns_read(e)}, key=list(codes).index)
    if not by_codes or not read:
        return list(words_stage), None
    keys = tuple(
        (f"_k_{j}", tuple(read[i : i + CODES_PER_KEY])) for j, i in enumerate(range(0, len(read), CODES_PER_KEY))
    )
    decided = {n for n, _ in by_codes}
    per_row = [(n, e) for n, e in words_stage if n not in decided]
    per_row += [(name, key_word(columns)) for name, columns in keys]
    return per_row, Keyed(keys, tuple(by_codes))


def key_word(codes: Sequence[str], widths: Sequence[int] | None = None) -> ir.Expr:
    """The 64-bit word holding each of the `codes` columns (0..127) side by side, lowest first: in a byte
    each, or in `widths[i]` bits for code `i`."""
    parts: list[ir.Expr] = []
    offset = 0
    for b, name in enumerate(codes):
        wide = ir.Cast(ir.Col(name), "int")
        parts.append(wide if offset == 0 else ir.Mul(wide, ir.integer(1 << offset)))
        offset += widths[b] if widths is not None else 8
    return ir.total(parts)


def narrow_keys(
    per_row: Stage, keyed: Keyed | None, widths: Mapping[str, int]
) -> tuple[list[tuple[str, ir.Expr]], Keyed | None]:
    """`per_row` and `keyed` with each code in the bits it needs (`widths`, from `code_widths`) instead of a
    byte: the 84 codes of the shipped knowledge fill 5 key words instead of 11, and grouping the rows by
    their keys hashes 40 bytes a row instead of 88. Unchanged when a code's width is not known."""
    if keyed is None or not all(c in widths for _, names in keyed.keys for c in names):
        return list(per_row), keyed
    columns = [c for _, names in keyed.keys for c in names]
    groups: list[list[str]] = [[]]
    for c in columns:
        if sum(widths[x] for x in groups[-1]) + widths[c] > KEY_BITS:
            groups.append([])
        groups[-1].append(c)
    keys = tuple((f"_k_{j}", tuple(names)) for j, names in enumerate(groups))
    old = {name for name, _ in keyed.keys}
    rows = [(n, e) for n, e in per_row if n not in old]
    rows += [(name, key_word(names, [widths[c] for c in names])) for name, names in keys]
    return rows, Keyed(keys, keyed.stage, tuple(tuple(widths[c] for c in names) for _, names in keys))


def code_widths(columns: Mapping[str, ir.Expr], names: Sequence[str]) -> dict[str, int]:
    """The bits each code column of `names` needs, from the largest value its expression can take
    (`columns`: every plan column's expression by name); a column whose values cannot be bounded to
    0..127 by their form is left out."""
    out = {}
    for name in names:
        top = _largest(ir.Col(name), columns)
        if top is not None:
            out[name] = max(1, top.bit_length())
    return out


def _largest(e: ir.Expr, columns: Mapping[str, ir.Expr]) -> int | None:
    """The largest value of a non-negative small integer expression, by its form; None when not bounded."""
    match e:
        case ir.Lit():
            value = e.value
            return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 128 else None
        case ir.Col():
            return _largest(columns[e.name], columns) if e.name in columns else None
        case ir.Add():
            parts = [_largest(i, columns) for i in e.items]
            total = sum(p for p in parts if p is not None)
            return total if None not in parts and total < 128 else None
        case ir.Case():
            values = [_largest(v, columns) for _, v in e.whens] + [_largest(e.default, columns)]
            return None if None in values else max(v for v in values if v is not None)
        case _:
            return None


Table = tuple[tuple[str, tuple[int, ...]], ...]  # (code column, the word's bits for each code value 0..127)


def code_tables(keyed: Keyed) -> tuple[Table, ...] | None:
    """Per word of `keyed`, each code column it reads with the bits each of its values sets: every bit of
    a word the codes decide is "code column = value" (`plan._outputs`), packed by `packed_word`. With
    these the words of each distinct combination of codes are a few table look-ups (`local.keyed_words`)
    instead of an engine query. None when a word is not of that form (the engine then works them out)."""
    out = []
    for _, word in keyed.stage:
        bits = _packed_bits(word)
        if bits is None:
            return None
        tables: dict[str, list[int]] = {}
        for cond, weight in bits:
            test = _code_test(cond)
            if test is None:
                return None
            column, value = test
            tables.setdefault(column, [0] * 128)[value] |= weight
        out.append(tuple((c, tuple(t)) for c, t in tables.items()))
    return tuple(out)


def _packed_bits(word: ir.Expr) -> list[tuple[ir.Expr, int]] | None:
    """(condition, weight) of each bit of a word made by `packed_word`; None for any other form."""
    if word == ir.ZERO:
        return []
    parts = word.items if isinstance(word, ir.Add) else (word,)
    out: list[tuple[ir.Expr, int]] = []
    for part in parts:
        scale = 1
        if isinstance(part, ir.Mul):
            factor = part.right.value if isinstance(part.right, ir.Lit) else None
            if not isinstance(factor, int):
                return None
            part, scale = part.left, factor
        if not (isinstance(part, ir.Cast) and part.kind == "int"):
            return None
        flags = part.item.items if isinstance(part.item, ir.Add) else (part.item,)
        for flag in flags:
            if not (isinstance(flag, ir.Case) and len(flag.whens) == 1 and flag.default == ir.small(0)):
                return None
            cond, weight = flag.whens[0]
            if not (isinstance(weight, ir.Lit) and weight.kind == "small" and isinstance(weight.value, int)):
                return None
            out.append((cond, weight.value * scale))
    return out


def _code_test(cond: ir.Expr) -> tuple[str, int] | None:
    """(column, value) of `is_true(column = value)` or `column = value` with a small value 0..127."""
    if isinstance(cond, ir.Coalesce) and len(cond.items) == 2 and cond.items[1] == ir.FALSE:
        cond = cond.items[0]
    if not (isinstance(cond, ir.Cmp) and cond.op == "=" and isinstance(cond.left, ir.Col)):
        return None
    value = cond.right
    if isinstance(value, ir.Lit) and value.kind == "small" and isinstance(value.value, int) and 0 <= value.value < 128:
        return cond.left.name, value.value
    return None
