"""Treatment courses (contract 2) read into what the rules need: lines for advanced disease and history facts.

Oncologists record courses: adjuvant CAPOX, then FOLFOX + bevacizumab for metastases, then capecitabine +
bevacizumab maintenance, still running. The rules need the line of therapy for advanced disease and a
few times. The reading, in words:

- Neoadjuvant, adjuvant and perioperative courses are not lines for advanced disease. A relapse during
  such a course or within 6 months of its end counts as a line that progressed (so oxaliplatin in it is
  oxaliplatin-refractory, and the next choice is second line); a later relapse leaves the first line
  open and the oxaliplatin-free interval is recorded.
- A maintenance course continues the induction line before it: the two are one line.
- A re-introduction of the induction (its drugs again, after a planned break or a maintenance course, the
  cancer not grown on oxaliplatin or irinotecan) continues the line too: CAIRO3 re-introduced CAPOX +
  bevacizumab at first progression as part of the first-line strategy, and the second line is the switch
  (`rectoplan.core.reintroduction`; review 14, F15). While it runs the line is the ongoing first line
  (`prior.on_reintroduction`: CAIRO3 gave the re-introduced regimen until second progression, so no
  maintenance is offered during it), and, as for any running line, the next line's options are what to do
  at its progression. A re-introduction stopped for another reason than progression after maintenance that
  the cancer outgrew is kept apart: a stopped line records its drugs' progression only when it stopped for
  progression, and merging would hide the progression on the maintenance drugs.
- A course still running is the ongoing line: the plan is to continue it, and the options of the next
  line are what to do at progression.
- Times are dates (`start`, `end`) or months before the case date (`start_months_ago`,
  `end_months_ago`); with dates the case needs its own date (`as_of`), so nothing is guessed.
- Months are calendar months, as clinicians count them (review 16, F3): between two dates, the number of
  months m such that the earlier date plus m months (its day clamped to the month's last day) is on or
  before the later date, so 31 August to 28 February is 6 months, as 20 May to 20 November is. Days divided
  by a mean month read that as 5 and switched the line at the 6-month rule. Months before the case date are
  kept exactly. With a date at one end and months before the case date at the other, the date is read as
  whole calendar months before the case date and the two are subtracted: the coarser of the two readings,
  which invents no day that was not recorded.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeAlias

from rectoplan.core.case import LINE_SETTINGS, Course, SystemicLine
from rectoplan.core.errors import Problem
from rectoplan.core.reintroduction import reintroduces

EARLY_RELAPSE_MONTHS: Final = 6
PERIOPERATIVE_SETTINGS: Final = ("neoadjuvant", "adjuvant", "perioperative")
SETTINGS: Final = (*PERIOPERATIVE_SETTINGS, *LINE_SETTINGS)
STATUSES: Final = ("ongoing", "completed", "stopped")
STOP_REASONS: Final = ("progression", "toxicity", "planned_end", "patient_choice", "treatment_break")
BEST_RESPONSES: Final = ("complete", "partial", "stable", "progression", "not_assessed")
ANTI_EGFR: Final = frozenset({"cetuximab", "panitumumab"})
DAYS_PER_MONTH: Final = 30.4375
PLANNED_PAUSES: Final = ("treatment_break", "planned_end")  # stops after which the induction may come back

When: TypeAlias = date | int  # a time as recorded: a date, or whole months before the case date


def months(days: int) -> int:
    """Whole months in a number of days (a month is a mean Gregorian month): only for a time known in days
    alone (a course built without its recorded times); recorded times are counted by `months_between`."""
    return int(days // DAYS_PER_MONTH)


def add_months(day: date, count: int) -> date:
    """`day` plus `count` calendar months, the day clamped to the last day of the month reached (31 January
    plus one month is 28 or 29 February), as clinicians count a month (standard library only: python-dateutil
    is not a dependency of rectoplan)."""
    index = day.year * 12 + day.month - 1 + count
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def calendar_months(earlier: date, later: date) -> int:
    """Whole calendar months from `earlier` to `later`: the largest m with `add_months(earlier, m)` on or
    before `later` (0 when `later` is not after `earlier`). 31 Aug to 28 Feb is 6; one day less is 5."""
    count = (later.year - earlier.year) * 12 + later.month - earlier.month
    if count > 0 and add_months(earlier, count) > later:
        count -= 1
    return max(count, 0)


def months_before(when: When, as_of: date | None) -> int | None:
    """Whole months from `when` to the case date: kept as recorded when given in months, calendar months from
    a date (None without the case date, which validation already reports)."""
    if isinstance(when, date):
        return None if as_of is None else calendar_months(when, as_of)
    return when


def months_between(earlier: When, later: When, as_of: date | None) -> int | None:
    """Whole months from `earlier` to `later`: calendar months when both are dates; otherwise each is read as
    whole months before the case date and the difference taken (a date is never made more precise than the
    months at the other end, nor a month count turned into an invented day). Never negative."""
    if isinstance(earlier, date) and isinstance(later, date):
        return calendar_months(earlier, later)
    first, second = months_before(earlier, as_of), months_before(later, as_of)
    return None if first is None or second is None else max(0, first - second)


def recorded(when: When | None, days_ago: int | None) -> When | None:
    """A course's time as recorded, or, for a course built with days only, the whole months in those days."""
    if when is not None:
        return when
    return None if days_ago is None else months(days_ago)


def parse_date(text: str, path: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(path, repr(text)[:40], "a date as YYYY-MM-DD"))
        return None


@dataclass(frozen=True, slots=True)
class Timeline:
    """The case date and when advanced disease was diagnosed as recorded: a date, or whole months before the
    case date (`When`)."""

    as_of: date | None
    advanced: When | None

    def read(self, raw: dict[str, Any], key: str, path: str, problems: list[Problem]) -> tuple[int | None, When | None]:
        """`key` of a course (from a date or from `<key>_months_ago`), read once: (days before the case date,
        which order the courses; the time as recorded, a date or whole months before the case date, from which
        months are counted). (None, None) when absent or refused (a date without `as_of`, or after it)."""
        if raw.get(f"{key}_months_ago") is not None:
            months_ago = int(raw[f"{key}_months_ago"])
            return round(months_ago * DAYS_PER_MONTH), months_ago
        text = raw.get(key)
        if text is None:
            return None, None
        when = parse_date(text, f"{path}.{key}", problems)
        if when is None:
            return None, None
        if self.as_of is None:
            problems.append(Problem(f"{path}.{key}", repr(text), "as_of (the case date) whenever a course has a date"))
            return None, None
        days = (self.as_of - when).days
        if days < 0:
            problems.append(Problem(f"{path}.{key}", f"{text} after as_of {self.as_of}", "a date on or before as_of"))
            return None, None
        return days, when


def _stop(course: Course) -> str:
    """The line's stop reason in the words of the rules (contract 1's `stopped_for`)."""
    if course.status == "ongoing":
        return "ongoing"
    return {"progression": "progression", "toxicity": "intolerance"}.get(course.stopped_for or "", "completed")


def _months_to_relapse(course: Course, timeline: Timeline) -> int | None:
    """Whole calendar months from the end of a (perioperative) course to the diagnosis of advanced disease
    (`months_between`: exactly six calendar months is 6, whatever the months' lengths)."""
    end = recorded(course.end_as_recorded, course.end_days_ago)
    if end is None or timeline.advanced is None:
        return None
    return months_between(end, timeline.advanced, timeline.as_of)


def _early_relapse(course: Course, timeline: Timeline) -> bool | None:
    if course.status == "ongoing":
        return True  # relapse during adjuvant therapy
    interval = _months_to_relapse(course, timeline)
    return None if interval is None else interval < EARLY_RELAPSE_MONTHS


def _line_best(course: Course, induction: Course | None) -> str | None:
    """The best response over a line: a maintenance course continues its induction, so the line's best
    response is the better of the two (maintenance is usually recorded 'stable' after an induction that
    shrank the tumour, and re-introduction at progression reads the induction's response: CAIRO3, TRIBE2).
    `BEST_RESPONSES` lists the responses best first."""
    earlier = induction.best_response if induction is not None and course.setting == "maintenance" else None
    if earlier is None or earlier == "not_assessed":
        return course.best_response
    return min(course.best_response or "not_assessed", earlier, key=BEST_RESPONSES.index)


def history(courses: Sequence[Course], timeline: Timeline) -> tuple[tuple[SystemicLine, ...], dict[str, object]]:
    """(lines for advanced disease, declared history facts) of validated courses, oldest first."""
    lines: list[SystemicLine] = []
    facts: dict[str, object] = {}
    last_advanced: Course | None = None
    induction: Course | None = None  # the first course of the last line, when that line is for advanced disease
    maintenance = reintroducing = False  # the phase of the last line: maintenance, or a re-introduction
    previous: Course | None = None  # the course before this one
    for course in courses:
        before, previous = previous, course
        if course.setting in PERIOPERATIVE_SETTINGS:
            early = _early_relapse(course, timeline)
            if "oxaliplatin" in course.agents:
                facts["prior.adjuvant_oxaliplatin"] = True
                interval = _months_to_relapse(course, timeline)
                if interval is not None:
                    facts["prior.oxaliplatin_free_months"] = interval
            if early:
                lines.append(SystemicLine(course.agents, "progression"))
                induction = None  # the last line is this relapse, not an induction
            continue
        if course.setting == "maintenance" and lines and last_advanced is not None:
            merged = tuple(dict.fromkeys((*lines[-1].agents, *course.agents)))[:10]
            stop = _stop(course)  # progression here came on the maintenance drugs only
            lines[-1] = SystemicLine(merged, stop, course.agents if stop == "progression" else None)
            maintenance, reintroducing = course.status == "ongoing", False
        else:
            continued = _continued(lines, before, induction, course)
            if continued is None:
                lines.append(SystemicLine(course.agents, _stop(course)))
            else:
                lines[-1] = continued
            last_advanced, maintenance, reintroducing = course, False, continued is not None
            induction = course
            facts.pop("prior.last_response", None)  # an earlier line's response says nothing of this one
            since = _months_ago(course.end_as_recorded, course.end_days_ago, timeline.as_of)
            if since is None:
                facts.pop("prior.months_since_induction", None)
            else:  # the induction's drugs stopped then: the free interval before a re-introduction (TRIBE2)
                facts["prior.months_since_induction"] = since
        if course.best_response not in (None, "not_assessed"):
            facts["prior.last_response"] = _line_best(course, last_advanced)
    facts.update(_last_line(lines, last_advanced, induction, (maintenance, reintroducing), timeline.as_of))
    facts.update(_anti_egfr(courses, timeline.as_of))
    facts.setdefault("prior.adjuvant_oxaliplatin", False)
    return tuple(lines), facts


def _paused(before: Course | None, induction: Course | None) -> bool:
    """Whether the line that `before` (its last course) ended paused as planned: an induction completed,
    stopped for a planned end or a break, or its maintenance stopped so (or for progression on the
    maintenance drugs); never after a stop for side effects or the patient's choice, nor after an
    induction whose best response was progression."""
    if before is None or induction is None or before.setting not in ("advanced", "maintenance"):
        return False
    if induction.best_response == "progression":
        return False
    planned = before.status == "completed" or before.stopped_for in PLANNED_PAUSES
    return planned or (before.setting == "maintenance" and before.stopped_for == "progression")


def _continued(
    lines: list[SystemicLine], before: Course | None, induction: Course | None, course: Course
) -> SystemicLine | None:
    """The last line continued by `course`, when `course` re-introduces its induction after a planned
    pause (None otherwise: `course` starts the next line). The re-introduction's stop becomes the line's;
    at progression, the line progressed on the re-introduced drugs and on those it had progressed on. While
    it runs, the line runs (a running line records no progression: what comes at its progression is read
    as for any running line)."""
    if not lines or not _paused(before, induction):
        return None
    line = lines[-1]
    if not reintroduces(course.agents, line.agents, line.progressed_agents):
        return None
    stop = _stop(course)
    if line.progressed_agents and stop not in ("progression", "ongoing"):
        return None  # a stopped line would lose its record of progression on its maintenance drugs
    merged = tuple(dict.fromkeys((*line.agents, *course.agents)))[:10]
    if stop != "progression":
        return SystemicLine(merged, stop)
    progressed = frozenset((*line.progressed_agents, *course.agents))
    return SystemicLine(
        merged, stop, None if progressed >= set(merged) else tuple(a for a in merged if a in progressed)
    )


def _months_ago(when: When | None, days_ago: int | None, as_of: date | None) -> int | None:
    """Whole months from a course's time (as recorded: `recorded`) to the case date."""
    at = recorded(when, days_ago)
    return None if at is None else months_before(at, as_of)


def _last_line(
    lines: list[SystemicLine],
    last_advanced: Course | None,
    induction: Course | None,
    phase: tuple[bool, bool],
    as_of: date | None,
) -> dict[str, object]:
    """The facts of the most recent line: running (its phase, maintenance or a re-introduction of the
    induction, and months on it) or stopped (how long its induction ran), and whether it stopped for
    progression, on its maintenance drugs or at all."""
    if not lines:
        return {}
    last = lines[-1]
    running = last.stopped_for == "ongoing"
    facts: dict[str, object] = {
        "prior.on_maintenance": phase[0] and running,
        "prior.on_reintroduction": phase[1] and running,
        "prior.progressed_on_maintenance": last.progressed_on is not None,  # only a maintenance course names them
        "prior.last_line_progressed": last.stopped_for == "progression",
    }
    if running:
        since = None if last_advanced is None else _months_ago(*_start(last_advanced), as_of)
        if since is not None:
            facts["prior.months_on_current_line"] = since
    elif induction is not None:
        start = recorded(*_start(induction))
        end = recorded(induction.end_as_recorded, induction.end_days_ago)
        given = None if start is None or end is None else months_between(start, end, as_of)
        if given is not None:
            facts["prior.last_line_months"] = given  # CAIRO3: 18 weeks of induction
    return facts


def _start(course: Course) -> tuple[When | None, int | None]:
    return course.start_as_recorded, course.start_days_ago


def _anti_egfr_courses(courses: Sequence[Course]) -> list[Course]:
    return [c for c in courses if ANTI_EGFR & set(c.agents)]


def _anti_egfr(courses: Sequence[Course], as_of: date | None) -> dict[str, object]:
    given = _anti_egfr_courses(courses)
    if not given:
        return {}
    facts: dict[str, object] = {}
    if given[-1].best_response not in (None, "not_assessed"):
        facts["prior.anti_egfr_response"] = given[-1].best_response
    since = _months_since_end(given, as_of)
    if since is not None:
        facts["prior.months_since_anti_egfr"] = since
    return facts


def _months_since_end(given: Sequence[Course], as_of: date | None) -> int | None:
    """Whole months from the end of the last of `given` to the case date: 0 while one runs, unknown if any end
    is (`_days_since_end`, whose days find the most recent end), counted from that end as recorded."""
    days = _days_since_end(given)
    if not days:  # unknown, running, or ended on the case date
        return days
    last = next(c for c in given if c.end_days_ago == days)
    return _months_ago(last.end_as_recorded, days, as_of)


def _days_since_end(given: Sequence[Course]) -> int | None:
    """Days from the end of the last of `given` (the anti-EGFR courses, or all) to the case date: 0 while one
    runs, unknown if any end is."""
    if any(c.status == "ongoing" for c in given):
        return 0
    ends = [c.end_days_ago for c in given]
    if any(e is None for e in ends):
        return None
    return min(e for e in ends if e is not None)


def liquid_biopsy_after_anti_egfr(courses: Sequence[Course], liquid_days_ago: int) -> dict[str, object]:
    """Whether a liquid biopsy taken `liquid_days_ago` came after the last anti-EGFR antibody ended, and after
    the last course of any treatment ended.

    Rechallenge needs a ctDNA result from after the last anti-EGFR dose (CHRONOS, CRICKET): a RAS-wild-type
    result from before the antibody says nothing about the resistant clones it selected. CHRONOS tested ctDNA
    at the moment of rechallenge, so a result taken before a later line (review 13, finding 2: ctDNA from
    March, FOLFOX-bevacizumab until November) is not the result at rechallenge either. Each fact is unknown
    when an end it needs is not recorded; a course still running means the biopsy did not come after it.
    """
    facts: dict[str, object] = {}
    given = _anti_egfr_courses(courses)
    days = _days_since_end(given) if given else None
    if days is not None:
        facts["biomarkers.liquid_ras_after_anti_egfr"] = liquid_days_ago < days
    last = _days_since_last_course(courses)
    if last is not None:
        facts["biomarkers.liquid_ras_after_last_line"] = liquid_days_ago < last
    return facts


def _days_since_last_course(courses: Sequence[Course]) -> int | None:
    """Days from the end of the most recent course to the case date: 0 while one runs, unknown without
    courses or when any course's end is not recorded (the order of undated courses cannot be trusted)."""
    if not courses:
        return None
    return _days_since_end(courses)


def course_problems(courses: Sequence[Course], path: str) -> list[Problem]:
    """Contradictions between courses that no schema can express."""
    problems: list[Problem] = []
    for i, course in enumerate(courses):
        where = f"{path}[{i}]"
        if course.status == "ongoing" and i != len(courses) - 1:
            problems.append(
                Problem(
                    f"{where}.status", "'ongoing' on a course followed by another", "'ongoing' only on the last course"
                )
            )
        if course.stopped_for is not None and course.status != "stopped":
            problems.append(
                Problem(
                    f"{where}.stopped_for",
                    f"{course.stopped_for!r} with status {course.status!r}",
                    "status 'stopped' whenever stopped_for is given",
                )
            )
        if course.status == "ongoing" and course.end_days_ago is not None:
            problems.append(
                Problem(f"{where}.end", "an end on an ongoing course", "no end while the course is ongoing")
            )
        if (
            course.start_days_ago is not None
            and course.end_days_ago is not None
            and course.end_days_ago > course.start_days_ago
        ):
            problems.append(Problem(f"{where}.end", "an end before the start", "the end on or after the start"))
        if course.setting == "maintenance":
            before = courses[i - 1] if i else None
            if before is None or before.setting != "advanced":
                problems.append(
                    Problem(
                        f"{where}.setting",
                        "'maintenance' without an induction course just before it",
                        "a course with setting 'advanced' (the induction) right before the maintenance course",
                    )
                )
            elif before.stopped_for == "progression":
                problems.append(
                    Problem(
                        f"{where}.setting",
                        "maintenance after an induction stopped for progression",
                        "maintenance only after an induction that did not progress",
                    )
                )
    return problems
