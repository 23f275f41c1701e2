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
from rectoplan.adapters.fhir.reader import Reader
from rectoplan.adapters.fhir.values import _day, _lookup


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
        if (q := self._quantity(ref, res, "total bilirubin")) is None:
            return
        highs = [r.high for r in res.referenceRange or [] if r.high is not None and r.high.value is not None]
        same = [h for h in highs if (h.code or h.unit) == (q.code or q.unit)]
        if not same:
            self.issue(
                ref,
                f"total bilirubin {q.value} {q.code or q.unit or ''} without an upper reference limit in that unit",
                "referenceRange.high in the result's unit (bilirubin_raised left unknown)",
            )
            return
        raised = float(q.value) > float(same[0].value)
        self.find(
            "bilirubin_raised",
            raised,
            when,
            ref,
            f"total bilirubin {q.value} ({'above' if raised else 'within'} the upper limit {same[0].value}, "
            f"{_day(when)})",
        )

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
