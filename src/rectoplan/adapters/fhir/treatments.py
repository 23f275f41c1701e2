"""Treatments given: systemic drugs grouped into lines, surgeries, and pelvic radiotherapy.

Medication requests, administrations and statements become dated doses; `lines` groups them into the
contract-1 systemic lines (see LINE_WINDOW). Procedures give prior surgeries, the primary's resection and
the days since major surgery; radiotherapy counts as pelvic only when its site says so. Treatments of
another cancer are left out, and so is a treatment dated after the case date (or whose date cannot be read):
it is reported, as a result dated after it is (`Reader.after_case_date`), and what it says stays unknown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.reader import Reader, _Dose
from rectoplan.adapters.fhir.values import _codings, _day, _first_code, _lookup, _profiles, _reasons, _when

# Drugs first given within 4 weeks of a line's start belong to that line; later, a new drug starts a new line
# unless every drug of the running line is given the same day (an addition, not a switch).
LINE_WINDOW = timedelta(days=28)
# Medication statuses that mean the drug was given (value: contract-1 `stopped_for`, "stopped" = see reason).
_GIVEN: dict[str, str | None] = {
    "on-hold": "ongoing",
    "completed": "completed",
    "stopped": "stopped",
    "unknown": None,
}


class TreatmentReader(Reader):
    """Reads medication and Procedure resources (dispatched to by `Reader.visit`) and forms the lines."""

    def _medication(
        self,
        ref: str,
        res: Any,
        status_map: dict[str, str | None],
        when: Any,
        end: Any = None,
        course: dict[str, str | None] | None = None,
        dates: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        if res.status not in status_map:
            self.ignored[ref] = f"medication status {res.status!r}: not a treatment given"
            return
        if other := self.for_other_cancer(_reasons(res)):
            self.ignored[ref] = f"treatment of another cancer ({other})"
            return
        concept = res.medicationCodeableConcept
        if concept is None and res.medicationReference is not None:
            med = self.resources.get(res.medicationReference.reference or "")
            concept = getattr(med, "code", None)
        drug = _lookup(concept, fc.DRUGS)
        status = status_map[res.status]
        reasons = res.statusReason if isinstance(res.statusReason, list) else [res.statusReason]
        stop = next((hit for r in reasons if (hit := _lookup(r, fc.STOP_REASONS))), None)
        if status == "stopped":
            status = stop.meaning if stop else None
        if drug is None:
            if "mcode-cancer-related-medication-request" in _profiles(
                res
            ) or "mcode-cancer-related-medication-administration" in _profiles(res):
                self.issue(
                    ref,
                    f"cancer-related medication {_first_code(concept)}",
                    "a drug of rectoplan's vocabulary with its RxNorm code in the terminology table "
                    "(not counted in prior lines)",
                )
            else:
                self.ignored[ref] = f"medication {_first_code(concept)} is not a drug rectoplan reads"
            return
        end = self._end_by_case_date(ref, res, concept, status_map[res.status] == "ongoing", dates, end)
        if end is False:
            return
        course_status, stopped_for = _course_status(res, (course or _COURSE).get(res.status), reasons)
        setting = self._setting(ref, res)
        self.doses.append(
            _Dose(drug.meaning, _when(when), status, ref, _when(end), setting, course_status, stopped_for)
        )
        self.use(ref, f"{drug.meaning} ({_day(_when(when))}, {status or 'stop reason unknown'})")

    def _end_by_case_date(
        self, ref: str, res: Any, concept: Any, ongoing: bool, dates: tuple[tuple[str, Any], ...], end: Any
    ) -> Any:
        """The treatment's end as read, None when it is after the case date, or False when the treatment is not
        used: it started after the case date, or a date cannot be read (each reported).

        Why the end differs: a treatment that began by the case date was given, so leaving it out would hide
        a drug the patient had (the favourable reading); only its end is left unknown. So is a statement
        asserted later about a treatment dated earlier. The end of one still running is its planned end, not
        a date, so it is not compared."""
        on = f"medication {_first_code(concept)}"
        dated = any(value is not None for name, value in dates if name != "dateAsserted")
        later = {"dateAsserted"} if dated else set()
        starts = tuple(d for d in dates if not d[0].endswith(".end") and d[0] not in later)
        if self.after_case_date(ref, on, starts, "treatment record"):
            return False
        ends = () if ongoing else tuple(d for d in dates if d[0].endswith(".end"))
        kept = "the treatment, begun by then, is counted as given, and its end is left unknown"
        if self.after_case_date(ref, on, ends, "treatment record", kept):
            end = None
        kept = "the treatment, dated by then, is counted as given"
        self.after_case_date(ref, on, tuple(d for d in dates if d[0] in later), "treatment record", kept)
        return end

    def _setting(self, ref: str, res: Any) -> str | None:
        """The setting the medication says it was given in (mCODE intent extension, category, reasonCode)."""
        concepts = [e.valueCodeableConcept for e in res.extension or [] if e.url == fc.PROCEDURE_INTENT_URL]
        category = res.category if isinstance(res.category, list) else [res.category]
        found = {
            hit.meaning
            for c in [*concepts, *category, *(res.reasonCode or [])]
            if (hit := _lookup(c, fc.TREATMENT_INTENTS))
        }
        if len(found - {"curative"}) > 1 or ("advanced" in found and "curative" in found):
            self.issue(
                ref,
                f"treatment intents that disagree ({', '.join(sorted(found))})",
                "one intent per medication (its setting is left unknown)",
            )
            return None
        specific = found - {"curative"}
        return next(iter(specific)) if specific else next(iter(found), None)

    def _medicationrequest(self, ref: str, res: Any) -> None:
        bounds = [
            d.timing.repeat.boundsPeriod
            for d in res.dosageInstruction or []
            if d.timing and d.timing.repeat and d.timing.repeat.boundsPeriod
        ]
        starts = [_when(b.start) for b in bounds if b.start]
        ends = [_when(b.end) for b in bounds if b.end]
        start = min(w for w in starts if w) if any(starts) else res.authoredOn
        end = max(w for w in ends if w) if any(ends) and len(ends) == len(bounds) else None
        # The bounds are the prescriber's plan: a later start means not given by the case date, but the end of
        # a stopped request may still be the planned one, so it is not compared.
        bound = "dosageInstruction.timing.repeat.boundsPeriod.start"
        dates = (("authoredOn", res.authoredOn), *((bound, b.start) for b in bounds))
        self._medication(ref, res, _GIVEN | {"active": "ongoing"}, start, end, dates=dates)

    def _medicationadministration(self, ref: str, res: Any) -> None:
        # One dose given ('completed') says nothing about why the course ended: stopped_for stays unknown.
        start = res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.start)
        end = res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.end)
        course = _COURSE | {"in-progress": "ongoing", "completed": None}
        given = _GIVEN | {"in-progress": "ongoing", "completed": None}
        self._medication(ref, res, given, start, end, course, _effective(res))

    def _medicationstatement(self, ref: str, res: Any) -> None:
        start = res.effectiveDateTime or (res.effectivePeriod and res.effectivePeriod.start) or res.dateAsserted
        end = res.effectivePeriod and res.effectivePeriod.end
        dates = (*_effective(res), ("dateAsserted", res.dateAsserted))
        self._medication(ref, res, _GIVEN | {"active": "ongoing"}, start, end, dates=dates)

    def _procedure(self, ref: str, res: Any) -> None:
        if res.status not in ("completed", "in-progress"):
            self.ignored[ref] = f"procedure status {res.status!r}: not a treatment given"
            return
        if other := self.for_other_cancer(_reasons(res)):
            self.ignored[ref] = f"treatment of another cancer ({other})"
            return
        codes = {(c.system or "", c.code or "") for c in _codings(res.code)}
        radiotherapy = (fc.SNOMED, fc.RADIOTHERAPY_COURSE.code) in codes or (
            fc.SNOMED,
            fc.CHEMORADIATION.code,
        ) in codes
        radiotherapy = radiotherapy or "mcode-radiotherapy-course-summary" in _profiles(res)
        proc = _lookup(res.code, fc.PROCEDURES)
        late = self._procedure_after_case_date(ref, res) if radiotherapy or proc is not None else False
        if late:
            return
        if radiotherapy:
            self._radiotherapy(ref, res)
            return
        if proc is None:
            if "mcode-cancer-related-surgical-procedure" in _profiles(res):
                self.issue(
                    ref,
                    f"cancer-related surgery {_first_code(res.code)}",
                    "a procedure code in rectoplan's terminology table (not counted in prior surgeries)",
                )
            else:
                self.ignored[ref] = f"procedure {_first_code(res.code)} is not read by rectoplan"
            return
        ids = proc.meaning.split("+")
        for ident in ids:
            self.surgeries[ident].append(ref)
        period = res.performedPeriod
        when = _when(res.performedDateTime or (period and ((late is not None and period.end) or period.start)))
        if proc.code in fc.RECTAL_RESECTIONS:
            self.resected.append(ref)
            if when is not None:
                self.resection_dates.append((when, ref))
        if set(ids) <= fc.STOMA_PROCEDURES:  # a stoma made on its own (see STOMA_PROCEDURES)
            self.stoma.append(ref)
        if when is not None and set(ids) & fc.MAJOR_SURGERY:
            self.major_surgery.append((when, ref))
        self.use(ref, f"surgery: {', '.join(ids)} ({_day(when)})")

    def _procedure_after_case_date(self, ref: str, res: Any) -> bool | None:
        """True (reported) when the procedure was done after the case date or its date cannot be read, so it is
        not used; None (reported) when only the end of its period is after it, so it was begun by then and is
        used without that end; False otherwise. The end of one still in progress is planned, not compared."""
        period = res.performedPeriod
        on = f"procedure {_first_code(res.code)}"
        starts = (
            ("performedDateTime", res.performedDateTime),
            ("performedPeriod.start", period and period.start),
            ("performedAge", res.performedAge),
            ("performedRange", res.performedRange),
            ("performedString", res.performedString),
        )
        if self.after_case_date(ref, on, starts, "procedure"):
            return True
        end = (("performedPeriod.end", period.end if period and res.status != "in-progress" else None),)
        kept = "the procedure is counted as begun by the case date, dated by the start of its period"
        return None if self.after_case_date(ref, on, end, "procedure", kept) else False

    def _radiotherapy(self, ref: str, res: Any) -> None:
        concepts = list(res.bodySite or [])
        for ext in res.extension or []:
            for sub in ext.extension or []:
                target = getattr(sub.valueReference, "reference", None) if sub.valueReference else None
                body = self.resources.get(target or "")
                if body is not None and getattr(body, "location", None) is not None:
                    concepts.append(body.location)
        if any(_lookup(c, fc.PELVIC_SITES) for c in concepts):
            self.pelvic_rt.append(ref)
            self.use(ref, "pelvic radiotherapy")
        elif concepts:
            self.ignored[ref] = "radiotherapy to a site outside the pelvis"
        else:
            self.issue(
                ref,
                "a radiotherapy course without a coded treatment site",
                "a body site or treatment volume (pelvic radiation is not assumed either way)",
            )

    def lines(self) -> Iterator[tuple[list[str], str | None, list[str]]]:
        """Group drug exposures into lines: undated ones first, then by start date (see LINE_WINDOW)."""
        undated = [d for d in self.doses if d.when is None]
        if undated:
            for d in undated:
                self.issue(d.ref, f"{d.drug} without a date", "a dated treatment (placed in a separate first line)")
            yield self._line(undated)
        for group in self.dated_groups(by_setting=False):
            yield self._line(group)

    def dated_groups(self, by_setting: bool) -> Iterator[list[_Dose]]:
        """The dated doses grouped into lines (see LINE_WINDOW); `by_setting` also starts a new group where
        the recorded setting changes (adjuvant CAPOX and CAPOX again for a relapse are two courses)."""
        dated = sorted((d for d in self.doses if d.when is not None), key=lambda d: (d.when, d.drug))
        current: list[_Dose] = []
        for day, group in _by_day(dated):
            agents, today = {d.drug for d in current}, {d.drug for d in group}
            # A switch: a new drug, past the window, while not all of the line's drugs are given that day
            # (a drug added on top of a running regimen, e.g. bevacizumab at cycle 3, stays in the line).
            switch = current and today - agents and not agents <= today and day - current[0].when > LINE_WINDOW  # type: ignore[operator]
            moved = by_setting and current and {d.setting for d in group} != {current[-1].setting}
            if switch or moved:
                yield current
                current = []
            current += group
        if current:
            yield current

    @staticmethod
    def _line(doses: list[_Dose]) -> tuple[list[str], str | None, list[str]]:
        agents = list(dict.fromkeys(d.drug for d in doses))
        last = {d.drug: d.status for d in sorted(doses, key=lambda d: d.when or datetime.min.replace(tzinfo=UTC))}
        statuses = set(last.values())
        stopped: str | None = next((s for s in ("progression", "intolerance", "ongoing") if s in statuses), None)
        if stopped is None and statuses == {"completed"}:
            stopped = "completed"
        return agents, stopped, list(dict.fromkeys(d.ref for d in doses))


# Medication statuses -> a course status (contract 2); MedicationAdministration overrides 'completed'.
_COURSE: dict[str, str | None] = {
    "active": "ongoing",
    "in-progress": "ongoing",
    "on-hold": "ongoing",
    "completed": "completed",
    "stopped": "stopped",
}


def _course_status(res: Any, status: str | None, reasons: list[Any]) -> tuple[str | None, str | None]:
    """(status, stopped_for) of contract 2 from the resource status and its termination reason (statusReason
    or the mCODE TreatmentTerminationReason extension). A reason on a running treatment is not read."""
    concepts = [*reasons, *(e.valueCodeableConcept for e in res.extension or [] if e.url == fc.TERMINATION_REASON_URL)]
    why = next((hit.meaning for c in concepts if (hit := _lookup(c, fc.TERMINATION_REASONS))), None)
    if status == "ongoing" or why is None:
        return status, None
    if why == "completed":
        return "completed", None
    return "stopped", why


def _effective(res: Any) -> tuple[tuple[str, Any], ...]:
    """The effective[x] dates of a medication administration or statement, named as FHIR names them."""
    period = res.effectivePeriod
    return (
        ("effectiveDateTime", res.effectiveDateTime),
        ("effectivePeriod.start", period and period.start),
        ("effectivePeriod.end", period and period.end),
    )


def _by_day(doses: list[_Dose]) -> Iterator[tuple[datetime, list[_Dose]]]:
    groups: dict[datetime, list[_Dose]] = defaultdict(list)
    for d in doses:
        groups[d.when].append(d)  # type: ignore[index]
    yield from groups.items()
