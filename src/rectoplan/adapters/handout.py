"""The printable handout for the patient: the recommendation in plain words, as HTML and PDF.

Only patient-facing text from the knowledge base is used (the intent in plain words, each option's
patient explanation, the glossary, the disclaimer); clinician rationales and rule ids stay out. The PDF
is rendered by WeasyPrint from the same HTML, so what is printed is what the HTML shows.
"""

from __future__ import annotations

from html import escape

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation

_GROUPS = (
    ("preferred", "Options often suggested first"),
    ("alternative", "Other options"),
    ("consider", "Options that may also be considered"),
)
_CSS = """
@page { size: A4; margin: 18mm 16mm; @bottom-center { content: "Page " counter(page) " of " counter(pages);
  font-size: 9pt; color: #666 } }
body { font: 12pt/1.5 "DejaVu Sans", sans-serif; color: #111 }
h1 { font-size: 18pt; margin: 0 0 4mm } h2 { font-size: 14pt; margin: 7mm 0 2mm; border-bottom: 1px solid #999 }
.box { border: 2px solid #333; padding: 3mm 4mm; margin: 4mm 0; font-weight: bold }
li { margin-bottom: 2mm } dt { font-weight: bold } dd { margin: 0 0 2mm 4mm }
.small { font-size: 9pt; color: #555 }
"""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def handout_html(rec: Recommendation, kb: KnowledgeBase) -> str:
    """A self-contained, escaped HTML page in plain language."""
    e = escape
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>Your treatment options</title><style>{_CSS}</style><body>",
        "<h1>Your treatment options to talk about with your care team</h1>",
        f"<div class='box'>{e(rec.disclaimer)}</div>",
        f"<h2>Where things stand</h2><p>{e(rec.patient_summary)}</p>",
    ]
    for strength, heading in _GROUPS:
        group = [o for o in rec.options if o.strength == strength]
        if group:
            parts.append(f"<h2>{e(heading)}</h2><ul>")
            parts += [f"<li><b>{e(o.title)}</b>: {e(o.patient_explanation)}</li>" for o in group]
            parts.append("</ul>")
    if not rec.options:
        parts.append("<p>No option can be listed yet from what is recorded. Your care team will explain why.</p>")
    if rec.tests_needed:
        parts.append("<h2>Tests your team may suggest</h2><ul>")
        parts += [f"<li>{e(_sentence(kb.vocabulary.display(t.test)))}</li>" for t in rec.tests_needed]
        parts.append("</ul>")
    if rec.glossary:
        parts.append("<h2>Words used</h2><dl>")
        parts += [f"<dt>{e(term)}</dt><dd>{e(definition)}</dd>" for term, definition in rec.glossary]
        parts.append("</dl>")
    parts.append(
        f"<p class='small'>Prepared by rectoplan from its knowledge base version {e(rec.knowledge_version)}"
        f" ({e(kb.date)}), for case {e(rec.case_id)}.</p></body></html>"
    )
    return "\n".join(parts)


def handout_pdf(rec: Recommendation, kb: KnowledgeBase) -> bytes:
    """The handout as PDF bytes (needs the 'handout' extra: WeasyPrint)."""
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=handout_html(rec, kb)).write_pdf()
    return pdf
