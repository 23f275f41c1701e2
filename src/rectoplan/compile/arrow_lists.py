"""The list stage with Arrow kernels: the same columns as `case_columns.ListStage`, for native lists.

List folds (`list.eval`, lambdas) are the slowest thing the embedded engines do per row. Here each list
column is handled once as a flat array of its elements: codes by hash lookup (`index_in`), per-row sums
by prefix sums over the list offsets, and per-row bit ORs by visiting element positions 0, 1, 2, ... of
every row at once (rows hold a handful of elements). Semantics are those of the IR stage, which stays
the definition (Spark and text inputs use it); the equivalence tests run both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.compile.case_columns import LIST_COLUMNS, RawType, has, ok
from rectoplan.compile.columns import BY_NAME, LINE_AGENTS_MAX, STOP_REASONS
from rectoplan.compile.rules import SetLayout, fact_column, layouts
from rectoplan.core.knowledge import KnowledgeBase

NATIVE = ("missing", "null", "text_list", "lines")


def applicable(raw: Mapping[str, RawType]) -> bool:
    """Whether every list column is stored natively (or absent), which is what this stage reads."""
    kinds = {name: raw.get(name, RawType("missing")).kind for name in LIST_COLUMNS}
    lines = raw.get("prior_lines", RawType("missing"))
    if lines.kind == "lines" and "agents" not in lines.fields:
        return False
    return (
        all(k in NATIVE for k in kinds.values())
        and kinds["prior_lines"] in ("missing", "null", "lines")
        and all(kinds[n] != "lines" for n in LIST_COLUMNS if n != "prior_lines")
    )


def _list(array: Any) -> pa.Array:
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if pa.types.is_large_list(array.type) or pa.types.is_list_view(array.type):
        array = array.cast(pa.list_(array.type.value_type))
    return array


def _index_in(values: pa.Array, domain: Sequence[str]) -> pa.Array:
    """Each value's index in `domain` (NULL when absent). Dictionary-encoded values (as read from Parquet)
    are looked up once per distinct text."""
    value_set = pa.array(domain, pa.string())
    if pa.types.is_dictionary(values.type):
        return pc.take(pc.index_in(values.dictionary, value_set=value_set), values.indices)
    return pc.index_in(values, value_set=value_set)


def _offsets(lists: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(starts, lengths, valid) per row; a null row has length 0."""
    offsets = lists.offsets
    starts = offsets.slice(0, len(lists))
    lengths = pc.subtract(offsets.slice(1, len(lists)), starts)
    valid = pc.is_valid(lists)
    return starts, pc.if_else(valid, lengths, 0), valid


def _segment_sum(values: pa.Array, starts: pa.Array, lengths: pa.Array) -> pa.Array:
    """Per-row sums of child-aligned integers (prefix sums over the offsets)."""
    prefix = pa.concat_arrays([pa.array([0], pa.int64()), pc.cumulative_sum(pc.cast(values, pa.int64()))])
    return pc.subtract(pc.take(prefix, pc.add(starts, lengths)), pc.take(prefix, starts))


def _segment_or(values: pa.Array, starts: pa.Array, lengths: pa.Array) -> pa.Array:
    """Per-row bitwise OR of child-aligned integers, element position by element position."""
    acc = pa.nulls(len(starts), pa.int64()).fill_null(0)
    longest = pc.max(lengths).as_py() or 0
    if len(values) == 0:
        return acc
    last = len(values) - 1
    for j in range(longest):
        at = pc.min_element_wise(pc.add(starts, j), last)
        picked = pc.if_else(pc.greater(lengths, j), pc.take(values, at), 0)
        acc = pc.bit_wise_or(acc, picked)
    return acc


def _weights(layout: SetLayout, word: int, weight_of: Mapping[str, Sequence[str]], domain: Sequence[str]) -> pa.Array:
    """For each code (index in `domain`) the bits of `word` its members set."""
    out = []
    for element in domain:
        out.append(sum(w for (k, w) in (layout.weight(m) for m in set(weight_of.get(element, ()))) if k == word))
    return pa.array(out, pa.int64())


def _distinct(lists: pa.Array) -> tuple[pa.Array, pa.Array] | None:
    """(for each row the number of its distinct value, the first row of each distinct value), or None.

    Treatment histories repeat (a million registry rows held 67,000 distinct ones), so they are worked out
    once per distinct history. Rows are grouped by Polars' `group_by` on the list values themselves (exact:
    equal groups mean equal histories, never a shared hash); when more than a quarter of the rows differ,
    grouping would not pay and None says to work row by row."""
    import polars as pl

    frame = pl.DataFrame({"value": pl.Series(lists)}).with_row_index("row")
    groups = frame.group_by("value", maintain_order=True).agg(pl.col("row"))  # in order of first appearance
    if len(groups) > len(lists) // 4:
        return None
    member = groups.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("group"), "row").explode("row")
    return member.sort("row")["group"].to_arrow(), groups["row"].list.first().to_arrow()


class ArrowLists:
    """Computes the list stage's columns for a table whose list columns are native."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.sets = layouts(kb.schema)
        self.drugs = list(kb.vocabulary.drugs)
        self.procedures = list(kb.vocabulary.procedures)

    def _member_column(
        self,
        table: pa.Table,
        name: str,
        domain: list[str],
        max_items: int,
        once: bool = False,
    ) -> tuple[pa.Array | None, pa.Array, pa.Array, pa.Array, pa.Array]:
        """(codes or None, starts, lengths, present, ok) of a list-of-ids column (absent: all null)."""
        n = table.num_rows
        if name not in table.column_names or pa.types.is_null(table.schema.field(name).type):
            zeros = pa.nulls(n, pa.int64()).fill_null(0)
            false = pa.nulls(n, pa.bool_()).fill_null(False)
            return None, zeros, zeros, false, pc.invert(false)
        lists = _list(table.column(name))
        starts, lengths, valid = _offsets(lists)
        codes = _index_in(lists.values, domain)
        bad = _segment_sum(pc.cast(pc.is_null(codes), pa.int64()), starts, lengths)
        fine = pc.and_(pc.less_equal(lengths, max_items), pc.equal(bad, 0))
        for code in range(len(domain) if once else 0):  # each value once (symptoms; an operation may repeat)
            here = _segment_sum(pc.cast(pc.fill_null(pc.equal(codes, code), False), pa.int64()), starts, lengths)
            fine = pc.and_(fine, pc.less_equal(here, 1))
        return codes, starts, lengths, valid, pc.or_(pc.invert(valid), fine)

    def _mask(
        self,
        fact: str,
        word: int,
        codes: pa.Array | None,
        starts: pa.Array,
        lengths: pa.Array,
        domain: list[str],
        weight_of: Mapping[str, Sequence[str]],
    ) -> pa.Array:
        if codes is None:
            return pa.nulls(len(starts), pa.int64()).fill_null(0)
        bits = pc.fill_null(pc.take(_weights(self.sets[fact], word, weight_of, domain), codes), 0)
        return _segment_or(bits, starts, lengths)

    def columns(self, table: pa.Table) -> dict[str, pa.Array]:
        out: dict[str, pa.Array] = {}
        symptoms = list(self.sets["symptoms"].domain)
        parts = {}
        for name in ("primary_symptoms", "local_recurrence_symptoms"):
            parts[name] = self._member_column(table, name, symptoms, BY_NAME[name].max_items, once=True)
            out[has(name)], out[ok(name)] = parts[name][3], parts[name][4]
        either = pc.or_(parts["primary_symptoms"][3], parts["local_recurrence_symptoms"][3])
        for word, column in enumerate(self.sets["symptoms"].words):
            same = {s: (s,) for s in symptoms}
            masks = [self._mask("symptoms", word, *parts[n][:3], symptoms, same) for n in parts]
            out[column] = pc.if_else(either, pc.bit_wise_or(*masks), pa.scalar(None, pa.int64()))
        codes, starts, lengths, valid, fine = self._member_column(
            table, "prior_surgeries", self.procedures, BY_NAME["prior_surgeries"].max_items
        )
        out[has("prior_surgeries")], out[ok("prior_surgeries")] = valid, fine
        for word, column in enumerate(self.sets["prior.surgeries"].words):
            mask = self._mask(
                "prior.surgeries", word, codes, starts, lengths, self.procedures, {p: (p,) for p in self.procedures}
            )
            out[column] = pc.if_else(valid, mask, pa.scalar(None, pa.int64()))
        out.update(self._lines(table))
        return out

    def _drug_masks(self, codes: pa.Array, starts: pa.Array, lengths: pa.Array) -> list[pa.Array]:
        """Per line, the words of its drugs' bits (one word per 62 drugs of the vocabulary)."""
        layout = self.sets["prior.agents"]
        same = {d: (d,) for d in self.drugs}
        return [
            self._mask("prior.agents", w, codes, starts, lengths, self.drugs, same) for w in range(len(layout.words))
        ]

    def _derived(
        self, drug_words: list[pa.Array], layout: SetLayout, word: int, weight_of: Mapping[str, Sequence[str]]
    ) -> pa.Array:
        """Word `word` of a set fact whose members follow from each drug (itself, its classes, ...)."""
        drug_layout = self.sets["prior.agents"]
        if len(drug_words) == 1:
            encoded = pc.dictionary_encode(drug_words[0])
            values = []
            for bits in encoded.dictionary.to_pylist():
                members = [d for d in self.drugs if bits & drug_layout.weight(d)[1]]
                values.append(
                    sum(
                        {w for d in members for m in weight_of.get(d, ()) for (k, w) in [layout.weight(m)] if k == word}
                    )
                )
            return pc.take(pa.array(values, pa.int64()), encoded.indices)
        raise NotImplementedError("more than 62 drugs in the vocabulary")  # pragma: no cover

    def _lines(self, table: pa.Table) -> dict[str, pa.Array]:
        kb = self.kb
        n = table.num_rows
        out: dict[str, pa.Array] = {}
        drugs = {d: (d,) for d in self.drugs}
        classes = {d: tuple(kb.drug_classes.get(d, ())) for d in self.drugs}
        resist = {d: (kb.resistance_class[d],) for d in self.drugs if d in kb.resistance_class}
        plan: list[tuple[str, str | None, Mapping[str, Sequence[str]]]] = [
            ("prior.agents", None, drugs),
            ("prior.progressed_agents", "progression", drugs),
            ("prior.intolerant_agents", "intolerance", drugs),
            ("prior.classes", None, classes),
            ("prior.progressed_classes", "progression", resist),
            ("prior.ongoing_agents", "ongoing", drugs),  # only the last line may be ongoing (the validator's rule)
        ]
        if "prior_lines" not in table.column_names or pa.types.is_null(table.schema.field("prior_lines").type):
            zeros = pa.nulls(n, pa.int64()).fill_null(0)
            false = pa.nulls(n, pa.bool_()).fill_null(False)
            out[has("prior_lines")], out[ok("prior_lines")] = false, pc.invert(false)
            for fact, _, _ in plan:
                for column in self.sets[fact].words:
                    out[column] = zeros
            out[fact_column("prior.line_count")] = zeros
            out[fact_column("prior.systemic_recorded")] = false
            out[fact_column("prior.ongoing_line")] = pa.nulls(n, pa.bool_())
            return out
        lines = _list(table.column("prior_lines"))
        distinct = _distinct(lines)
        if distinct is None:
            return self._lines_of(lines, plan)
        indices, firsts = distinct
        return {name: column.take(indices) for name, column in self._lines_of(lines.take(firsts), plan).items()}

    def _lines_of(
        self, lines: pa.Array, plan: Sequence[tuple[str, str | None, Mapping[str, Sequence[str]]]]
    ) -> dict[str, pa.Array]:
        out: dict[str, pa.Array] = {}
        starts, count, valid = _offsets(lines)
        items = lines.values  # one struct per line
        fields = [items.type.field(i).name for i in range(items.type.num_fields)]
        agents = _list(items.field("agents"))
        a_starts, a_count, a_valid = _offsets(agents)
        codes = _index_in(agents.values, self.drugs)
        unknown = _segment_sum(pc.cast(pc.is_null(codes), pa.int64()), a_starts, a_count)
        stop = items.field("stopped_for") if "stopped_for" in fields else pa.nulls(len(items), pa.string())
        stop = stop.dictionary_decode() if pa.types.is_dictionary(stop.type) else stop
        line_ok = pc.and_kleene(
            a_valid,
            pc.and_(
                pc.and_(pc.greater_equal(a_count, 1), pc.less_equal(a_count, LINE_AGENTS_MAX)), pc.equal(unknown, 0)
            ),
        )
        line_ok = pc.and_(line_ok, pc.or_(pc.is_null(stop), pc.is_in(stop, value_set=pa.array(STOP_REASONS))))
        for extra in (f for f in fields if f not in ("agents", "stopped_for")):
            line_ok = pc.and_(line_ok, pc.is_null(items.field(extra)))
        line_ok = pc.and_(pc.fill_null(line_ok, False), pc.is_valid(items))
        bad_lines = _segment_sum(pc.cast(pc.invert(line_ok), pa.int64()), starts, count)
        ongoing = pc.fill_null(pc.equal(stop, "ongoing"), False)
        n_ongoing = _segment_sum(pc.cast(ongoing, pa.int64()), starts, count)
        last = pc.max_element_wise(pc.subtract(pc.add(starts, count), 1), 0)
        last_ongoing = pc.and_(pc.greater(count, 0), pc.take(ongoing, last)) if len(ongoing) else pc.greater(count, 0)
        ongoing_fine = pc.or_(pc.equal(n_ongoing, 0), pc.and_(pc.equal(n_ongoing, 1), last_ongoing))
        fine = pc.and_(
            pc.and_(pc.less_equal(count, BY_NAME["prior_lines"].max_items), pc.equal(bad_lines, 0)), ongoing_fine
        )
        out[has("prior_lines")], out[ok("prior_lines")] = valid, pc.or_(pc.invert(valid), fine)
        # Per line, only the drug bits are gathered from the agents; the class and resistance bits are a
        # function of them, computed once per distinct drug combination (few) and looked up.
        per_line = self._drug_masks(codes, a_starts, a_count)
        for fact, reason, weight_of in plan:
            for word, column in enumerate(self.sets[fact].words):
                mask = self._derived(per_line, self.sets[fact], word, weight_of)
                if reason is not None:
                    mask = pc.if_else(pc.fill_null(pc.equal(stop, reason), False), mask, 0)
                out[column] = _segment_or(mask, starts, count)
        out[fact_column("prior.line_count")] = pc.cast(count, pa.int64())
        out[fact_column("prior.systemic_recorded")] = valid
        out[fact_column("prior.ongoing_line")] = pc.if_else(valid, last_ongoing, pa.scalar(None, pa.bool_()))
        return out
