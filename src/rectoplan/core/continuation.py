"""An ongoing line: the options of the next line are what to do at progression, not a switch now.

With a line still being given (`prior.ongoing_line`), the line count includes it, so the rules already
rank the next line's options (second line after an ongoing first line). What changes is their meaning:
the care team continues the current treatment (the case-level warning `ongoing-line` says so, and the
maintenance options rank first: knowledge/options/15_continuation.yaml), and these options wait for
progression or intolerance. Their rationale says so first, and the summary leads with "continue". The
ranks themselves are the rules' (the same in cohort mode).

The same holds when no line is running but the case records no growth since the last one stopped
(`prior.progressed_since_last_line` false: a planned break, or a stop for side effects while the disease
was controlled): nothing forces the next line yet, so its options are what to do at progression (the
case-level warning `no-progression-since-last-line` says what comes first, with its source). After a short
induction (or one of unrecorded length) the plan is to complete it, not to wait: the warning that holds then
(`no-progression-after-short-line`) words the first sentence with its `continuation` (twelfth review, x04).
Waiting is observation, so a step for now (maintenance, or the regimen resumed without the drug that caused
side effects) is named "Now: observation or ...", never after "waits for progression" as "Then:", which read
as if maintenance began at progression (review 14, F11).

After a first line that paused as planned (a break, or maintenance that the cancer outgrew) and no line since,
an option that gives the induction's drugs again is a re-introduction, part of the first-line strategy as in
CAIRO3 (`rectoplan.core.reintroduction`; review 14, F15): the plan's headline names it so rather than "second
line" (chosen from the headline option and the facts, not read back from the summary's words), its patient
text says it starts the first treatment again, and, with no growth yet, it waits for progression whatever the
phase of its rule (a re-introduction row's phase may be `first_line`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from rectoplan.core._parts import PHASE_WORDS
from rectoplan.core.facts import Facts
from rectoplan.core.knowledge import Caution
from rectoplan.core.recommendation import OptionResult, Recommendation
from rectoplan.core.reintroduction import paused_first_line, reintroduced

NEXT_LINE_PHASES = ("second_line", "later_line")


class _Framing(NamedTuple):
    """How the options of the next line are worded when they wait: before each rationale, before each
    patient text, the summary's first sentence, how it names when the next line comes, and how it names
    the step for now."""

    rationale: str
    patient: str
    lead: str
    when: str
    now: str = "Then: {}."  # `{}`: the option named; in mid-sentence, its title's capital is dropped


ONGOING: Final = _Framing(
    "At progression or intolerance on the current line (not a switch now): ",
    "Only if your current treatment stops working or causes too many side effects:",
    "Continue the ongoing line while it works and is tolerated.",
    "At progression or intolerance",
)
NO_GROWTH: Final = _Framing(
    "At progression (none recorded since the last line stopped): ",
    "Only if the cancer grows again:",
    "No progression since the last line stopped: the next line waits for progression (see the warnings).",
    "At progression",
    "Now: observation or {}.",
)


def _waits(option: OptionResult, again: frozenset[str] = frozenset()) -> bool:
    """A next line's drug or trial (a phase 1 trial of a later line too: tenth review, w11) waits, and so does
    a re-introduction of the induction (`again`: their ids), whatever its phase: it is for progression too."""
    return (option.phase in NEXT_LINE_PHASES or option.id in again) and option.kind in ("systemic", "clinical_trial")


def waits_for_progression(option: OptionResult) -> bool:
    """Whether `option`, in a recommendation `with_history` framed, is for progression rather than now (the
    handout and the CDS card then list the options for now first)."""
    return bool(option.rationale) and option.rationale[0].startswith(_FRAMED)


_FRAMED = (ONGOING.rationale, NO_GROWTH.rationale)


def _at_progression(option: OptionResult, framing: _Framing, again: frozenset[str] = frozenset()) -> OptionResult:
    if not _waits(option, again):
        return option
    first = option.rationale[0] if option.rationale else ""
    rationale = (framing.rationale + first, *option.rationale[1:])
    patient = f"{framing.patient} {option.patient_explanation}"
    return OptionResult._make((*option[:_RATIONALE], rationale, patient, *option[_RATIONALE + 2 :]))  # `_replace`


_RATIONALE = OptionResult._fields.index("rationale")
assert OptionResult._fields[_RATIONALE + 1] == "patient_explanation"


def with_history(rec: Recommendation, facts: Facts, cautions: Sequence[Caution] = ()) -> Recommendation:
    """`rec` with what the treatment history adds to its words: the oxaliplatin-free interval after
    neoadjuvant, adjuvant or perioperative oxaliplatin in the summary (worded for all three: fourth review
    F11 found a neoadjuvant course called adjuvant), and an ongoing line's plan (see `with_ongoing_line`;
    `cautions`: the case-level warnings that hold). Summaries are per case; the cohort's case-independent texts
    are the rules' own."""
    rec, again = _with_reintroductions(rec, facts)
    rec = with_ongoing_line(rec, facts, cautions, again)
    free = facts.get("prior.oxaliplatin_free_months")
    if isinstance(free, int):
        rec = _with_summary(
            rec, f"{rec.summary} Oxaliplatin-free interval since oxaliplatin given around surgery: {free} months."
        )
    return rec


def _with_summary(rec: Recommendation, summary: str) -> Recommendation:
    """`rec._replace(summary=summary)`, without its cost (a keyword-argument call per case)."""
    return Recommendation._make((*rec[:_SUMMARY], summary, *rec[_SUMMARY + 1 :]))


_SUMMARY = Recommendation._fields.index("summary")


def with_ongoing_line(
    rec: Recommendation, facts: Facts, cautions: Sequence[Caution] = (), again: frozenset[str] = frozenset()
) -> Recommendation:
    """`rec` as the plan for a patient whose line is ongoing, or who has not progressed since the last line
    stopped (unchanged otherwise); `again`: the ids of its options that re-introduce the induction (they
    wait for progression as the next line does). A warning about the running line that holds (`cautions`)
    may word the plan's first sentence itself: "continue" is wrong when the line must lose a drug or stop
    (ninth review: pembrolizumab at 2 years still read "Continue the ongoing line")."""
    leads = [c.continuation for c in cautions if c.continuation]
    if facts.get("prior.ongoing_line") is True:
        framing = ONGOING._replace(lead=_lead(leads, rec.intent == "curative"))
    elif (
        facts.get("prior.progressed_since_last_line") is False
        and facts.get("prior.line_count", 0) >= 1
        and rec.intent != "curative"  # a resectable case does not wait (eleventh review, x09)
    ):
        # a short induction: complete it, then what comes after it
        framing = NO_GROWTH._replace(lead=" ".join(leads), now=ONGOING.now) if leads else NO_GROWTH
    else:
        return _with_stopped_line_plan(rec, facts, leads)
    options = tuple(_at_progression(o, framing, again) for o in rec.options)
    return rec._replace(options=options, summary=_summary(rec, framing, again))


def _lead(continuations: Sequence[str], curative: bool) -> str:
    """The running line's plan in one or two sentences. A warning's `continuation` is either a whole sentence
    (capitalised: "Plan the stop of pembrolizumab ...") or the end of "Continue the ongoing line ..."
    (lower case: "without oxaliplatin (grade 3 or 4 neuropathy)"); the ends are said in one sentence, so two
    warnings never repeat "Continue the ongoing line" (eleventh review, t07). With curative intent the
    warning that plans the local treatment leads, and the ends concern the chemotherapy around it."""
    sentences = [c for c in continuations if c[:1].isupper()]
    ends = [c for c in continuations if not c[:1].isupper()]
    if not sentences and not ends:
        return ONGOING.lead
    if ends:
        head = "The chemotherapy around it:" if curative else "Continue the ongoing line"
        said = f"{head} {'; and '.join(ends)}"  # an end's own parenthesis takes the pointer (review 12: ") (")
        sentences.append(f"{said[:-1]}; see the warnings)." if said.endswith(")") else f"{said} (see the warnings).")
    return _point_once(" ".join(sentences))


_POINTERS: Final = ((" (see the warnings)", ""), ("; see the warnings)", ")"))


def _point_once(text: str) -> str:
    """`text` with one pointer to the warnings, at its last place: each warning's sentence carries its own,
    and two in one summary read twice (twelfth review, x01)."""
    last = max(text.rfind(pointer) for pointer, _ in _POINTERS)
    if last < 0:
        return text
    head = text[:last]
    for pointer, bare in _POINTERS:
        head = head.replace(pointer, bare)
    return head + text[last:]


def _with_stopped_line_plan(rec: Recommendation, facts: Facts, leads: Sequence[str]) -> Recommendation:
    """`rec` after a line that stopped recently, once all known disease is treatable with cure in view: the
    warnings that plan around the local treatment (`completed-line-curative`: count the cycles already given;
    `recent-line-bevacizumab-before-surgery`) add their `continuation` (`leads`) to the rules' summary, as
    the running line's do (twelfth review, x02). Nothing waits, so the options keep their words."""
    if not leads or facts.get("prior.ongoing_line") is not False or rec.intent != "curative":
        return rec
    return _with_summary(rec, _point_once(f"{rec.summary} {' '.join(leads)}"))


def _summary(rec: Recommendation, framing: _Framing, again: frozenset[str] = frozenset()) -> str:
    """The framing's lead (continue, or no progression yet); then the step for now if any (preferred or
    alternative: tenth review, a "consider" option headlined as the next step); then what comes at
    progression."""
    intent = f"{rec.intent.capitalize()} intent"  # as the rules' summary begins
    curative = rec.intent == "curative"  # the step for now may be the operation itself (tenth review, w01)
    now = [
        o
        for o in rec.options
        if (curative or o.kind == "systemic") and not _waits(o, again) and o.strength != "consider"
    ]
    later = [o for o in rec.options if _waits(o, again)]
    parts = [f"{intent}. {framing.lead}"]
    if now:
        named = now[0].named()
        parts.append(framing.now.format(named if ": {}" in framing.now else _in_sentence(named)))
    if later:
        more = f" + {len(later) - 1} more" if len(later) > 1 else ""
        parts.append(f"{framing.when}: {later[0].named()}{more}.")
    return " ".join(parts)


def _in_sentence(named: str) -> str:
    """A title inside a sentence: "Maintenance capecitabine ..." becomes "maintenance capecitabine ...";
    an acronym ("FOLFIRI + cetuximab") stays as written."""
    return named[:1].lower() + named[1:] if named[:1].isupper() and named[1:2].islower() else named


def _with_reintroductions(rec: Recommendation, facts: Facts) -> tuple[Recommendation, frozenset[str]]:
    """`rec` with its options that re-introduce the induction of a first line that paused (`reintroduced`)
    worded so, and their ids: the patient text says the first treatment starts again instead of the words of
    its rule's phase ("It would follow the treatment you have already had", or "a first treatment" once a
    re-introduction row's phase is `first_line`). A headline naming one is worded by `explain._summary`
    (`reintroduction.headline_words`). Only after a line known to have paused."""
    if not paused_first_line(facts):  # the usual case, at the cost of a few look-ups
        return rec, _NONE
    again = frozenset(o.id for o in rec.options if reintroduced(o.kind, o.phase, o.components, facts))
    if not again:
        return rec, again
    options = tuple(_as_reintroduction(o) if o.id in again else o for o in rec.options)
    rec = Recommendation._make((*rec[:_OPTIONS], options, *rec[_OPTIONS + 1 :]))
    return rec, again


_NONE: frozenset[str] = frozenset()
_OPTIONS = Recommendation._fields.index("options")
AGAIN_PATIENT: Final = "It would start your first treatment again after its pause."


def _as_reintroduction(option: OptionResult) -> OptionResult:
    """`option` with the patient words of a re-introduction in place of those of its rule's phase."""
    words = PHASE_WORDS.get(option.phase, "")
    text = option.patient_explanation
    if text.endswith(AGAIN_PATIENT):
        return option
    base = text[: -len(words)].rstrip() if words and text.endswith(words) else text
    patient = f"{base} {AGAIN_PATIENT}"
    return OptionResult._make((*option[: _RATIONALE + 1], patient, *option[_RATIONALE + 2 :]))
