"""Contract 2 from FHIR: treatment courses with their setting and dates, the case date, and the new fields.

Why: a line count is wrong whenever adjuvant therapy is counted as a line for advanced disease (issue 11).
Courses need what a FHIR chart can say but does not always say: the setting each course was given in.
The rule, in words:

- A course is a group of medications formed as the contract-1 lines are (`TreatmentReader.dated_groups`),
  also split where the recorded setting changes.
- Its setting comes from the medications' intent (mCODE `mcode-procedure-intent` extension, `category`
  or `reasonCode`): palliative -> `advanced`; adjuvant / neoadjuvant as coded; curative -> neoadjuvant
  when the course ended by the date of the rectal resection, adjuvant when it started on or after it
  (before any metastasis or recurrence was diagnosed); anything else is unknown.
- Courses are emitted only when every medication is dated, every course's setting is known and some course
  says what a line cannot (another setting, an end date, the start of the ongoing line, a patient's
  choice); otherwise the history stays contract-1 `systemic_lines`, exactly as before (never both).
- `as_of` (the case date) is the date the import is made for: the caller's `today` (the service's request
  date), else the Bundle's `timestamp`, else the current date. `advanced_disease_date` is the earliest
  onset (or recorded date) of a metastasis or local recurrence that was read, else the earliest TNM stage
  group IV observation.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from rectoplan.adapters.fhir.reader import _Dose
from rectoplan.adapters.fhir.response import attach_responses, since_last_course, unattached
from rectoplan.adapters.fhir.treatments import TreatmentReader
from rectoplan.adapters.fhir.values import _day

_STOP_ORDER = ("progression", "toxicity", "patient_choice")


def _setting(m: TreatmentReader, group: list[_Dose], advanced: datetime | None) -> str | None:
    settings = {d.setting for d in group}
    if settings & {"adjuvant", "neoadjuvant"}:
        settings.discard("curative")  # adjuvant and neoadjuvant therapy is curative: the specific one counts
    if len(settings) != 1 or None in settings:
        return None
    setting = settings.pop()
    if setting != "curative":
        return setting
    start = min(d.when for d in group if d.when)
    last = max(d.end or d.when for d in group if d.when)
    if not m.resection_dates or (advanced is not None and last > advanced):
        return None
    resection = min(m.resection_dates)[0]
    if last <= resection:
        return "neoadjuvant"
    return "adjuvant" if start >= resection else None


def _course(group: list[_Dose], setting: str, last: bool) -> dict[str, Any]:
    agents = list(dict.fromkeys(d.drug for d in group))
    latest = {d.drug: d for d in sorted(group, key=lambda d: d.when)}  # type: ignore[arg-type, return-value]
    statuses = {d.course_status for d in latest.values()}
    course: dict[str, Any] = {"agents": agents[:10], "setting": setting}
    start = min(d.when for d in group if d.when)
    ends = [d.end for d in group if d.end is not None]
    if "ongoing" in statuses:
        if last:
            course["status"] = "ongoing"
    elif "stopped" in statuses:
        course["status"] = "stopped"
        reasons = {d.stopped_for for d in latest.values()}
        if why := next((r for r in _STOP_ORDER if r in reasons), None):
            course["stopped_for"] = why
    elif statuses == {"completed"}:
        course["status"] = "completed"
    course["start"] = start.date().isoformat()
    if ends and course.get("status") != "ongoing" and max(ends) >= max(d.when for d in group if d.when):
        course["end"] = max(ends).date().isoformat()
    return course


def _beyond_lines(course: dict[str, Any]) -> bool:
    """Whether a course says what a contract-1 line cannot: a setting other than a line for advanced disease,
    an end date (months since anti-EGFR, the oxaliplatin-free interval), the start of the ongoing line
    (months on it), a stop reason lines do not have, or a best response."""
    return (
        course["setting"] != "advanced"
        or "end" in course
        or course.get("status") == "ongoing"
        or course.get("stopped_for") == "patient_choice"
        or "best_response" in course
    )


def advanced_since(m: TreatmentReader) -> tuple[datetime, str] | None:
    """(date, resource) of the diagnosis of advanced disease, if the chart dates it."""
    if m.advanced_dates:
        return min(m.advanced_dates)
    return min(m.stage_iv_dates) if m.stage_iv_dates else None


def courses(m: TreatmentReader) -> list[tuple[dict[str, Any], list[str]]] | None:
    """(course, resources) oldest first, or None when the chart cannot say each course's setting."""
    if not m.doses or any(d.when is None for d in m.doses):
        return None
    since = advanced_since(m)
    groups = list(m.dated_groups(by_setting=True))
    out: list[tuple[dict[str, Any], list[str]]] = []
    for i, group in enumerate(groups):
        setting = _setting(m, group, since[0] if since else None)
        if setting is None:
            if any(d.setting for d in m.doses):
                named = ", ".join(dict.fromkeys(d.ref for d in group))
                m.issue(
                    group[0].ref,
                    f"a course of {', '.join(dict.fromkeys(d.drug for d in group))} whose setting cannot be told "
                    f"({named})",
                    "a treatment intent on every medication (mCODE procedure intent: palliative, or curative with "
                    "a dated rectal resection; adjuvant or neoadjuvant): the history is given as lines instead",
                )
            return None
        out.append((_course(group, setting, i == len(groups) - 1), list(dict.fromkeys(d.ref for d in group))))
    late = [(c, refs) for c, refs in out if c["start"] > m.today.isoformat() or c.get("end", "") > m.today.isoformat()]
    for c, refs in late:
        m.issue(
            refs[0], f"a course dated after the case date {m.today.isoformat()} ({c['start']})", "dates up to as_of"
        )
    return None if late else out


def add_history(m: TreatmentReader, case: dict[str, Any], prior: dict[str, Any], prov: dict[str, str]) -> None:
    """Courses (contract 2) with `as_of` and `advanced_disease_date`, or else contract-1 lines."""
    found = courses(m)
    if found is None:
        unattached(
            m,
            "a treatment course to attach it to: the history is read as lines, which have no best response "
            "(left unknown)"
            if m.doses
            else "",
        )
    else:
        attach_responses(m, found)
    if found is not None and not any(_beyond_lines(c) for c, _ in found):
        found = None  # the courses say no more than lines: the case stays as contract 1 read it
    if found is None:
        lines = list(m.lines())
        if lines:
            prior["systemic_lines"] = []
            for i, (agents, stopped, refs) in enumerate(lines):
                if stopped == "ongoing" and i != len(lines) - 1:
                    stopped = None
                prior["systemic_lines"].append({"agents": agents} | ({"stopped_for": stopped} if stopped else {}))
                prov[f"prior.systemic_lines[{i}]"] = ", ".join(refs)
        return
    case["format"] = "rectoplan.case/2"
    case["as_of"] = m.today.isoformat()
    prov["as_of"] = "the date of the import (request date, else Bundle.timestamp, else today)"
    since = advanced_since(m)
    if since is not None and since[0].date() <= m.today:
        case["advanced_disease_date"] = since[0].date().isoformat()
        prov["advanced_disease_date"] = since[1]
        m.use(since[1], f"advanced disease since {_day(since[0])}")
    _maybe_maintenance(m, found)
    prior["courses"] = [c for c, _ in found]
    for i, (_, refs) in enumerate(found):
        prov[f"prior.courses[{i}]"] = ", ".join(refs)
    grown = since_last_course(m, found)
    if grown is not None:
        prior["progressed_since_last_line"], prov["prior.progressed_since_last_line"] = grown


def _maybe_maintenance(m: TreatmentReader, found: list[tuple[dict[str, Any], list[str]]]) -> None:
    """Report a palliative course that follows one that did not stop for progression: it may be maintenance
    (CAIRO3, PANAMA), which FHIR cannot say (mCODE has no maintenance intent), so it is read as a new line."""
    for (before, _), (course, refs) in pairwise(found):
        if before["setting"] == course["setting"] == "advanced" and before.get("stopped_for") != "progression":
            m.issue(
                refs[0],
                f"a palliative course of {', '.join(course['agents'])} ({course['start']}) after one of "
                f"{', '.join(before['agents'])} that did not stop for progression",
                "whether it is maintenance of that line or a new line: mCODE has no maintenance intent, so it is "
                "read as a new line; if it is maintenance, give the case as JSON with setting 'maintenance'",
            )
