"""The reference registry (`sources.yaml`) and the citations that name it.

Split from the loader so that what a clinician checks first (which trial, label or guideline backs a
rule, and whether its identifiers were confirmed) lives in one small module. Each source is written out
here once, the way people cite it ("KEYNOTE-177 (André et al., N Engl J Med 2020)"), with the link a
reader can open: PubMed when a PMID was confirmed, else the DOI, else the label's or guideline's URL.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rectoplan.core.errors import Problem
from rectoplan.core.knowledge import Citation, Source

Cite = list[dict[str, str]]
LEGACY = ("seed-a", "seed-b", "brief")  # the usual one-key shorthands: {seed-a: "quote"}, {brief: C-10}

IDENTIFIER_FORMATS = {
    "pmid": re.compile(r"^[1-9][0-9]{0,8}$"),
    "doi": re.compile(r"^10\.[0-9]{4,9}/\S+$"),
    "nct": re.compile(r"^NCT[0-9]{8}$"),
    "url": re.compile(r"^https://\S+$"),
}


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    kind: Literal["trial", "label", "guideline", "review", "seed", "brief"]
    title: str
    ref: str = ""  # seed file / brief path: for checks only, never shown
    # trial publications and reviews
    name: str | None = None
    author: str | None = None
    journal: str | None = None
    year: int | None = None
    pmid: str | None = None
    doi: str | None = None
    nct: str | None = None
    # drug labels
    agency: str | None = None
    drug: str | None = None
    date: str | None = None
    # guidelines and patient pages
    body: str | None = None
    publisher: str | None = None
    version: str | None = None
    section: str | None = None
    url: str | None = None
    unconfirmed: bool = False
    note: str = ""


def label_of(s: SourceIn) -> str:
    """The citation as a clinician writes it, from the registry fields of its kind."""
    if s.kind in ("trial", "review"):
        who = f"{s.author} et al., " if s.author else ""
        where = " ".join(str(x) for x in (s.journal, s.year) if x)
        return f"{s.name or s.title} ({who}{where})" if who or where else (s.name or s.title)
    if s.kind == "label":
        return f"{s.agency} label: {s.drug}" + (f" ({s.date})" if s.date else "")
    if s.kind == "guideline":
        extra = ", ".join(x for x in (s.version, s.section) if x)
        return f"{s.body}: {s.title}" + (f" ({extra})" if extra else "")
    if s.kind == "seed":
        return f"{s.publisher}: {s.title}"
    return s.title


def url_of(s: SourceIn) -> str:
    if s.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{s.pmid}/"
    if s.doi:
        return f"https://doi.org/{s.doi}"
    if s.url:
        return s.url
    if s.nct:
        return f"https://clinicaltrials.gov/study/{s.nct}"
    return ""


def identifier_problems(where: str, s: SourceIn) -> list[Problem]:
    """Identifiers in the wrong form: a PMID is digits, a DOI starts 10.nnnn/, an NCT id is NCT + 8 digits."""
    out = []
    for key, pattern in IDENTIFIER_FORMATS.items():
        value = getattr(s, key)
        if value is not None and not pattern.match(str(value)):
            out.append(Problem(f"{where}.{key}", repr(value), f"a {key} ({pattern.pattern})"))
    needed = {"trial": ("journal", "year"), "label": ("agency", "drug"), "guideline": ("body",)}
    for key in needed.get(s.kind, ()):
        if getattr(s, key) is None:
            out.append(Problem(f"{where}.{key}", "nothing", f"a {key} for a {s.kind}"))
    if s.kind == "seed" and (s.publisher is None or not s.ref):
        out.append(Problem(where, "a seed without publisher or file", "publisher and ref (the seed file)"))
    return out


def make_source(s: SourceIn) -> Source:
    ids = tuple((k, str(getattr(s, k))) for k in ("pmid", "doi", "nct") if getattr(s, k))
    return Source(s.id, s.kind, s.ref, s.title, label_of(s), url_of(s), s.unconfirmed, ids)


def parse_cite(where: str, items: Cite, sources: dict[str, Source], problems: list[Problem]) -> tuple[Citation, ...]:
    """Citations of one rule: `{ref: id}`, `{ref: id, quote: "..."}` or the shorthand `{id: quote}`."""
    out = []
    if not items:
        problems.append(Problem(f"{where}.cite", "no citation", "at least one citation"))
    for i, item in enumerate(items):
        at = f"{where}.cite[{i}]"
        source_id, quote, entry = _item(at, item, sources, problems)
        if source_id is None:
            continue
        source = sources[source_id]
        if source.kind == "brief":
            entry, quote = entry or quote, ""
        out.append(Citation(source.id, source.ref, quote, entry, source.label, source.url, source.kind))
    return tuple(out)


def _item(at: str, item: Any, sources: dict[str, Source], problems: list[Problem]) -> tuple[str | None, str, str]:
    if not isinstance(item, dict):
        problems.append(Problem(at, repr(item)[:60], "{ref: source-id} or {ref: source-id, quote: ...}"))
        return None, "", ""
    if "ref" in item:
        extra = set(item) - {"ref", "quote"}
        if extra:
            problems.append(Problem(at, ", ".join(sorted(extra)), "only ref and quote"))
        source_id, text = str(item["ref"]), str(item.get("quote", "")).strip()
    elif len(item) == 1:
        ((source_id, value),) = item.items()
        text = str(value).strip()
    else:
        problems.append(Problem(at, repr(item)[:60], "{ref: source-id, quote: ...} or {brief: entry}"))
        return None, "", ""
    if source_id not in sources:
        problems.append(Problem(at, repr(source_id), f"a source id ({', '.join(sources)})"))
        return None, "", ""
    if sources[source_id].kind == "brief":
        return source_id, "", text
    return source_id, text, ""
