"""Contract 2 (the recommendation) as immutable NamedTuples, with its JSON form.

Not frozen dataclasses: NamedTuples are equally immutable, but several times cheaper to build, and
one is built per offered option on the engine's hot path.

Fields beyond contract 2 (`warnings` and `glossary_terms` on options, `held` on exclusions, the
recommendation's `intent`, `disclaimer` and `glossary`) are additions, which the design allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from rectoplan.core.knowledge import Citation

RECOMMENDATION_FORMAT = "rectoplan.recommendation/1"


class Cites(tuple[Citation, ...]):
    """The citations of one rendered part (an option's setting, an exclusion, a test), which many cases
    share: what users read of them (`shown_sources`) and the trace's provenance are computed once and kept
    on the tuple, and so is its hash. Equal to, and read like, a plain tuple of citations."""

    def __hash__(self) -> int:
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = self.__dict__["_hash"] = tuple.__hash__(self)
        return found

    def shown(self) -> tuple[dict[str, Any], ...]:
        found: tuple[dict[str, Any], ...] | None = self.__dict__.get("_shown")
        if found is None:
            found = self.__dict__["_shown"] = tuple(_shown(self))
        return found

    def provenance(self) -> tuple[str, ...]:
        found: tuple[str, ...] | None = self.__dict__.get("_provenance")
        if found is None:
            found = self.__dict__["_provenance"] = tuple(_provenance(self))
        return found


def _shown(cites: Iterable[Citation]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in sorted(cites, key=lambda c: not c.primary):  # trials, labels and guidelines before patient pages
        if c.shown and (c.source, c.quote) not in seen:
            seen.add((c.source, c.quote))
            out.append(c.to_dict())
    return out


def _sources(cites: tuple[Citation, ...]) -> list[dict[str, Any]]:
    """What users read: registry references as people cite them, each once (a quote makes its own entry).

    Brief entries are internal provenance and appear only in the trace (`provenance`). Fresh dictionaries
    on every call: callers may change what they are given.
    """
    if type(cites) is Cites:
        return [dict(d) for d in cites.shown()]
    return _shown(cites)


shown_sources = _sources  # the public name, for renderers that hold Citations


def _provenance(cites: Iterable[Citation]) -> list[str]:
    return list(dict.fromkeys(f"brief {c.entry}" for c in cites if c.entry))


def provenance(cites: tuple[Citation, ...]) -> list[str]:
    """The brief entries behind a rule, for the trace: how a reviewer traces it to the research note."""
    if type(cites) is Cites:
        return list(cites.provenance())
    return _provenance(cites)


Sources = Callable[[tuple[Citation, ...]], Any]  # how `sources` are written: dictionaries, or JSON text


class CitedNote(NamedTuple):
    """A warning or note, on an option or on the whole case, with the references behind that sentence alone
    (an option's own `sources` support the option; a label cited for a dose warning is not evidence for it)."""

    text: str
    severity: str  # "warning" or "note"
    sources: tuple[Citation, ...]

    def to_dict(self, sources: Sources = _sources) -> dict[str, Any]:
        return {"text": self.text, "severity": self.severity, "sources": sources(self.sources)}


class OptionResult(NamedTuple):
    id: str
    title: str
    kind: str
    components: tuple[str, ...]
    intent: str
    phase: str
    strength: str
    rank: int
    rationale: tuple[str, ...]
    patient_explanation: str
    sources: tuple[Citation, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    glossary_terms: tuple[str, ...]
    setting: str
    evidence: tuple[str, str] = ("", "")  # (level id, label) of the declared scheme
    regulatory: str | None = None
    trace: dict[str, Any] | None = None  # rule ids, priority, facts used, checks passed, provenance: reviewers
    cautions: tuple[CitedNote, ...] = ()  # `warnings` then `notes`, each with its own references

    def named(self) -> str:
        """The option and its strength as a summary names them: "FOLFOX + bevacizumab (preferred)", or
        "Liver resection (removal of the liver metastases), preferred" when the title already ends in a
        parenthesis, rather than two in a row."""
        if self.title.endswith(")"):
            return f"{self.title}, {self.strength}"
        return f"{self.title} ({self.strength})"

    def to_dict(self, sources: Sources = _sources) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "components": list(self.components),
            "intent": self.intent,
            "phase": self.phase,
            "strength": self.strength,
            "rank": self.rank,
            "rationale": list(self.rationale),
            "patient_explanation": self.patient_explanation,
            "sources": sources(self.sources),
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "glossary_terms": list(self.glossary_terms),
            "setting": self.setting,
            "evidence": {"level": self.evidence[0], "label": self.evidence[1]} if self.evidence[0] else None,
            "regulatory": self.regulatory,
            "cautions": [c.to_dict(sources) for c in self.cautions],
            "trace": self.trace or {},
        }


def first_treatment(options: Iterable[OptionResult]) -> OptionResult | None:
    """The highest-ranked option that is a treatment rather than a clinical trial. When warnings lower every
    usual first choice, a trial can rank first; the summary, the handout's likely options and the CDS card
    then lead with this option, not with the trial."""
    return next((o for o in options if o.kind != "clinical_trial"), None)


class Exclusion(NamedTuple):
    """An option kept out: `held` when it waits for an unknown fact, otherwise unsafe or contraindicated."""

    id: str
    title: str
    components: tuple[str, ...]
    reasons: tuple[str, ...]
    sources: tuple[Citation, ...]
    held: bool
    rules: tuple[str, ...]  # the deciding gates' ids: shown only in the trace

    def to_dict(self, sources: Sources = _sources) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "components": list(self.components),
            "reasons": list(self.reasons),
            "sources": sources(self.sources),
            "held": self.held,
            "trace": {"rules": list(self.rules), "provenance": provenance(self.sources)},
        }


class TestNeeded(NamedTuple):
    test: str
    why: str
    sources: tuple[Citation, ...]

    def to_dict(self, sources: Sources = _sources) -> dict[str, Any]:
        return {"test": self.test, "why": self.why, "sources": sources(self.sources)}


class Change(NamedTuple):
    """One entry of 'what would change the plan': if a fact had this value, then this would change."""

    condition: str
    then: str
    fact: str = ""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reranked: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "if": self.condition,
            "then": self.then,
            "fact": self.fact,
            "added": list(self.added),
            "removed": list(self.removed),
            "reranked": list(self.reranked),
        }


class Recommendation(NamedTuple):
    case_id: str
    knowledge_version: str
    summary: str
    intent: str
    intent_rationale: str
    options: tuple[OptionResult, ...]
    excluded: tuple[Exclusion, ...]
    tests_needed: tuple[TestNeeded, ...]
    what_would_change: tuple[Change, ...]
    warnings: tuple[str, ...]
    disclaimer: str
    patient_summary: str
    glossary: tuple[tuple[str, str], ...]
    intent_rule: str = ""  # the intent rule that decided `intent`: trace only
    evidence_scheme: tuple[tuple[str, str], ...] = ()  # the declared levels, (id, label), in order
    case_cautions: tuple[CitedNote, ...] = ()  # `warnings`, each with its own references

    def to_dict(self, sources: Sources = _sources) -> dict[str, Any]:
        """Contract 2 as JSON-ready data; `sources` writes each list of citations (the JSON writer of
        `rectoplan.api` passes one that returns pre-serialised text)."""
        return {
            "format": RECOMMENDATION_FORMAT,
            "case_id": self.case_id,
            "knowledge_version": self.knowledge_version,
            "summary": self.summary,
            "intent": self.intent,
            "intent_rationale": self.intent_rationale,
            "options": [o.to_dict(sources) for o in self.options],
            "excluded": [e.to_dict(sources) for e in self.excluded],
            "tests_needed": [t.to_dict(sources) for t in self.tests_needed],
            "what_would_change": [c.to_dict() for c in self.what_would_change],
            "warnings": list(self.warnings),
            "disclaimer": self.disclaimer,
            "patient_summary": self.patient_summary,
            "glossary": [{"term": t, "definition": d} for t, d in self.glossary],
            "evidence_scheme": [{"level": i, "label": label} for i, label in self.evidence_scheme],
            "case_cautions": [c.to_dict(sources) for c in self.case_cautions],
            "trace": {"intent_rule": self.intent_rule},
        }
