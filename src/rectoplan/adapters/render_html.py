"""HTML for a browser, a tumour-board screen or its printed file: one Jinja2 template set, escaped.

The plan is rendered from its JSON form (contract 2, `Recommendation.to_dict()`), not from the Python
objects, so the page at `/` (which may get JSON from elsewhere), `recommend --format html` and any later
field (an option's `evidence`, the `trace`, richer `sources`) go through one view. Autoescaping is on for
every template and no HTML is assembled by string concatenation: nothing in a case or in the knowledge base
can inject markup. The document is self-contained (inline CSS, no network), so it can be saved, mailed or
printed as is; print CSS turns it into the tumour-board file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jinja2

from rectoplan.core.case import Case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Recommendation

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
PHASE_WORDS = {
    "first_line": "First line",
    "second_line": "Second line",
    "third_line": "Third line",
    "later_line": "Later lines",
    "neoadjuvant": "Before surgery (neoadjuvant)",
    "perioperative": "Around surgery (perioperative)",
    "any": "At any point",
}
KIND_WORDS = {
    "systemic": "systemic therapy",
    "local_therapy": "local treatment",
    "surgery": "surgery",
    "radiation": "radiotherapy",
    "chemoradiation": "chemoradiation",
    "clinical_trial": "clinical trial",
    "supportive": "supportive care",
}
STRENGTH_WORDS = {"preferred": "preferred", "alternative": "alternative", "consider": "may be considered"}


@functools.cache
def environment() -> jinja2.Environment:
    """The one template environment (autoescape always on; an undefined name is an error, not a blank)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rectoplan.adapters", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["words"] = words
    return env


def words(ident: object) -> str:
    """An identifier in words: 'first_line' -> 'first line' (display only; ids stay in the JSON)."""
    return str(ident).replace("_", " ")


def _safe_url(url: object) -> str | None:
    """Only web links become hrefs (no javascript: or data: URLs from a knowledge file)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def source_view(source: Mapping[str, Any]) -> dict[str, Any]:
    """A source as {label, url, quote}: the richer `{"id","label","url","quote"}` form when present,
    otherwise today's `{"ref","quote"}` (its file name and entry as the label)."""
    ref = str(source.get("ref", source.get("id", "")))
    label = source.get("label") or ref.rsplit("/", 1)[-1].replace("#", " ")
    return {"label": str(label), "url": _safe_url(source.get("url")), "quote": source.get("quote") or ""}


def _warning(item: object) -> dict[str, str]:
    if isinstance(item, Mapping):
        text = str(item.get("text") or item.get("message") or item.get("summary") or "")
        return {"text": text, "severity": str(item.get("severity", "warning"))}
    return {"text": str(item), "severity": "warning"}


def warnings_by_severity(items: Iterable[object]) -> list[dict[str, str]]:
    """Case-level warnings, most severe first (stable: the knowledge base's order within a severity)."""
    seen: dict[str, dict[str, str]] = {}
    for item in items:
        w = _warning(item)
        seen.setdefault(w["text"], w)
    return sorted(seen.values(), key=lambda w: SEVERITY_ORDER.get(w["severity"], 1))


def _cited(warnings: list[dict[str, Any]], cautions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Case-level warnings with the references behind each (`case_cautions` of the JSON, by text)."""
    by_text = {c.get("text"): c.get("sources", []) for c in cautions}
    return [{**w, "sources": [source_view(s) for s in by_text.get(w["text"], [])]} for w in warnings]


def _option(o: Mapping[str, Any]) -> dict[str, Any]:
    evidence = o.get("evidence")
    return {
        "id": o["id"],
        "rank": o["rank"],
        "title": o["title"],
        "strength": o["strength"],
        "strength_words": STRENGTH_WORDS.get(o["strength"], words(o["strength"])),
        "intent": o.get("intent", ""),
        "evidence": dict(evidence) if isinstance(evidence, Mapping) else None,
        "rationale": list(o.get("rationale", [])),
        "warnings": list(o.get("warnings", [])),
        "notes": list(o.get("notes", [])),
        "cautions": [  # warnings then notes, each with its own references (older JSON: none)
            {
                "text": c.get("text", ""),
                "severity": c.get("severity", "warning"),
                "sources": [source_view(s) for s in c.get("sources", [])],
            }
            for c in o.get("cautions", [])
        ],
        "patient_explanation": o.get("patient_explanation", ""),
        "sources": [source_view(s) for s in o.get("sources", [])],
        "regulatory": o.get("regulatory") or "",
        "trace": o.get("trace"),
    }


def option_groups(options: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Options grouped by phase and kind, groups in the order of their best-ranked option."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for o in options:
        key = (o.get("phase", "any"), o.get("kind", ""))
        if key not in groups:
            phase = PHASE_WORDS.get(key[0], words(key[0]).capitalize())
            kind = KIND_WORDS.get(key[1], words(key[1]))
            groups[key] = {"heading": f"{phase}: {kind}", "options": []}
        groups[key]["options"].append(_option(o))
    return list(groups.values())


def _exclusions(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Exclusions sharing the same reasons are shown once, with every option they keep out."""
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    for x in items:
        reasons = tuple(dict.fromkeys(x.get("reasons", [])))
        entry = grouped.setdefault(reasons, {"titles": [], "reasons": list(reasons), "sources": []})
        entry["titles"].append(x["title"])
        for s in x.get("sources", []):
            view = source_view(s)
            if view not in entry["sources"]:
                entry["sources"].append(view)
    return list(grouped.values())


def plan_view(
    data: Mapping[str, Any],
    display: Callable[[str], str] = words,
    case_words: list[tuple[str, str]] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the plan templates show, from contract 2 (JSON form) and optional extras."""
    excluded = data.get("excluded", [])
    return {
        "case_id": data["case_id"],
        "knowledge_version": data["knowledge_version"],
        "summary": data["summary"],
        "intent": data.get("intent", ""),
        "intent_rationale": data.get("intent_rationale", ""),
        "case_words": case_words or [],
        "warnings": _cited(warnings_by_severity(data.get("warnings", [])), data.get("case_cautions", [])),
        "groups": option_groups(data.get("options", [])),
        "option_count": len(data.get("options", [])),
        "excluded": _exclusions(x for x in excluded if not x.get("held")),
        "held": _exclusions(x for x in excluded if x.get("held")),
        "tests": [
            {
                "name": display(t["test"]),
                "why": t.get("why", ""),
                "sources": [source_view(s) for s in t.get("sources", [])],
            }
            for t in data.get("tests_needed", [])
        ],
        "changes": [{"if": c.get("if", ""), "then": c.get("then", "")} for c in data.get("what_would_change", [])],
        "trace": data.get("trace"),
        "provenance": provenance or {},
        "patient_summary": data.get("patient_summary", ""),
        "disclaimer": data["disclaimer"],
    }


def render_html(
    rec: Recommendation | Mapping[str, Any],
    kb: KnowledgeBase,
    provenance: Mapping[str, Any] | None = None,
    case: Case | None = None,
) -> str:
    """The plan as a standalone HTML document (viewport tag, case header, warnings first, print CSS)."""
    data = rec.to_dict() if isinstance(rec, Recommendation) else rec
    view = plan_view(data, kb.vocabulary.display, case_in_words(case, kb) if case else None, provenance)
    return environment().get_template("plan.html.j2").render(plan=view, kb_date=kb.date)


# --- the case in words (the header a tumour board reads first) ---------------------------------------

_STATUS = {"wild_type": "wild-type", "mutant": "mutant", "positive": "positive", "negative": "negative"}
_BRAF = {"v600e": "V600E", "other_mutation": "other mutation", "wild_type": "wild-type"}
_MMR = {"dmmr_msi_h": "dMMR/MSI-H", "pmmr_mss": "pMMR/MSS"}


def _yes_no(value: bool | None) -> str:
    return "not recorded" if value is None else ("yes" if value else "no")


def _symptoms(values: tuple[str, ...] | None) -> str:
    if values is None:
        return ""
    return ", causing " + " and ".join(values) if values else ", no symptoms"


def case_in_words(case: Case, kb: KnowledgeBase | None = None) -> list[tuple[str, str]]:
    """(topic, what was understood) for each part of the case, with unknowns said as such.

    Long by design: one short branch per part of the case, in the order the page shows them."""
    show = kb.vocabulary.display if kb else words
    rows: list[tuple[str, str]] = []
    p = case.primary
    status = {"in_place": "in place", "resected": "removed"}.get(p.status or "", "status not recorded")
    rows.append(("Primary tumour", status + _symptoms(p.symptoms)))
    lr = case.local_recurrence
    if lr is not None:
        rows.append(
            ("Local recurrence", words(lr.resectability or "resectability not recorded") + _symptoms(lr.symptoms))
        )
    if case.metastases is None:
        rows.append(("Metastases", "not recorded"))
    elif not case.metastases:
        rows.append(("Metastases", "none"))
    else:
        sites = []
        for m in case.metastases:
            count = f"{m.count} " if m.count else ""
            sites.append(f"{words(m.site)} ({count}{words(m.resectability or 'resectability not recorded')})")
        rows.append(("Metastases", "; ".join(sites)))
    b = case.biomarkers
    known = []
    unknown = []
    for name, value, table in (
        ("KRAS", b.kras, _STATUS),
        ("NRAS", b.nras, _STATUS),
        ("BRAF", b.braf, _BRAF),
        ("MMR/MSI", b.mmr, _MMR),
        ("HER2", b.her2, _STATUS),
        ("NTRK fusion", b.ntrk_fusion, _STATUS),
        ("RET fusion", b.ret_fusion, _STATUS),
    ):
        if value is None:
            unknown.append(name)
        elif name == "MMR/MSI":
            known.append(table.get(value, value))
        else:
            variant = f" {b.kras_variant}" if name == "KRAS" and b.kras_variant else ""
            known.append(f"{name} {table.get(value, words(value))}{variant}")
    text = ", ".join(known) or "none recorded"
    rows.append(("Biomarkers", text + (f"; not known: {', '.join(unknown)}" if unknown else "")))
    pr = case.prior
    lines = pr.systemic_lines
    history = []
    if lines is None:
        history.append("systemic treatment not recorded")
    elif not lines:
        history.append("no systemic treatment for advanced disease")
    else:
        for i, line in enumerate(lines, 1):
            stop = f", {words(line.stopped_for)}" if line.stopped_for else ""
            history.append(f"line {i}: {' + '.join(show(a) for a in line.agents)}{stop}")
    history.append(f"pelvic radiation: {_yes_no(pr.pelvic_radiation)}")
    if pr.surgeries:
        history.append("surgery: " + ", ".join(show(s) for s in pr.surgeries))
    rows.append(("Treatment so far", "; ".join(history)))
    h = case.health
    patient = [
        f"age {case.age}" if case.age is not None else "age not recorded",
        f"ECOG {case.ecog}" if case.ecog is not None else "ECOG not recorded",
        f"DPYD {h.dpyd}" if h.dpyd else "DPYD not recorded",
        f"fit for intensive therapy: {_yes_no(h.fit_for_intensive_therapy)}",
        f"bleeding risk: {_yes_no(h.bleeding_risk)}",
    ]
    if h.days_since_major_surgery is not None:
        patient.append(f"{h.days_since_major_surgery} days since major surgery")
    patient.append(f"wants to hear about clinical trials: {_yes_no(case.wants_clinical_trials)}")
    rows.append(("Patient", ", ".join(patient)))
    return rows
