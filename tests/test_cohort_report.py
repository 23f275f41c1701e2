"""The cohort report as an analyst reads it: shares of cases never above 100%, events kept apart, a data
table under every chart, thousands separators, run date, knowledge version and the intent breakdown."""

from __future__ import annotations

import re
from typing import Any

from rectoplan.cohort.report import render_html, summary
from rectoplan.compile.plan import SEP


class _Error:
    def __init__(self, row: int) -> None:
        self.row, self.id, self.problems = row, f"r{row}", (f"ecog: found {row}; expected a number <= 4",)


def _data() -> dict[str, Any]:
    # 12,000 cases: one rule keeps three options out of each of 9,000 cases (27,000 events).
    three = " ".join(f"{o}{SEP}anti-egfr-ras" for o in ("a", "b", "c"))
    counts: dict[str, list[tuple[str | None, int]]] = {
        "intent": [("palliative", 9000), ("curative", 3000)],
        "options": [("a b", 9000), ("b", 3000)],
        "excluded": [("a b c", 9000), ("", 3000)],
        "held": [("", 12000)],
        "exclusions": [(three, 9000), ("", 3000)],
        "holds": [("", 12000)],
        "tests_needed": [("her2", 1200), ("", 10800)],
        "cautions": [("", 12000)],
        "intent_first": [(f"palliative{SEP}a", 9000), (f"curative{SEP}b", 3000)],
    }
    meta = {
        "input": "c.csv",
        "input_format": "csv",
        "engine": "polars",
        "knowledge_version": "9.9.9",
        "options": ["a", "b", "c"],
    }
    return summary(counts, 12000, [_Error(i) for i in range(7)], 12007, meta)


def test_shares_never_above_100_and_events_apart() -> None:
    data = _data()
    assert data["exclusions_by_rule"] == {"anti-egfr-ras": 9000}
    assert data["exclusion_events_by_rule"] == {"anti-egfr-ras": 27000}
    html = render_html(data, run_date="2026-12-06 10:00 UTC")
    shares = [float(p) for p in re.findall(r"\((\d+(?:\.\d+)?)%\)", html)]
    assert shares and max(shares) <= 100
    assert "275" not in html and "225.0%" not in html


def test_every_chart_has_its_data_table_and_numbers_are_readable() -> None:
    html = render_html(_data(), run_date="2026-12-06 10:00 UTC")
    charts = html.count("<svg ")
    assert charts >= 5 and html.count("<summary>Data table") == charts
    assert "12,000" in html and "9,000" in html and "12000<" not in html
    assert "Run 2026-12-06 10:00 UTC" in html and "knowledge base 9.9.9" in html
    assert 'viewBox="0 0' in html and "width='900'" not in html  # responsive, not fixed width


def test_breakdown_by_intent_and_rejected_examples() -> None:
    data = _data()
    assert data["first_option_by_intent"] == {"curative": {"b": 3000}, "palliative": {"a": 9000}}
    assert len(data["rejected_examples"]) == 5
    html = render_html(data)
    assert "Option ranked first, by intent" in html and "Intent: palliative" in html
    assert "Examples of rejected rows" in html and "ecog: found 3" in html
