"""Tumour response from FHIR: mCODE CancerDiseaseStatus observations -> the `best_response` of a course.

Why: the rules read the best response on a course (anti-EGFR rechallenge after a response, re-introduction
after a response, transplantation never after progression), and a chart records it as dated assessments,
not on the treatment. The reading, conservative at each step (an unclear reading leaves it unknown, never
a favourable value):

- Only answers whose meaning is a contract-2 response are graded (`fhir_codes.DISEASE_STATUS_VALUES`):
  worsened -> progression, stable -> stable, undetermined -> not_assessed. "Improved" does not say complete
  or partial response: a course with such an assessment has no best response (reported).
- An assessment belongs to the course its `partOf` / `basedOn` names (a medication of that course), else to
  the course whose dates hold its date: start to end, or start to the case date for the ongoing course. A
  course without a recorded end that is not ongoing cannot hold one (reported); an assessment outside every
  course is not a response to treatment (ignored), and one that names a course but is dated in another is
  reported.
- The best response of a course is the best graded assessment: stable over progression (stable then
  progression is best response stable); only `not_assessed` when nothing else was graded.
- After the last course, when it is a line for advanced disease that stopped without progression (a planned
  end, side effects): the latest assessment dated after its end says whether the cancer has grown since
  (`since_last_course`): worsened -> true; stable or improved -> false; undetermined, or none -> unknown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.reader import Reader, _Status
from rectoplan.adapters.fhir.values import _day, _first_code, _lookup, _when

_BEST_ORDER = ("stable", "progression", "not_assessed")  # the graded answers, best first
Found = list[tuple[dict[str, Any], list[str]]]


class ResponseReader(Reader):
    """Reads CancerDiseaseStatus observations (called from `ObservationReader._observation`)."""

    def _disease_status(self, ref: str, res: Any) -> None:
        focus = [f.reference for f in getattr(res, "focus", None) or [] if f.reference]
        if other := self.for_other_cancer(focus):
            self.ignored[ref] = f"disease status of another cancer ({other})"
            return
        when = _day_of(res)
        answer = _lookup(res.valueCodeableConcept, fc.DISEASE_STATUS_VALUES)
        shown = _first_code(res.valueCodeableConcept) if res.valueCodeableConcept else "no coded value"
        meaning = None if answer is None or answer.meaning.startswith("?") else answer.meaning
        targets = tuple(
            r.reference for r in [*(getattr(res, "partOf", None) or []), *(getattr(res, "basedOn", None) or [])]
        )
        self.statuses.append(_Status(when, meaning, ref, shown, tuple(t for t in targets if t)))


def _day_of(res: Any) -> datetime | None:
    return _when(res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.start))


def unattached(m: Reader, why: str) -> None:
    """Assessments with no course to attach to (no treatment, or the history is read as lines)."""
    for s in m.statuses:
        if why:
            m.issue(s.ref, f"tumour response assessment {s.shown} ({_day(s.when)})", why)
        else:
            m.ignored[s.ref] = "tumour response assessment with no treatment course recorded to attach it to"


def attach_responses(m: Reader, found: Found) -> None:
    """Set `best_response` on the courses of `found` (oldest first) from the assessments they hold."""
    owner = {id(m.resources[r]): i for i, (_, refs) in enumerate(found) for r in refs if r in m.resources}
    graded: dict[int, list[_Status]] = {}
    ungraded: dict[int, list[_Status]] = {}
    for s in m.statuses:
        i = _course_of(m, s, found, owner)
        if i is not None:
            (graded if s.meaning else ungraded).setdefault(i, []).append(s)
    for i, (course, _) in enumerate(found):
        if ungraded.get(i):
            for s in ungraded[i] + graded.get(i, []):
                m.issue(
                    s.ref,
                    f"tumour response {s.shown} ({_day(s.when)}) on course {i + 1} "
                    f"({', '.join(course['agents'])}) beside an assessment that is not graded",
                    "graded answers only (stable 359746009, worsened 271299001, undetermined 709137006): "
                    "'improved' does not say complete or partial response, so the course's best response is "
                    "left unknown",
                )
            continue
        if not graded.get(i):
            continue
        values = {s.meaning for s in graded[i]}
        best = next(v for v in _BEST_ORDER if v in values)
        course["best_response"] = best
        for s in graded[i]:
            m.use(s.ref, f"tumour response {s.meaning} ({_day(s.when)}): best response {best} of course {i + 1}")


def _course_of(m: Reader, s: _Status, found: Found, owner: dict[int, int]) -> int | None:
    """The index of the course `s` assesses, or None (then `s` is recorded as ignored or an issue)."""
    named = {owner[id(t)] for ref in s.targets if (t := m.resources.get(ref)) is not None and id(t) in owner}
    if s.when is None:
        m.issue(s.ref, "an undated tumour response assessment", "an effective date (not attached to any course)")
        return None
    day = s.when.date().isoformat()
    dated, open_ended = [], []
    for i, (course, _) in enumerate(found):
        if day < course["start"]:
            continue
        end = course.get("end") or (m.today.isoformat() if course.get("status") == "ongoing" else None)
        following = found[i + 1][0]["start"] if i + 1 < len(found) else None
        if end is None and (following is None or day < following):
            open_ended.append(i)  # its end is unknown, but not after the next course started
        elif end is not None and day <= end:
            dated.append(i)
    if len(named) > 1 or (named and dated and set(dated) != named):
        m.issue(
            s.ref,
            f"a tumour response assessment ({day}) naming course(s) {_numbers(named)} and dated in {_numbers(dated)}",
            "an assessment of one course, named or dated within it (not attached)",
        )
        return None
    if named:
        return next(iter(named))
    if len(dated) == 1 and not open_ended:
        return dated[0]
    if open_ended and not dated:
        last = open_ended[-1]
        m.issue(
            s.ref,
            f"a tumour response assessment ({day}) after the start of course {last + 1} "
            f"({', '.join(found[last][0]['agents'])}), whose end is not recorded",
            "the course's end date, or partOf naming its medication (not attached: best response unknown)",
        )
        return None
    if not dated:
        m.ignored[s.ref] = f"tumour response assessment ({day}) outside every treatment course"
        return None
    m.issue(s.ref, f"a tumour response assessment ({day}) within several courses", "one course (not attached)")
    return None


def _numbers(indexes: set[int] | list[int]) -> str:
    return ", ".join(str(i + 1) for i in sorted(indexes)) or "none"


def since_last_course(m: Reader, found: Found) -> tuple[bool, str] | None:
    """(`prior.progressed_since_last_line`, the assessment that says it) from the latest assessment after the
    end of the last course, when that course ended without progression; None when nothing says it."""
    if not found:
        return None
    last = found[-1][0]
    end = last.get("end")
    if last.get("setting") != "advanced":  # the field is about lines for advanced disease, not adjuvant therapy
        return None
    if last.get("status") == "ongoing" or last.get("stopped_for") == "progression" or end is None:
        return None
    after = [s for s in m.statuses if s.when is not None and s.when.date().isoformat() > end]
    if not after:
        return None
    latest = max(after, key=lambda s: s.when or datetime.min)
    if latest.meaning == "progression":
        grown = True
    elif latest.meaning == "stable" or (latest.meaning or "").startswith("?improved"):
        grown = False
    else:
        return None
    m.ignored.pop(latest.ref, None)
    m.use(
        latest.ref,
        f"tumour status {latest.shown} ({_day(latest.when)}) after the last course ended: grown since {grown}",
    )
    return grown, latest.ref
