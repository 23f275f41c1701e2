"""Laboratory values of contract 2: TMB, total bilirubin, creatinine clearance, HER2 by IHC score and ISH.

Why a separate reader: these results are numbers or method-specific scores rather than the coded
positive/negative answers of `observations`, and each needs its unit or reference range checked before a
value is believed. A result that cannot be read that way is reported (the field stays unknown), never
guessed: a bilirubin without an upper reference limit says nothing about "raised", and a creatinine clearance
in another unit than mL/min (an eGFR per 1.73 m2, mL/s) is reported, never converted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.reader import Reader, _Finding
from rectoplan.adapters.fhir.values import _day, _lookup

# The two facts one total bilirubin result gives (contract 2, `health.*`), in the order `_bilirubin` records them.
BILIRUBIN_FACTS = ("bilirubin_raised", "bilirubin_over_3_uln")
# Observation.valueQuantity.comparator: none (an exact value), or a bound ("ad", sufficient, is not read).
_BOUNDS = (None, "<", "<=", ">", ">=")


def _above(value: float, comparator: str | None, limit: float) -> bool | None:
    """Whether the result is above `limit`; None when its bound does not tell (e.g. '<5' against 1.2).

    '<5' or '<=5' says the true value is at most 5: not above a limit of 5 or more, else unknown. '>2' says it
    is more than 2: above a limit of 2 or less; '>=2' only above a limit under 2."""
    if comparator is None:
        return value > limit
    if comparator in ("<", "<="):
        return False if value <= limit else None
    if comparator == ">":
        return True if value >= limit else None
    return True if value > limit else None


class LabReader(Reader):
    """TMB, bilirubin, creatinine clearance and HER2 method results (called from `ObservationReader._observation`)."""

    def _her2_method(self, ref: str, res: Any, when: datetime | None, codes: set[tuple[str, str]]) -> bool:
        """Record an IHC score or an ISH result; True when the IHC score was the whole reading."""
        if codes & fc.HER2_IHC_TESTS and (score := _lookup(res.valueCodeableConcept, fc.HER2_IHC_SCORES)):
            self.find("her2_ihc", score.meaning, when, ref, f"HER2 IHC {score.meaning} ({_day(when)})")
            if score.meaning == "3+":
                self.find("her2", "positive", when, ref, f"HER2 IHC 3+ ({_day(when)})")
            elif score.meaning in ("0", "1+"):
                self.find("her2", "negative", when, ref, f"HER2 IHC {score.meaning} ({_day(when)})")
            return True  # 2+ is equivocal: HER2 status comes from ISH
        if codes & fc.HER2_ISH_TESTS:
            value = _lookup(res.valueCodeableConcept, fc.RESULT_ANSWERS)
            if value is not None and value.meaning in ("positive", "negative"):
                self.find("her2_ish", value.meaning, when, ref, f"HER2 ISH {value.meaning} ({_day(when)})")
        return False

    def _quantity(self, ref: str, res: Any, what: str) -> Any:
        q = res.valueQuantity
        if q is None or q.value is None:
            self.issue(ref, f"{what} without a numeric value", f"{what} as valueQuantity (left unknown)")
            return None
        return q

    def _whole(self, ref: str, q: Any, high: int, found: str, expected: str) -> int | None:
        """A quantity's value as a whole number from 0 to `high`, or an issue (and unknown) outside it."""
        value = round(float(q.value))
        if 0 <= value <= high:
            return value
        self.issue(ref, found, expected)
        return None

    def _tmb(self, ref: str, res: Any, when: datetime | None) -> None:
        if (q := self._quantity(ref, res, "tumour mutational burden")) is None:
            return
        unit = q.code or q.unit
        if unit not in fc.TMB_UNITS:
            self.issue(
                ref,
                f"tumour mutational burden in unit {unit!r}",
                f"mutations per megabase (UCUM {', '.join(sorted(fc.TMB_UNITS))}); TMB left unknown",
            )
            return
        value = self._whole(ref, q, 1000, f"tumour mutational burden {q.value}", "0-1000 mutations/Mb (left unknown)")
        if value is not None:
            self.find("tmb", value, when, ref, f"TMB {value}/Mb ({_day(when)})")

    def _bilirubin(self, ref: str, res: Any, when: datetime | None) -> None:
        """`bilirubin_raised` (above referenceRange.high) and `bilirubin_over_3_uln` (above 3 x that limit).

        Only against an upper limit in the result's own unit: no conversion between units (mass and
        substance concentration) is made. A result that cannot be read this way is recorded as unread, so
        that an older readable result is not used in its place (`ObservationReader.resolve_readable`): the
        bilirubin then stays unknown, never "within the limit"."""
        q = res.valueQuantity
        unit = (q.code or q.unit) if q is not None else None
        shown = f"total bilirubin {q.value if q is not None else '(no value)'} {unit or ''}".rstrip()
        reading = self._bilirubin_reading(ref, res, shown)
        if reading is None:
            for fact in BILIRUBIN_FACTS:
                self.findings[fact].append(_Finding(None, when, ref, f"{shown}: not read"))
            return
        uln, raised, over = reading
        for fact, above in zip(BILIRUBIN_FACTS, (raised, over), strict=True):
            if above is None:  # a bound ('<5', '>2') that does not tell this side of the limit
                self.findings[fact].append(_Finding(None, when, ref, f"{shown}: not read"))
                continue
            where = "above 3 x" if over else "above" if raised else "within" if raised is False else "at most 3 x"
            self.find(fact, above, when, ref, f"{shown} ({where} the upper limit {uln:g}, {_day(when)})")

    def _bilirubin_reading(self, ref: str, res: Any, shown: str) -> tuple[float, bool | None, bool | None] | None:
        """(upper limit, above it, above 3 x it) of a total bilirubin result, or None (reported) when unreadable."""
        q = res.valueQuantity
        if q is None or q.value is None:
            self.issue(ref, "total bilirubin without a numeric value", "valueQuantity (bilirubin left unknown)")
            return None
        unit, comparator, value = q.code or q.unit, q.comparator, float(q.value)
        highs = sorted(
            {
                float(r.high.value)
                for r in res.referenceRange or []
                if r.high is not None and r.high.value is not None and (r.high.code or r.high.unit) == unit
            }
        )
        why = (
            "no upper reference limit in that unit"
            if not highs
            else f"{len(highs)} different upper reference limits in that unit"
            if len(highs) > 1
            else "a negative value or upper limit"
            if value < 0 or highs[0] <= 0
            else f"comparator {comparator!r}"
            if comparator not in _BOUNDS
            else None
        )
        if why is not None:
            self.issue(
                ref,
                f"{shown} with {why}",
                "one referenceRange.high in the result's unit (units are not converted); bilirubin_raised and "
                "bilirubin_over_3_uln left unknown",
            )
            return None
        uln = highs[0]
        return uln, _above(value, comparator, uln), _above(value, comparator, 3 * uln)

    def _creatinine_clearance(self, ref: str, res: Any, when: datetime | None, test: fc.Code) -> None:
        """`health.creatinine_clearance` from a measured or Cockcroft-Gault result in UCUM mL/min only."""
        what = f"creatinine clearance ({test.meaning}, LOINC {test.code})"
        if (q := self._quantity(ref, res, what)) is None:
            return
        unit, system = q.code or q.unit, q.system
        if unit != fc.CREATININE_CLEARANCE_UNIT or system not in (None, fc.UCUM):
            shown = f"{unit!r}" + (f" (system {system})" if system not in (None, fc.UCUM) else "")
            self.issue(
                ref,
                f"{what} {q.value} in unit {shown}",
                f"mL/min (UCUM {fc.CREATININE_CLEARANCE_UNIT}); not converted, creatinine clearance left unknown",
            )
            return
        value = self._whole(ref, q, 250, f"{what} {q.value} mL/min", "0-250 mL/min (creatinine clearance left unknown)")
        if value is not None:
            label = f"creatinine clearance {value} mL/min, {test.meaning} ({_day(when)})"
            self.find("creatinine_clearance", value, when, ref, label)

    def _egfr(self, ref: str, test: fc.Code) -> None:
        self.ignored[ref] = (
            f"{test.meaning} (LOINC {test.code}) is not creatinine clearance (mL/min): the rules dose by "
            "creatinine clearance (Cockcroft-Gault or measured), which stays unknown"
        )
