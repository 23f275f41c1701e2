"""The cohort summary: one dictionary of numbers, written as JSON and drawn as self-contained HTML.

Both files come from the same `summary` dictionary, so the HTML never shows a number the JSON does not
hold (every drawn count carries it in a `data-count` attribute; the tests read them back). The HTML is
rendered by the plan's Jinja2 template set (escaped): responsive inline SVG bar charts, each followed by
its data table (a screen reader or a spreadsheet reads the table), inline CSS, no script and no network.

Denominators: a share is always "cases out of the cases evaluated", so it can never exceed 100%. A rule
that excludes three options of one case counts that case once in "cases excluded by each rule"; the
events (case x option) are kept apart, as counts per case, never as a share.
"""

from __future__ import annotations

import collections
import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rectoplan.compile.plan import SEP

REPORT_FORMAT = "rectoplan.cohort-report/1"


ValueCounts = Mapping[str, list[tuple[str | None, int]]]  # result column -> (distinct text, rows)
COUNTED = ("intent", "options", "excluded", "held", "exclusions", "holds", "tests_needed", "cautions")


def value_counts(results: pa.Table) -> dict[str, list[tuple[str | None, int]]]:
    """Rows per distinct text of each counted result column (what the report is computed from)."""
    out = {}
    for name in COUNTED:
        column = results.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):  # count the small indices, not the texts
            counted = pc.value_counts(column.indices).to_pylist()
            texts = column.dictionary.to_pylist()
            out[name] = [(texts[item["values"]], item["counts"]) for item in counted]
        else:
            out[name] = [(item["values"], item["counts"]) for item in pc.value_counts(column).to_pylist()]
    out["intent_first"] = _intent_first(results)
    return out


def _intent_first(results: pa.Table) -> list[tuple[str | None, int]]:
    """Cases per (intent, option ranked first), as 'intent<SEP>option' texts (the breakdown tables)."""
    import polars as pl

    frame = pl.from_arrow(results.select(["intent", "options"]))
    assert isinstance(frame, pl.DataFrame)
    first = pl.col("options").cast(pl.String).fill_null("").str.split(" ").list.first()
    key = (
        pl.col("intent").cast(pl.String).fill_null("(none)")
        + SEP
        + pl.when(first == "").then(pl.lit("(none)")).otherwise(first)
    )
    grouped = frame.select(key.alias("k")).group_by("k").len()
    return [(k, int(n)) for k, n in grouped.iter_rows()]


def _id_counts(counts: list[tuple[str | None, int]]) -> collections.Counter[str]:
    """How many rows hold each id of a column of space-joined ids (vectorized: many distinct texts)."""
    import polars as pl

    frame = pl.DataFrame(
        {"t": [t or "" for t, _ in counts], "n": [n for _, n in counts]}, schema={"t": pl.String, "n": pl.Int64}
    )
    ids = frame.with_columns(pl.col("t").str.split(" ")).explode("t").filter(pl.col("t") != "")
    return collections.Counter(dict(ids.group_by("t").agg(pl.col("n").sum()).iter_rows()))


def _firsts(counts: list[tuple[str | None, int]]) -> collections.Counter[str]:
    out: collections.Counter[str] = collections.Counter()
    for text, n in counts:
        out[text.split(" ", 1)[0] if text else "(none)"] += n
    return out


def _per_case(counts: list[tuple[str | None, int]]) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """(cases per rule, events per rule) from a column of space-joined 'option<SEP>rule' pairs: a case
    whose one rule keeps out three options counts once in the first and three times in the second."""
    cases: collections.Counter[str] = collections.Counter()
    events: collections.Counter[str] = collections.Counter()
    for text, n in counts:
        rules = [pair.split(SEP, 1)[1] for pair in (text or "").split() if SEP in pair]
        for rule in rules:
            events[rule] += n
        for rule in set(rules):
            cases[rule] += n
    return cases, events


def _sorted(counter: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _field(problem: str) -> str:
    return re.sub(r"\[\d+\]", "[]", problem.split(":", 1)[0])


def summary(
    counts: ValueCounts, evaluated: int, errors: Iterable[Any], records: int, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The numbers of a cohort run (see docs/cohort.md, 'report')."""
    errors = list(errors)
    offered, excluded, held = (_id_counts(counts[c]) for c in ("options", "excluded", "held"))
    firsts = _firsts(counts["options"])
    options = {
        o: {
            "offered": offered.get(o, 0),
            "first": firsts.get(o, 0),
            "excluded": excluded.get(o, 0),
            "held": held.get(o, 0),
        }
        for o in meta["options"]
    }
    gates, gate_events = _per_case(counts["exclusions"])
    waits, wait_events = _per_case(counts["holds"])
    breakdown: dict[str, dict[str, int]] = {}
    for text, n in counts.get("intent_first", []):
        intent, _, first = (text or "(none)").partition(SEP)
        row = breakdown.setdefault(intent, {})
        row[first or "(none)"] = row.get(first or "(none)", 0) + n
    fields: collections.Counter[str] = collections.Counter(_field(p) for e in errors for p in e.problems)
    return {
        "format": REPORT_FORMAT,
        **{k: v for k, v in meta.items() if k != "options"},
        "counts": {
            "records": records,
            "evaluated": evaluated,
            "errors": len(errors),
            "no_option_offered": sum(n for text, n in counts["options"] if not text),
        },
        "intent": _sorted(_id_counts(counts["intent"])),
        "first_option": _sorted(firsts),
        "options": options,
        "exclusions_by_rule": _sorted(gates),
        "exclusion_events_by_rule": _sorted(gate_events),
        "holds_by_rule": _sorted(waits),
        "hold_events_by_rule": _sorted(wait_events),
        "first_option_by_intent": {k: _sorted(v) for k, v in sorted(breakdown.items())},
        "rejected_examples": [{"row": e.row, "id": e.id, "problems": list(e.problems)} for e in errors[:5]],
        "tests_needed": _sorted(_id_counts(counts["tests_needed"])),
        "cautions": _sorted(_id_counts(counts["cautions"])),
        "errors_by_field": _sorted(fields),
    }


LIMIT = 40


def _chart(title: str, counts: Mapping[str, int], total: int, key: str, share: bool = True) -> dict[str, Any]:
    """One bar chart and its table: the largest `LIMIT` counts, shares of `total` cases (<= 100%)."""
    items = list(counts.items())[:LIMIT]
    peak = max((n for _, n in items), default=0) or 1
    longest = max((len(name) for name, _ in items), default=10)
    label_w = min(48, max(12, longest)) * 7 + 10  # 7 px per character of a 12 px font; long ones cut
    rows = []
    for i, (name, n) in enumerate(items):
        short = name if len(name) <= 48 else name[:46] + "…"
        pct = 100 * n / total if share and total else None
        rows.append(
            {
                "name": name,
                "short": short,
                "n": n,
                "pct": pct,
                "y": 4 + i * 20,
                "w": round(420 * n / peak, 1),
            }
        )
    return {
        "title": title,
        "key": key,
        "rows": rows,
        "label_w": label_w,
        "width": label_w + 420 + 150,
        "height": 8 + 20 * len(rows),
        "more": max(0, len(counts) - LIMIT),
        "share": share,
    }


def _compare(section: Mapping[str, Any] | None, total: int) -> dict[str, Any] | None:
    if not section:
        return None
    return {
        "old": section["old_knowledge_version"],
        "against": section["against"],
        "changed": section["changed"],
        "validity_changed": section["validity_changed"],
        "charts": [
            _chart("Cases gaining each option", section["gained"], total, "gained"),
            _chart("Cases losing each option", section["lost"], total, "lost"),
        ],
    }


def render_html(data: Mapping[str, Any], run_date: str | None = None) -> str:
    from rectoplan.adapters.render_html import environment

    counts = data["counts"]
    total = counts["evaluated"]
    offered = _sorted({o: v["offered"] for o, v in data["options"].items() if v["offered"]})
    excluded = _sorted({o: v["excluded"] for o, v in data["options"].items() if v["excluded"]})
    held = _sorted({o: v["held"] for o, v in data["options"].items() if v["held"]})
    charts = [
        _chart("Intent of treatment", data["intent"], total, "intent"),
        _chart("Option ranked first", data["first_option"], total, "first_option"),
        _chart("Cases offered each option", offered, total, "offered"),
        _chart("Cases excluded from each option (unsafe or contraindicated)", excluded, total, "excluded"),
        _chart("Cases with an exclusion by each rule", data["exclusions_by_rule"], total, "exclusions_by_rule"),
        _chart("Cases held back from each option pending facts", held, total, "held"),
        _chart("Cases with a hold by each rule", data["holds_by_rule"], total, "holds_by_rule"),
        _chart("Cases needing each test", data["tests_needed"], total, "tests_needed"),
        _chart("Cases with each caution", data["cautions"], total, "cautions"),
        _chart("Rejected rows by field", data["errors_by_field"], counts["records"], "errors_by_field"),
    ]
    events = data.get("exclusion_events_by_rule", {})
    per_case = [
        (rule, n, round(n / data["exclusions_by_rule"][rule], 2))
        for rule, n in list(events.items())[:LIMIT]
        if data["exclusions_by_rule"].get(rule)
    ]
    breakdown = data.get("first_option_by_intent", {})
    when = run_date or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        environment()
        .get_template("cohort.html.j2")
        .render(
            d=data,
            counts=counts,
            charts=charts,
            per_case=per_case,
            breakdown={intent: list(row.items())[:10] for intent, row in breakdown.items()},
            compare=_compare(data.get("compare"), total),
            timings=data.get("timings", {}),
            run_date=when,
        )
    )
