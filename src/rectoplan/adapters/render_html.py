"""HTML for a browser or a tumour-board screen: the same content as the text output, escaped.

Self-contained (inline CSS, no scripts, no network), so it can be saved, mailed or printed as is.
"""

from __future__ import annotations

from html import escape
from typing import Any

from rectoplan.core.knowledge import Citation, KnowledgeBase
from rectoplan.core.recommendation import Recommendation

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
.opt{margin:.6rem 0;padding:.5rem .8rem;border-left:4px solid #7a7}.alternative{border-color:#aac}
.consider{border-color:#ccc}.warn{color:#8a5300}.src{color:#666;font-size:.85rem}.ex{border-left:4px solid #c66;
padding:.3rem .8rem;margin:.4rem 0}.held{border-left-color:#cc6}.disclaimer{font-weight:bold;margin-top:2rem}
dfn{font-style:normal;font-weight:600}
"""


def _cite(c: Citation) -> str:
    ref = escape(c.ref.rsplit("/", 1)[-1] + (f" {c.entry}" if c.entry else ""))
    return f"{ref} “{escape(c.quote)}”" if c.quote else ref


def render_html(rec: Recommendation, kb: KnowledgeBase, provenance: dict[str, Any] | None = None) -> str:
    e = escape
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>rectoplan — {e(rec.case_id)}</title><style>{_CSS}</style><body>",
        f"<h1>{e(rec.summary)}</h1>",
        f"<p><b>Intent: {e(rec.intent)}</b>. {e(rec.intent_rationale)}</p>",
        f"<h2>Options to discuss with the care team ({len(rec.options)})</h2>",
    ]
    for o in rec.options:
        items = "".join(f"<li>{e(r)}</li>" for r in o.rationale)
        warns = "".join(f"<li class='warn'>{e(w)}</li>" for w in o.warnings)
        notes = "".join(f"<li>{e(n)}</li>" for n in o.notes)
        parts.append(
            f"<div class='opt {e(o.strength)}' id='{e(o.id)}'><b>{o.rank}. {e(o.title)}</b> — {e(o.strength)},"
            f" {e(o.phase.replace('_', ' '))}, {e(o.intent)}<ul>{items}{warns}{notes}</ul>"
            f"<p>{e(o.patient_explanation)}</p>"
            f"<p class='src'>Sources: {'; '.join(_cite(c) for c in o.sources)}</p></div>"
        )
    if rec.excluded:
        parts.append(f"<h2>Excluded or held back ({len(rec.excluded)})</h2>")
        for x in rec.excluded:
            label = "held back" if x.held else "excluded"
            reasons = "".join(f"<li>{e(r)}</li>" for r in dict.fromkeys(x.reasons))
            parts.append(
                f"<div class='ex{' held' if x.held else ''}'><b>{e(x.title)}</b> ({label})<ul>{reasons}</ul>"
                f"<p class='src'>Sources: {'; '.join(_cite(c) for c in x.sources)}</p></div>"
            )
    if rec.tests_needed:
        parts.append("<h2>Tests needed</h2><ul>")
        parts += [f"<li><b>{e(kb.vocabulary.display(t.test))}</b>: {e(t.why)}</li>" for t in rec.tests_needed]
        parts.append("</ul>")
    if rec.what_would_change:
        parts.append("<h2>What would change the plan</h2><ul>")
        parts += [f"<li>If <b>{e(c.condition)}</b>: {e(c.then)}</li>" for c in rec.what_would_change]
        parts.append("</ul>")
    if rec.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li class='warn'>{e(w)}</li>" for w in rec.warnings) + "</ul>")
    if provenance:
        parts.append("<h2>From the FHIR record</h2><ul>")
        parts += [f"<li>{e(k)}: {e(v)}</li>" for k, v in provenance.get("provenance", {}).items()]
        parts += [f"<li class='warn'>not used: {e(i)}</li>" for i in provenance.get("issues", [])]
        parts += [f"<li>not read: {e(r)} ({e(w)})</li>" for r, w in provenance.get("not_read", {}).items()]
        parts.append("</ul>")
    parts.append(f"<h2>For the patient</h2><p>{e(rec.patient_summary)}</p><dl>")
    parts += [f"<dt><dfn>{e(t)}</dfn></dt><dd>{e(d)}</dd>" for t, d in rec.glossary]
    parts.append(f"</dl><p class='disclaimer'>{e(rec.disclaimer)}</p></body></html>")
    return "\n".join(parts)
