"""The cohort summary: one dictionary of numbers, written as JSON and drawn as self-contained HTML.

Both files come from the same `summary` dictionary, so the HTML never shows a number the JSON does not
hold (every drawn count carries it in a `data-count` attribute; the tests read them back). The HTML has
inline SVG bar charts, inline CSS, no script and no network.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from html import escape
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
    return out


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
    gates: collections.Counter[str] = collections.Counter()
    for pair, n in _id_counts(counts["exclusions"]).items():
        gates[pair.split(SEP, 1)[1]] += n
    waits: collections.Counter[str] = collections.Counter()
    for pair, n in _id_counts(counts["holds"]).items():
        waits[pair.split(SEP, 1)[1]] += n
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
        "holds_by_rule": _sorted(waits),
        "tests_needed": _sorted(_id_counts(counts["tests_needed"])),
        "cautions": _sorted(_id_counts(counts["cautions"])),
        "errors_by_field": _sorted(fields),
    }


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:.15rem .6rem;text-align:right}
td:first-child,th:first-child{text-align:left}
svg text{font:12px system-ui,sans-serif}.note{color:#555}
"""


def _bars(title: str, counts: Mapping[str, int], total: int, key: str, limit: int = 40) -> str:
    """A horizontal bar chart (inline SVG) of the largest `limit` counts, each with its number."""
    items = list(counts.items())[:limit]
    if not items:
        return f"<h2>{escape(title)}</h2><p class='note'>none</p>"
    width, label_w, row_h = 900, 330, 18
    peak = max(n for _, n in items) or 1
    height = row_h * len(items) + 10
    rows = []
    for i, (name, n) in enumerate(items):
        y = 5 + i * row_h
        w = (width - label_w - 90) * n / peak
        share = f" ({100 * n / total:.1f}%)" if total else ""
        rows.append(
            f"<g data-chart='{escape(key)}' data-label='{escape(name)}' data-count='{n}'>"
            f"<text x='{label_w - 6}' y='{y + 12}' text-anchor='end'>{escape(name)}</text>"
            f"<rect x='{label_w}' y='{y + 2}' width='{w:.1f}' height='{row_h - 5}' fill='#5b8db8'/>"
            f"<text x='{label_w + w + 4:.1f}' y='{y + 12}'>{n}{share}</text></g>"
        )
    more = f"<p class='note'>{len(counts) - limit} more in report.json</p>" if len(counts) > limit else ""
    return (
        f"<h2>{escape(title)}</h2><svg width='{width}' height='{height}' role='img' "
        f"aria-label='{escape(title)}'>{''.join(rows)}</svg>{more}"
    )


def _compare(section: Mapping[str, Any] | None, total: int) -> str:
    if not section:
        return ""
    head = (
        f"<h2>Compared with knowledge {escape(str(section['old_knowledge_version']))} "
        f"({escape(str(section['against']))})</h2><p><span data-chart='compare' data-label='changed' "
        f"data-count='{section['changed']}'>{section['changed']}</span> cases get different options or "
        f"settings; {section['validity_changed']} cases are valid under one version only. Per case: "
        "compare.parquet.</p>"
    )
    return (
        head
        + _bars("Cases gaining each option", section["gained"], total, "gained")
        + _bars("Cases losing each option", section["lost"], total, "lost")
    )


def render_html(data: Mapping[str, Any]) -> str:
    counts = data["counts"]
    total = counts["evaluated"]
    offered = _sorted({o: v["offered"] for o, v in data["options"].items() if v["offered"]})
    excluded = _sorted({o: v["excluded"] for o, v in data["options"].items() if v["excluded"]})
    held = _sorted({o: v["held"] for o, v in data["options"].items() if v["held"]})
    head = "".join(
        f"<tr><td>{escape(k)}</td><td data-count='{v}' data-label='{escape(k)}'>{v}</td></tr>"
        for k, v in counts.items()
    )
    timings = "".join(f"<tr><td>{escape(k)}</td><td>{v:.2f} s</td></tr>" for k, v in data.get("timings", {}).items())
    return "".join(
        [
            "<!doctype html><html lang='en'><meta charset='utf-8'>",
            f"<title>rectoplan cohort report</title><style>{_CSS}</style><body>",
            "<h1>rectoplan cohort report</h1>",
            f"<p>Input <code>{escape(str(data.get('input', '')))}</code>"
            f" ({escape(str(data.get('input_format', '')))}),"
            f" knowledge {escape(str(data.get('knowledge_version', '')))},"
            f" engine {escape(str(data.get('engine', '')))}."
            " Options are listed to discuss with the care team; they support and never replace its decision.</p>",
            f"<table data-chart='counts'>{head}</table>",
            _bars("Intent of treatment", data["intent"], total, "intent"),
            _bars("Option ranked first", data["first_option"], total, "first_option"),
            _bars("Cases offered each option", offered, total, "offered"),
            _bars("Cases excluded from each option (unsafe or contraindicated)", excluded, total, "excluded"),
            _bars("Exclusions by rule", data["exclusions_by_rule"], total, "exclusions_by_rule"),
            _bars("Cases held back from each option pending facts", held, total, "held"),
            _bars("Holds by rule", data["holds_by_rule"], total, "holds_by_rule"),
            _bars("Tests needed", data["tests_needed"], total, "tests_needed"),
            _bars("Cautions", data["cautions"], total, "cautions"),
            _bars("Rejected rows by field", data["errors_by_field"], counts["records"], "errors_by_field"),
            _compare(data.get("compare"), total),
            f"<h2>Timings</h2><table>{timings}</table>" if timings else "",
            "</body></html>",
        ]
    )
