"""An ongoing line: the options of the next line are what to do at progression, not a switch now.

With a line still being given (`prior.ongoing_line`), the line count includes it, so the rules already
rank the next line's options (second line after an ongoing first line). What changes is their meaning:
the care team continues the current treatment (the case-level warning `ongoing-line` says so, and the
maintenance options rank first: knowledge/options/15_continuation.yaml), and these options wait for
progression or intolerance. Their rationale says so first, and the summary leads with "continue". The
ranks themselves are the rules' (the same in cohort mode).
"""

from __future__ import annotations

from rectoplan.core.facts import Facts
from rectoplan.core.recommendation import OptionResult, Recommendation

NEXT_LINE_PHASES = ("second_line", "later_line")
AT_PROGRESSION = "At progression or intolerance on the current line (not a switch now): "
CONTINUE = "Continue the ongoing line while it works and is tolerated."
FOR_PATIENTS = "Only if your current treatment stops working or causes too many side effects:"


def _waits(option: OptionResult) -> bool:
    return option.phase in NEXT_LINE_PHASES and option.kind == "systemic"


def _at_progression(option: OptionResult) -> OptionResult:
    if not _waits(option):
        return option
    first = option.rationale[0] if option.rationale else ""
    rationale = (AT_PROGRESSION + first, *option.rationale[1:])
    patient = f"{FOR_PATIENTS} {option.patient_explanation}"
    return OptionResult._make((*option[:_RATIONALE], rationale, patient, *option[_RATIONALE + 2 :]))  # `_replace`


_RATIONALE = OptionResult._fields.index("rationale")
assert OptionResult._fields[_RATIONALE + 1] == "patient_explanation"


def with_history(rec: Recommendation, facts: Facts) -> Recommendation:
    """`rec` with what the treatment history adds to its words: the oxaliplatin-free interval after
    neoadjuvant, adjuvant or perioperative oxaliplatin in the summary (worded for all three: fourth review
    F11 found a neoadjuvant course called adjuvant), and an ongoing line's plan (see `with_ongoing_line`). Summaries are
    per case; the cohort's case-independent texts are the rules' own."""
    rec = with_ongoing_line(rec, facts)
    free = facts.get("prior.oxaliplatin_free_months")
    if isinstance(free, int):
        summary = f"{rec.summary} Oxaliplatin-free interval since oxaliplatin given around surgery: {free} months."
        rec = Recommendation._make((*rec[:_SUMMARY], summary, *rec[_SUMMARY + 1 :]))  # `_replace`, without its cost
    return rec


_SUMMARY = Recommendation._fields.index("summary")


def with_ongoing_line(rec: Recommendation, facts: Facts) -> Recommendation:
    """`rec` as the plan for a patient whose line is ongoing (unchanged when no line is ongoing)."""
    if facts.get("prior.ongoing_line") is not True:
        return rec
    options = tuple(_at_progression(o) for o in rec.options)
    return rec._replace(options=options, summary=_summary(rec))


def _summary(rec: Recommendation) -> str:
    """Continue first; then the maintenance step if any; then what comes at progression."""
    intent = f"{rec.intent.capitalize()} intent"  # as the rules' summary begins
    now = [o for o in rec.options if o.kind == "systemic" and not _waits(o)]
    later = [o for o in rec.options if _waits(o)]
    parts = [f"{intent}. {CONTINUE}"]
    if now:
        parts.append(f"Then: {now[0].title} ({now[0].strength}).")
    if later:
        more = f" + {len(later) - 1} more" if len(later) > 1 else ""
        parts.append(f"At progression or intolerance: {later[0].title} ({later[0].strength}){more}.")
    return " ".join(parts)
