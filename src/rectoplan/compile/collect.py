"""Result lists for the embedded engines: pack each `Collect` into bit words, build its text per distinct word.

A `Collect` (the ids whose condition holds, joined by spaces) is the semantic definition, and Spark prints
it as it is. Building a text per row is the slowest thing an embedded engine can do here, so for them each
item's condition becomes one bit of a 62-bit word (per row only integers are computed), and the texts are
made once per distinct word combination and broadcast back as a dictionary column. Outputs with the same
conditions (ranked options and their settings) share their words.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class Keyed:
    """The result words that the option codes alone decide (ranked options and settings, excluded, held),
    worked out once per distinct combination of codes instead of once per row.

    `keys` are the key word columns computed per row, each holding the codes of `CODES_PER_KEY` code columns
    in its bytes (lowest byte first); `stage` computes the words from the code columns."""

    keys: tuple[tuple[str, tuple[str, ...]], ...]
    stage: tuple[tuple[str, ir.Expr], ...]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.stage)


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


def key_word(codes: Sequence[str]) -> ir.Expr:
    """The 64-bit word holding each of the `codes` columns (8-bit, 0..127) in one byte, lowest first."""
    parts: list[ir.Expr] = []
    for b, name in enumerate(codes):
        wide = ir.Cast(ir.Col(name), "int")
        parts.append(wide if b == 0 else ir.Mul(wide, ir.integer(1 << (8 * b))))
    return ir.total(parts)
