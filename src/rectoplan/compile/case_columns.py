"""Flattened case columns to facts, column-wise: the mirror of `rectoplan.core.facts.case_facts`.

Three stages, each one expression per output column:

- `ListStage` reads the four list-valued columns (symptoms, surgeries, prior lines; native lists or JSON
  text) and gives, per column, `_has_X` (present) and `_ok_X` (absent, or certainly valid), plus the
  facts derived from lists (set facts as bit words, the number of lines). Local engines may compute the
  same columns with Arrow kernels instead (`rectoplan.compile.arrow_lists`); the tests hold both equal.
- `Normalizer` types each scalar column (text from CSV, native values from Parquet/JSON) and computes
  `_clean`: TRUE only for rows that the edge validator certainly accepts *and* whose values the
  column-wise derivation reads exactly as Python would. Every other row is left to Python
  (`rectoplan.cohort.columns.validate_row`), which rejects it with the validator's own messages or gives
  its canonical row, so the compiled path never imitates an error message.
- `FactDeriver` derives every other case fact of the schema, following facts.py line by line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from rectoplan.adapters._case_json_checks import APR, EXCLUSIVE, IN_PLACE_ONLY, SINCE_LAST_LINE
from rectoplan.adapters.variants import CANONICAL
from rectoplan.compile import ir
from rectoplan.compile.columns import BY_NAME, COLUMNS, LINE_AGENTS_MAX, STOP_REASONS, FlatColumn
from rectoplan.compile.rules import SetLayout, fact_column, layouts
from rectoplan.core.case import SITES
from rectoplan.core.fields import BY_FACT, FIELDS, HER2_POSITIVE_RESULTS
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.schema import FactType

RawKind = Literal["missing", "null", "text", "int", "bool", "text_list", "lines", "other"]
Stage = list[tuple[str, ir.Expr]]
LIST_COLUMNS = ("primary_symptoms", "local_recurrence_symptoms", "prior_surgeries", "prior_lines")
LIST_FACTS = (
    "symptoms",
    "prior.surgeries",
    "prior.agents",
    "prior.progressed_agents",
    "prior.intolerant_agents",
    "prior.classes",
    "prior.progressed_classes",
    "prior.ongoing_agents",
    "prior.line_count",
    "prior.systemic_recorded",
    "prior.ongoing_line",
)
# Columns whose "unknown" is an empty cell: the table's fields with an unknown token, and the resectabilities.
UNKNOWN_TOKEN: Final = {f.column: f.unknown_token for f in FIELDS if f.unknown_token} | {
    name: "unknown" for name in ("local_recurrence_resectability", *(f"met_{s}_resectability" for s in SITES))
}
DIGITS = "[0-9]{1,9}"
NO_CONTROL = r"[^\x00-\x1f\x7f]*"  # as the edge validator's text: no control characters
G12C = "G12C"
CANONICAL_VARIANT = CANONICAL.pattern
SITE_PARTS = ("count", "resectability", "largest_mm")  # the met_<site>_<part> columns; any one records the site


@dataclass(frozen=True, slots=True)
class RawType:
    """How an input column is stored. `fields` lists the struct fields of a native `lines` column."""

    kind: RawKind
    fields: tuple[str, ...] = ()


def n(name: str) -> str:
    return "n_" + name


def has(name: str) -> str:
    return "_has_" + name


def ok(name: str) -> str:
    return "_ok_" + name


def is_option_fact(name: str, ftype: FactType) -> bool:
    """Facts of the option under evaluation: fixed at load time, never columns."""
    return ftype.option or name.startswith("option.")


def _alternation(values: tuple[str, ...]) -> str:
    return "(" + "|".join(re.escape(v) for v in values) + ")"


def list_regex(values: tuple[str, ...], max_items: int) -> str:
    """Strict JSON list of known ids (what the column-wise path decodes; anything else goes to Python)."""
    member = '"' + _alternation(values) + '"'
    return r"\[\s*(" + member + r"(\s*,\s*" + member + f"){{0,{max_items - 1}}})?" + r"\s*\]"


def lines_regex(drugs: tuple[str, ...]) -> str:
    """Strict JSON of prior lines: objects with `agents` (and optionally `stopped_for`), in either order."""
    drug = '"' + _alternation(drugs) + '"'
    agents = r'"agents"\s*:\s*\[\s*' + drug + r"(\s*,\s*" + drug + f"){{0,{LINE_AGENTS_MAX - 1}}}" + r"\s*\]"
    stop = r'"stopped_for"\s*:\s*("' + _alternation(STOP_REASONS) + '"|null)'
    line = r"\{\s*(" + agents + r"(\s*,\s*" + stop + r")?|" + stop + r"\s*,\s*" + agents + r")\s*\}"
    max_lines = BY_NAME["prior_lines"].max_items
    return r"\[\s*(" + line + r"(\s*,\s*" + line + f"){{0,{max_lines - 1}}})?" + r"\s*\]"


def _is(value: ir.Expr, member: str) -> ir.Expr:
    return ir.is_true(ir.Cmp("=", value, ir.text(member)))


class ListStage:
    """Presence, validity and the derived facts of the list-valued columns."""

    def __init__(self, kb: KnowledgeBase, raw: Mapping[str, RawType]) -> None:
        self.kb = kb
        self.raw = raw
        self.sets: dict[str, SetLayout] = layouts(kb.schema)
        self.drugs = tuple(kb.vocabulary.drugs)

    def kind(self, name: str) -> RawKind:
        return self.raw.get(name, RawType("missing")).kind

    def value(self, col: FlatColumn) -> tuple[ir.Expr, ir.Expr, ir.Expr]:
        """(typed list or NULL, present, valid-or-absent) for one list column."""
        kind = self.kind(col.name)
        raw = ir.Col(col.name)
        typed_null = ir.Lit(None, "lines" if col.kind == "lines" else "text_list")
        if kind in ("missing", "null"):
            return typed_null, ir.FALSE, ir.TRUE
        present: ir.Expr = ir.Not(ir.IsNull(raw))
        if kind == "text":
            present = ir.all_of(present, ir.Cmp("<>", raw, ir.text("")))
            pattern = lines_regex(self.drugs) if col.kind == "lines" else list_regex(self.domain(col), col.max_items)
            shape = ir.is_true(ir.Matches(raw, pattern))
            decoded = ir.JsonDecode(
                ir.when(shape, raw, ir.NULL_TEXT), ir.LINES if col.kind == "lines" else ir.TEXT_LIST
            )
            valid = ir.all_of(shape, self.ongoing_last(decoded) if col.kind == "lines" else self.once(decoded, col))
            return decoded, present, ir.any_of(ir.IsNull(raw), ir.is_true(valid))
        if kind == "text_list" and col.kind != "lines":
            return raw, present, ir.any_of(ir.IsNull(raw), ir.is_true(self.members_ok(raw, col)))
        if kind == "lines" and col.kind == "lines":
            return raw, present, ir.any_of(ir.IsNull(raw), ir.is_true(self.lines_ok(raw)))
        return typed_null, present, ir.IsNull(raw)

    def domain(self, col: FlatColumn) -> tuple[str, ...]:
        return col.values if col.kind == "enum_list" else tuple(self.kb.vocabulary.procedures)

    def members_ok(self, items: ir.Expr, col: FlatColumn) -> ir.Expr:
        member = ir.In(ir.Var("e"), tuple(ir.text(v) for v in self.domain(col)))
        return ir.all_of(
            ir.Cmp("<=", ir.Len(items), ir.integer(col.max_items)),
            ir.Fold(items, "e", member, "all"),
            self.once(items, col),
        )

    @staticmethod
    def once(items: ir.Expr, col: FlatColumn) -> ir.Expr:
        """Each symptom listed once (the validator refuses one listed twice); an operation may be repeated."""
        if col.kind != "enum_list":
            return ir.TRUE
        count = [ir.Fold(items, "e", _is(ir.Var("e"), v), "count") for v in col.values]
        return ir.all_of(*(ir.Cmp("<=", c, ir.integer(1)) for c in count))

    def lines_ok(self, lines: ir.Expr) -> ir.Expr:
        fields = self.raw["prior_lines"].fields
        if "agents" not in fields:
            return ir.FALSE
        line = ir.Var("l")
        agents = ir.Field(line, "agents")
        checks: list[ir.Expr] = [
            ir.Not(ir.IsNull(agents)),
            ir.Cmp(">=", ir.Len(agents), ir.integer(1)),
            ir.Cmp("<=", ir.Len(agents), ir.integer(LINE_AGENTS_MAX)),
            ir.Fold(agents, "a", ir.In(ir.Var("a"), tuple(ir.text(d) for d in self.drugs)), "all"),
        ]
        if "stopped_for" in fields:
            stop = ir.Field(line, "stopped_for")
            checks.append(ir.any_of(ir.IsNull(stop), ir.In(stop, tuple(ir.text(s) for s in STOP_REASONS))))
        checks += [ir.IsNull(ir.Field(line, f)) for f in fields if f not in ("agents", "stopped_for")]
        return ir.all_of(
            ir.Cmp("<=", ir.Len(lines), ir.integer(BY_NAME["prior_lines"].max_items)),
            ir.Fold(lines, "l", ir.is_true(ir.all_of(*checks)), "all"),
            self.ongoing_last(lines),
        )

    def ongoing_last(self, lines: ir.Expr) -> ir.Expr:
        """'ongoing' only on the last line: no ongoing line, or exactly one and it is the last."""
        raw = self.raw["prior_lines"]
        if raw.kind == "lines" and "stopped_for" not in raw.fields:
            return ir.TRUE
        ongoing = ir.Fold(lines, "l", _is(ir.Field(ir.Var("l"), "stopped_for"), "ongoing"), "count")
        last = _is(ir.Field(ir.Last(lines), "stopped_for"), "ongoing")
        return ir.any_of(ir.Cmp("=", ongoing, ir.ZERO), ir.all_of(ir.Cmp("=", ongoing, ir.integer(1)), last))

    def mask(self, fact: str, items: ir.Expr, weight_of: Mapping[str, tuple[str, ...]]) -> list[ir.Expr]:
        """Bit words of the union over list elements e of the members `weight_of[e]`."""
        layout = self.sets[fact]
        out: list[ir.Expr] = []
        for word in range(len(layout.words)):
            table = []
            for element, members in weight_of.items():
                weight = sum(w for (k, w) in (layout.weight(m) for m in set(members)) if k == word)
                if weight:
                    table.append((element, weight))
            body = ir.Lookup(ir.Var("e"), tuple(table), 0) if table else ir.ZERO
            out.append(ir.Fold(items, "e", body, "bit_or"))
        return out

    def lines_mask(
        self, fact: str, lines: ir.Expr, stop: str | None, weight_of: Mapping[str, tuple[str, ...]]
    ) -> list[ir.Expr]:
        out: list[ir.Expr] = []
        for inner in self.mask(fact, ir.Field(ir.Var("l"), "agents"), weight_of):
            body = ir.when(_is(ir.Field(ir.Var("l"), "stopped_for"), stop), inner, ir.ZERO) if stop else inner
            out.append(ir.Coalesce((ir.Fold(lines, "l", body, "bit_or"), ir.ZERO)))
        return out

    def stage(self) -> Stage:
        kb = self.kb
        values = {c: self.value(BY_NAME[c]) for c in LIST_COLUMNS}
        out: Stage = []
        for c in LIST_COLUMNS:
            out += [(has(c), values[c][1]), (ok(c), values[c][2])]
        f: dict[str, list[ir.Expr]] = {}
        (p_sym, p_has, _), (l_sym, l_has, _) = values["primary_symptoms"], values["local_recurrence_symptoms"]
        symptoms = {s: (s,) for s in self.sets["symptoms"].domain}
        f["symptoms"] = [
            ir.when(
                ir.any_of(p_has, l_has), ir.BitOr((ir.Coalesce((a, ir.ZERO)), ir.Coalesce((b, ir.ZERO)))), ir.NULL_INT
            )
            for a, b in zip(self.mask("symptoms", p_sym, symptoms), self.mask("symptoms", l_sym, symptoms), strict=True)
        ]
        surgeries, s_has, _ = values["prior_surgeries"]
        f["prior.surgeries"] = [
            ir.when(s_has, ir.Coalesce((m, ir.ZERO)), ir.NULL_INT)
            for m in self.mask("prior.surgeries", surgeries, {p: (p,) for p in kb.vocabulary.procedures})
        ]
        lines, l_present, _ = values["prior_lines"]
        drugs = {d: (d,) for d in kb.vocabulary.drugs}
        classes = {d: tuple(kb.drug_classes.get(d, ())) for d in kb.vocabulary.drugs}
        resist = {d: (kb.resistance_class[d],) for d in kb.vocabulary.drugs if d in kb.resistance_class}
        f["prior.agents"] = self.lines_mask("prior.agents", lines, None, drugs)
        f["prior.progressed_agents"] = self.lines_mask("prior.progressed_agents", lines, "progression", drugs)
        f["prior.intolerant_agents"] = self.lines_mask("prior.intolerant_agents", lines, "intolerance", drugs)
        f["prior.classes"] = self.lines_mask("prior.classes", lines, None, classes)
        f["prior.progressed_classes"] = self.lines_mask("prior.progressed_classes", lines, "progression", resist)
        # only the last line may be ongoing (the validator's rule), so the ongoing lines are the running one
        f["prior.ongoing_agents"] = self.lines_mask("prior.ongoing_agents", lines, "ongoing", drugs)
        for fact, words in f.items():
            out += list(zip(self.sets[fact].words, words, strict=True))
        out.append((fact_column("prior.line_count"), ir.Coalesce((ir.Len(lines), ir.ZERO))))
        out.append((fact_column("prior.systemic_recorded"), l_present))
        last_ongoing = ir.is_true(_is(ir.Field(ir.Last(lines), "stopped_for"), "ongoing"))
        out.append((fact_column("prior.ongoing_line"), ir.when(l_present, last_ongoing, ir.NULL_BOOL)))
        return out


class Normalizer:
    """Types each scalar column and decides `_clean` (list columns come from the list stage).

    With `kb`, the row checks also read the operations done from the list stage's `prior.surgeries` words
    (which the Arrow list stage writes too), so that an abdominoperineal resection with the primary in place
    or no stoma is left to Python, which refuses it as the case JSON validator does, and so is growth recorded
    since a line the list stage reads as still running. Without `kb` those checks are missing and such a row
    gets a result: the cohort plan always passes it (`compile.plan.input_stages`)."""

    def __init__(self, raw: Mapping[str, RawType], kb: KnowledgeBase | None = None) -> None:
        self.raw = raw
        self.oks: list[ir.Expr] = []
        surgeries = layouts(kb.schema).get("prior.surgeries") if kb is not None else None
        self.reads_lists = kb is not None  # the list stage's fact columns are read (the cohort plan)
        self.apr_word: tuple[str, int] | None = None
        if surgeries is not None and APR in surgeries.domain:
            word, weight = surgeries.weight(APR)
            self.apr_word = (surgeries.words[word], weight)

    def column(self, col: FlatColumn) -> ir.Expr:
        """The typed value of one column; appends its cleanliness check to `self.oks`."""
        kind = self.raw.get(col.name, RawType("missing")).kind
        raw = ir.Col(col.name)
        null = ir.Lit(None, "int" if col.kind == "int" else "bool" if col.kind in ("bool", "staged") else "text")
        if kind in ("missing", "null"):
            return null
        absent = ir.IsNull(raw)
        # Empty text is absent in every format; the column-wise path leaves it to Python to say so.
        nonempty = ir.Cmp("<>", raw, ir.text("")) if kind == "text" else ir.TRUE
        value, valid = self.typed(col, kind, raw)
        if valid == ir.FALSE:
            self.oks.append(absent)
            return null
        self.oks.append(ir.any_of(absent, ir.is_true(ir.all_of(nonempty, valid))))
        return value

    def typed(self, col: FlatColumn, kind: RawKind, raw: ir.Expr) -> tuple[ir.Expr, ir.Expr]:
        if col.kind == "raw":
            return raw, ir.FALSE  # contract 2 inputs only the edge reads: such a row goes to Python
        if col.kind == "id":
            if kind == "text":
                short = ir.Cmp("<=", ir.TextLen(raw), ir.integer(col.max_chars))
                return raw, ir.all_of(short, ir.Matches(raw, NO_CONTROL))
            if kind == "int":
                return ir.ToText(raw), ir.TRUE
            return raw, ir.FALSE
        if col.kind == "int":
            if kind == "int":
                value: ir.Expr = ir.Cast(raw, "int")
                return value, self.bounds(value, col)
            if kind == "text":
                digits = ir.Matches(raw, DIGITS)
                value = ir.when(ir.is_true(digits), ir.ToInt(raw), ir.NULL_INT)
                return value, ir.all_of(digits, self.bounds(value, col))
            return raw, ir.FALSE
        if col.kind in ("bool", "staged"):
            if kind == "bool":
                return raw, ir.TRUE
            if kind == "text":
                return ir.Cmp("=", raw, ir.text("true")), ir.In(raw, (ir.text("true"), ir.text("false")))
            return raw, ir.FALSE
        if kind != "text":
            return raw, ir.FALSE
        if col.kind == "enum":
            return raw, ir.In(raw, tuple(ir.text(v) for v in col.values))
        # kras_variant: only the canonical notation is read column-wise; any other (p.Gly12Cys, c.34G>T)
        # goes to the edge, which normalises it or names the problem (rectoplan.adapters.variants).
        return raw, ir.Matches(raw, CANONICAL_VARIANT)

    @staticmethod
    def bounds(value: ir.Expr, col: FlatColumn) -> ir.Expr:
        return ir.all_of(ir.Cmp(">=", value, ir.integer(col.low)), ir.Cmp("<=", value, ir.integer(col.high)))

    def stage(self) -> Stage:
        out = [(n(col.name), self.column(col)) for col in COLUMNS if col.name not in LIST_COLUMNS]
        values = dict(out)
        site_filled = [ir.any_of(*(ir.Not(ir.IsNull(values[n(f"met_{s}_{k}")])) for k in SITE_PARTS)) for s in SITES]
        lr_present = ir.any_of(
            ir.Not(ir.IsNull(values[n("local_recurrence_resectability")])), ir.Col(has("local_recurrence_symptoms"))
        )
        row_checks = [
            *(ir.Col(ok(c)) for c in LIST_COLUMNS),
            ir.Not(ir.IsNull(values[n("id")])),
            # her2 and the reported HER2 test agree (either may be absent)
            ir.any_of(
                ir.IsNull(values[n("her2_result")]),
                ir.IsNull(_unknown_to_null("her2", values[n("her2")])),
                ir.is_true(ir.Cmp("=", values[n("her2")], _her2_of_result(values[n("her2_result")]))),
            ),
            # a KRAS variant only with a mutant KRAS
            ir.any_of(ir.IsNull(values[n("kras_variant")]), _is(values[n("kras")], "mutant")),
            # a local recurrence follows removal of the primary
            ir.any_of(ir.Not(lr_present), ir.Not(_is(values[n("primary_status")], "in_place"))),
            # an abdominoperineal resection removed the primary and left a permanent colostomy
            self.after_apr(values[n("primary_status")], values[n("primary_stoma")]),
            # the MRI staging and the resectability of the primary describe a tumour in place
            ir.any_of(
                ir.Not(_is(values[n("primary_status")], "resected")),
                ir.all_of(*(ir.IsNull(values[n(f"primary_{name}")]) for name in IN_PLACE_ONLY)),
            ),
            # no growth recorded since a line that still runs (`_case_json_checks._growth_on_running_line`)
            self.no_growth_on_running_line(values[n("prior_progressed_since_last_line")]),
            # no growth (true or false) recorded since a last line the row records as none (`prior_lines: []`)
            self.no_growth_without_a_line(values[n(BY_FACT[SINCE_LAST_LINE].column)]),
            # two yes/no fields that exclude each other (`_case_json_checks.EXCLUSIVE`)
            *(
                ir.negate(ir.all_of(_holds(values, e.field, e.value), _holds(values, e.other, e.other_value)))
                for e in EXCLUSIVE
            ),
            # metastases_known = false contradicts a filled met_* column
            ir.any_of(ir.Not(ir.is_false(values[n("metastases_known")])), ir.negate(ir.any_of(*site_filled))),
            # scope: stage 4 or recurrent
            ir.any_of(lr_present, *site_filled),
        ]
        out.append(("_clean", ir.is_true(ir.all_of(*self.oks, *row_checks))))
        return out

    def after_apr(self, status: ir.Expr, stoma: ir.Expr) -> ir.Expr:
        """No abdominoperineal resection in the operations done, or neither the primary in place nor a record
        of no stoma (`_case_json_checks._after_apr_problems`)."""
        if self.apr_word is None:
            return ir.TRUE
        word, weight = self.apr_word
        done = ir.Cmp("<>", ir.BitAnd(ir.Coalesce((ir.Col(word), ir.ZERO)), ir.integer(weight)), ir.ZERO)
        return ir.any_of(ir.Not(done), ir.all_of(ir.Not(_is(status, "in_place")), ir.Not(ir.is_false(stoma))))

    def no_growth_on_running_line(self, grown: ir.Expr) -> ir.Expr:
        """Growth since the last line not recorded true while the list stage's last line is ongoing (read with
        `kb`, as the operations are)."""
        if not self.reads_lists:
            return ir.TRUE
        ongoing = ir.is_true(ir.Col(fact_column("prior.ongoing_line")))
        return ir.any_of(ir.Not(ir.is_true(grown)), ir.Not(ongoing))

    def no_growth_without_a_line(self, grown: ir.Expr) -> ir.Expr:
        """No growth recorded (either way) with the lines given and none (`_case_json_derive._growth_after_no_line`),
        with `kb`."""
        if not self.reads_lists:
            return ir.TRUE
        recorded = ir.is_true(ir.Col(fact_column("prior.systemic_recorded")))
        none = ir.Cmp("=", ir.Col(fact_column("prior.line_count")), ir.ZERO)
        return ir.any_of(ir.IsNull(grown), ir.Not(ir.all_of(recorded, ir.is_true(none))))


def _holds(values: Mapping[str, ir.Expr], fact: str, member: bool) -> ir.Expr:
    """TRUE when the typed yes/no column of `fact` holds `member` (FALSE when it is NULL or holds the other)."""
    value = values[n(BY_FACT[fact].column)]
    return ir.is_true(value) if member else ir.is_false(value)


def _her2_of_result(result: ir.Expr) -> ir.Expr:
    """HER2 status from the reported test (NULL when there is none), as the edge derives it."""
    positive = ir.In(result, tuple(ir.text(r) for r in HER2_POSITIVE_RESULTS))
    return ir.Case(
        ((ir.IsNull(result), ir.NULL_TEXT), (ir.is_true(positive), ir.text("positive"))), ir.text("negative")
    )


def _unknown_to_null(name: str, value: ir.Expr) -> ir.Expr:
    token = UNKNOWN_TOKEN.get(name)
    if token is None:
        return value
    return ir.Case(((ir.Cmp("=", value, ir.text(token)), ir.NULL_TEXT),), value)


def _worst(lesions: list[tuple[ir.Expr, ir.Expr]], unknown_extra: ir.Expr = ir.FALSE) -> ir.Expr:
    """facts._worst over (present, resectability-or-NULL) lesions; `unknown_extra` adds an unknown lesion."""
    any_unknown = ir.any_of(unknown_extra, *(ir.all_of(p, ir.IsNull(r)) for p, r in lesions))
    return ir.Case(
        (
            (ir.any_of(*(_is(r, "unresectable") for _, r in lesions)), ir.text("unresectable")),
            (any_unknown, ir.NULL_TEXT),
            (ir.any_of(*(_is(r, "potentially_resectable") for _, r in lesions)), ir.text("potentially_resectable")),
            (ir.any_of(*(_is(r, "resectable") for _, r in lesions)), ir.text("resectable")),
        ),
        ir.NULL_TEXT,
    )


class FactDeriver:
    """One expression per scalar case fact of the knowledge base's schema, from the normalized columns."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def stage(self) -> Stage:
        """The facts as expressions: the table's fields, then the derived facts in the order of
        `core.facts.case_facts`, which it mirrors (the differential tests hold them equal). Long by design:
        one entry per derived fact."""
        c = {col.name: ir.Col(n(col.name)) for col in COLUMNS if col.name not in LIST_COLUMNS}
        v = {name: _unknown_to_null(name, c[name]) for name in c}
        # the table's fields: one column, one fact, the unknown token and an empty cell both unknown
        f: dict[str, ir.Expr] = {field.fact: v[field.column] for field in FIELDS}
        # HER2 from the reported test when `her2` itself is not given (adapters.case_v2.her2_from_result)
        f["biomarkers.her2"] = ir.when(ir.Not(ir.IsNull(v["her2"])), v["her2"], _her2_of_result(c["her2_result"]))
        lr_present = ir.any_of(
            ir.Not(ir.IsNull(c["local_recurrence_resectability"])), ir.Col(has("local_recurrence_symptoms"))
        )
        lr_res = v["local_recurrence_resectability"]
        f["local_recurrence.present"] = lr_present
        f["local_recurrence.resectability"] = ir.when(lr_present, lr_res, ir.text("none"))

        present = {s: ir.any_of(*(ir.Not(ir.IsNull(c[f"met_{s}_{k}"])) for k in SITE_PARTS)) for s in SITES}
        known = ir.any_of(ir.is_true(c["metastases_known"]), *present.values())
        unstaged = ir.Not(known)
        res = {s: v[f"met_{s}_resectability"] for s in SITES}
        f["metastases.known"] = known
        site_layout = layouts(self.kb.schema)["metastases.sites"]
        sites = [
            ir.when(
                known,
                ir.total([ir.bit(present[s], w) for s in SITES for (k, w) in [site_layout.weight(s)] if k == word]),
                ir.NULL_INT,
            )
            for word in range(len(site_layout.words))
        ]
        f["metastases.site_count"] = ir.when(known, ir.total([ir.bit(present[s], 1) for s in SITES]), ir.NULL_INT)
        missing_count = ir.any_of(*(ir.all_of(present[s], ir.IsNull(c[f"met_{s}_count"])) for s in SITES))
        f["metastases.total_count"] = ir.Case(
            ((unstaged, ir.NULL_INT), (missing_count, ir.NULL_INT)),
            ir.Add(tuple(ir.Coalesce((c[f"met_{s}_count"], ir.ZERO)) for s in SITES)),
        )
        none_present = ir.negate(ir.any_of(*present.values()))
        f["metastases.resectability"] = ir.Case(
            ((unstaged, ir.NULL_TEXT), (none_present, ir.text("none"))), _worst([(present[s], res[s]) for s in SITES])
        )
        for s in SITES:
            f[f"metastases.{s}.count"] = ir.Case(
                ((unstaged, ir.NULL_INT), (ir.Not(present[s]), ir.ZERO)), c[f"met_{s}_count"]
            )
            f[f"metastases.{s}.largest_mm"] = ir.Case(
                ((unstaged, ir.NULL_INT), (ir.Not(present[s]), ir.ZERO)), c[f"met_{s}_largest_mm"]
            )
            f[f"metastases.{s}.resectability"] = ir.Case(
                ((unstaged, ir.NULL_TEXT), (ir.Not(present[s]), ir.text("none"))), res[s]
            )
        f["disease.resectability"] = _worst([(lr_present, lr_res), *((present[s], res[s]) for s in SITES)], unstaged)

        kras, nras = v["kras"], v["nras"]
        f["biomarkers.ras"] = ir.Case(
            (
                (ir.any_of(_is(kras, "mutant"), _is(nras, "mutant")), ir.text("mutant")),
                (ir.all_of(_is(kras, "wild_type"), _is(nras, "wild_type")), ir.text("wild_type")),
            ),
            ir.NULL_TEXT,
        )
        variant = c["kras_variant"]
        f["biomarkers.kras_g12c"] = ir.Case(
            ((ir.Not(ir.IsNull(variant)), ir.is_true(ir.Matches(variant, G12C))), (_is(kras, "wild_type"), ir.FALSE)),
            ir.NULL_BOOL,
        )

        out: Stage = []
        for name, ftype in self.kb.schema.items():
            if is_option_fact(name, ftype) or name in ("plan.intent", *LIST_FACTS):
                continue
            if name == "metastases.sites":
                out += list(zip(site_layout.words, sites, strict=True))
            elif name in f:
                out.append((fact_column(name), f[name]))
            else:
                raise ValueError(f"the cohort compiler does not derive fact {name!r}: add it to case_columns.py")
        return out
