"""Cancer conditions: the rectal primary or its local recurrence, metastatic sites, other cancers.

A Condition decides whether rectoplan applies at all (a rectal cancer must be there) and where the disease
has spread. Metastases of another cancer (linked by the condition-related extension) and resolved ones are
not counted; a secondary whose site cannot be told is reported, never guessed. A local recurrence,
metastasis or other cancer whose onset, recorded date or abatement is after the case date (or cannot be read
as a date) is reported and not used, as a result or a treatment dated after it is; a rectal primary so dated
is reported and still makes rectoplan apply (see _PRIMARY_KEPT).
"""

from __future__ import annotations

from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.reader import Reader
from rectoplan.adapters.fhir.values import _codings, _first_code, _lookup, _profiles, _when

RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
# A rectal primary dated after the case date still says that rectoplan applies (refusing the whole chart for
# an entry error in a diagnosis date would hide every other finding); no date of it is read.
_PRIMARY_KEPT = "the rectal cancer is still read as the diagnosis that makes rectoplan apply (no date of it is used)"


class ConditionReader(Reader):
    """Reads Condition resources (dispatched to by `Reader.visit`)."""

    def _condition(self, ref: str, res: Any) -> None:
        verification = {c.code for c in _codings(res.verificationStatus)}
        if verification & {"refuted", "entered-in-error"}:
            self.ignored[ref] = f"verification status {', '.join(sorted(verification))}"
            return
        clinical = {c.code for c in _codings(res.clinicalStatus)}
        cancer = _lookup(res.code, fc.CANCER_CONDITIONS)
        site = _lookup(res.code, fc.METASTASIS_SITES)
        icd = next((c.code for c in _codings(res.code) if c.system == fc.ICD10CM and c.code), "")
        secondary = (
            "mcode-secondary-cancer-condition" in _profiles(res)
            or site is not None
            or (icd.startswith(fc.ICD10_SECONDARY_PREFIXES) or icd.startswith("C77"))
        )
        if self._late(ref, res, cancer, secondary):
            return
        if secondary and cancer is None:
            self._metastasis(ref, res, site, icd, clinical)
        elif cancer is not None:
            self.cancers.append((cancer.meaning, _first_code(res.code), ref))
            if cancer.meaning == "rectal":
                self.use(ref, f"rectal cancer ({_first_code(res.code)})")
            elif cancer.meaning == "local_recurrence":
                if clinical & {"resolved", "inactive", "remission"}:
                    self.ignored[ref] = f"local recurrence recorded as {', '.join(sorted(clinical))}"
                else:
                    self.local_recurrence.append(ref)
                    self._advanced_since(ref, res)
                    self.use(ref, "local recurrence of rectal cancer")
            else:
                self.ignored[ref] = f"cancer condition outside rectoplan's scope ({cancer.meaning})"
        elif icd[:3] in fc.ICD10_OTHER_PRIMARY:
            self.cancers.append((fc.ICD10_OTHER_PRIMARY[icd[:3]], _first_code(res.code), ref))
            self.ignored[ref] = f"cancer condition outside rectoplan's scope ({fc.ICD10_OTHER_PRIMARY[icd[:3]]})"
        elif "mcode-primary-cancer-condition" in _profiles(res):
            self.cancers.append(("unrecognised", _first_code(res.code), ref))
            self.issue(
                ref,
                f"a primary cancer condition coded {_first_code(res.code)}",
                "a cancer code in rectoplan's terminology table (the primary site could not be told)",
            )
        else:
            self.ignored[ref] = f"condition {_first_code(res.code)} is not a cancer condition rectoplan reads"

    def _late(self, ref: str, res: Any, cancer: fc.Code | None, secondary: bool) -> bool:
        """True when this local recurrence or metastasis is dated after the case date (reported, not used). A
        rectal primary so dated is reported and still read (`_PRIMARY_KEPT`); other conditions are not checked."""
        meaning = cancer.meaning if cancer is not None else None
        if meaning == "rectal":
            self._condition_after_case_date(ref, res, _PRIMARY_KEPT)
            return False
        if not ((secondary and cancer is None) or meaning == "local_recurrence"):
            return False
        if not self._condition_after_case_date(ref, res):
            return False
        if meaning is not None:  # named in the refusal when no rectal cancer remains
            self.cancers.append((f"{meaning} dated after the case date", _first_code(res.code), ref))
        return True

    def _condition_after_case_date(self, ref: str, res: Any, kept: str = "") -> bool:
        """True (reported) when a date of the condition is after the case date or cannot be read: a diagnosis
        made or recorded later was not known on the case date, and a condition that abated later was still
        there on it (its status as recorded now does not say how it stood then), so neither reading is used."""
        onset, abated = res.onsetPeriod, res.abatementPeriod
        dates = (
            ("onsetDateTime", res.onsetDateTime),
            ("onsetPeriod.start", onset and onset.start),
            ("onsetPeriod.end", onset and onset.end),
            ("onsetAge", res.onsetAge),
            ("onsetRange", res.onsetRange),
            ("onsetString", res.onsetString),
            ("recordedDate", res.recordedDate),
            ("abatementDateTime", res.abatementDateTime),
            ("abatementPeriod.start", abated and abated.start),
            ("abatementPeriod.end", abated and abated.end),
            ("abatementAge", res.abatementAge),
            ("abatementRange", res.abatementRange),
            ("abatementString", res.abatementString),
        )
        return self.after_case_date(ref, f"condition {_first_code(res.code)}", dates, "condition", kept)

    def _metastasis(self, ref: str, res: Any, site: fc.Code | None, icd: str, clinical: set[str]) -> None:
        if clinical & {"resolved", "inactive", "remission"}:
            self.ignored[ref] = f"metastasis recorded as {', '.join(sorted(clinical))}: not a current metastasis"
            return
        related = [e.valueReference.reference for e in res.extension or [] if e.url == RELATED and e.valueReference]
        if other := self.for_other_cancer(related):
            self.ignored[ref] = f"metastasis of another cancer ({other}, {related[0]})"
            return
        meaning = (
            site.meaning if site is not None else ("other" if icd.startswith(fc.ICD10_SECONDARY_PREFIXES) else None)
        )
        if meaning is None:
            self.issue(
                ref,
                f"a secondary cancer condition coded {_first_code(res.code)}",
                "a metastatic site code in rectoplan's terminology table (site not mapped)",
            )
        elif meaning.startswith("?"):
            self.issue(
                ref,
                f"a secondary cancer condition coded {_first_code(res.code)}",
                f"a distant metastatic site ({meaning[1:]}); not counted",
            )
        else:
            self.sites[meaning].append(ref)
            self._advanced_since(ref, res)
            self.use(ref, f"metastasis: {meaning}")

    def _advanced_since(self, ref: str, res: Any) -> None:
        """When this metastasis or recurrence was found: its onset, else the date it was recorded."""
        onset = res.onsetDateTime or (res.onsetPeriod and res.onsetPeriod.start) or res.recordedDate
        if (when := _when(onset)) is not None:
            self.advanced_dates.append((when, ref))
