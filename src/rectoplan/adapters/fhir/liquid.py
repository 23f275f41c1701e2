"""Liquid biopsy from FHIR: a RAS result on a plasma specimen -> `biomarkers.liquid_ras` and its date.

Why: a RAS result on ctDNA is not the tumour's RAS status. Read as tissue, a newer plasma "KRAS absent"
overrode an earlier tissue KRAS mutation (the newest dated result wins), and the anti-EGFR rules read the
tumour as RAS wild type; and the rechallenge rules need the date of the liquid biopsy (CHRONOS: ctDNA taken
after the last anti-EGFR course), which the JSON case gives as `biomarkers.liquid_ras_date`.

The reading, conservative at each step (an unclear reading leaves the field unknown, never favourable):

- The specimen decides, by code (`fhir_codes.BLOOD_SPECIMENS`), through `Observation.specimen` to a Specimen
  in the bundle: plasma is a liquid biopsy. Whole blood, serum, or "serum or plasma" is neither a tissue
  result nor a plasma liquid biopsy (a whole-blood sample is also the normal sample of a tumour-normal test):
  the result is reported and not used. A Specimen of the bundle that is not blood leaves the result read as
  the tumour's, as does a result naming no Specimen. A Specimen named but not in the bundle: below.
- The most recent dated liquid biopsy counts (older ones are superseded); an undated one is reported.
- RAS is mutant when KRAS or NRAS is mutant in it; wild type only when both KRAS and NRAS are reported wild
  type in it (one gene alone is reported, and liquid RAS stays unknown).
- A result dated after the case date never gets here (`ObservationReader._after_case_date`).
- A RAS result naming a Specimen that is not in the bundle is reported and not used: it may be a plasma
  result, so reading it as the tumour's would be the favourable guess (a newer ctDNA 'absent' would make a
  RAS-mutant tumour wild type). Stop 18 did this only when the caller said the Specimens could not be read
  (`unread_specimens`: the service's `specimens` prefetch failed); since stop 19 for every bundle (the CLI's).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.reader import Reader, _Finding
from rectoplan.adapters.fhir.values import _day, _first_code, _local_day, _lookup, _when

LIQUID_FACTS = ("liquid_kras", "liquid_nras")
PLASMA = "plasma"
ONE_VARIANT_ABSENT = "one variant absent"
# (KRAS and/or NRAS, "positive" | "negative" | ONE_VARIANT_ABSENT | None when not a coded result)
RasResult = tuple[tuple[str, ...], str | None]


class LiquidReader(Reader):
    """Blood specimens of RAS results (called from `ObservationReader._observation`)."""

    def _blood(self, res: Any) -> tuple[str, str] | None:
        """(kind of blood specimen, its reference) when the result names a blood Specimen of the bundle."""
        ref = getattr(getattr(res, "specimen", None), "reference", None)
        specimen = self.resources.get(ref) if ref else None
        if specimen is None or specimen.get_resource_type() != "Specimen":
            return None
        hit = _lookup(specimen.type, fc.BLOOD_SPECIMENS)
        return (hit.meaning, str(ref)) if hit else None

    def _unread_specimen(self, ref: str, res: Any, codes: set[tuple[str, str]]) -> bool:
        """True (reported) for a RAS result naming a Specimen that is not in the bundle, whatever the reason.

        Why: without the Specimen a plasma (ctDNA) result cannot be told from a tissue result, and reading it
        as the tumour's is the favourable guess: a newer plasma 'RAS absent' then makes a tumour with a RAS
        mutation wild type, which opens anti-EGFR therapy. The service knows why it is missing (its
        `specimens` prefetch failed: `unread_specimens`); a bundle given to the CLI simply lacks it. A result
        naming no Specimen is read as the tumour's, as tissue results usually name none."""
        target = getattr(getattr(res, "specimen", None), "reference", None)
        found = self.resources.get(target) if target else None
        if not target or (found is not None and found.get_resource_type() == "Specimen"):
            return False
        ras = self._ras_result(res, codes)
        if ras is None:
            return False
        why = (
            "which is not a Specimen"
            if found is not None
            else f"which could not be read ({self.unread_specimens})"
            if self.unread_specimens is not None
            else "which is not in the bundle"
        )
        self.issue(
            ref,
            f"a {'/'.join(ras[0])} result on {target}, {why}",
            "its Specimen, to tell a liquid biopsy (plasma) from a result on the tumour: the result is not used, "
            "so the RAS status it would give is left unknown",
        )
        return True

    def _ras_result(self, res: Any, codes: set[tuple[str, str]]) -> RasResult | None:
        raise NotImplementedError  # `ObservationReader._ras_result`

    def _liquid(self, ref: str, res: Any, when: datetime | None, blood: tuple[str, str], ras: RasResult) -> None:
        kind, specimen = blood
        genes, value = ras
        taken = res.effectiveDateTime or res.effectiveInstant or (res.effectivePeriod and res.effectivePeriod.start)
        if when is not None and (day := _local_day(taken or res.issued)) is not None:
            when = _when(day)  # the day as written, as the case-date check reads it (not the next UTC day)
        named = "/".join(genes)
        if kind != PLASMA:
            self.issue(
                ref,
                f"a {named} result on a {kind} specimen ({specimen}, {_first_code(self.resources[specimen].type)})",
                "a tumour tissue result, or a liquid biopsy on plasma (v2-0487 PLAS, SNOMED 119361006): not used, "
                "as a whole-blood sample may be the normal (germline) sample of a tumour-normal test",
            )
        elif value == ONE_VARIANT_ABSENT:
            self.ignored[ref] = "absence of one named variant in a liquid biopsy does not establish RAS wild type"
        elif value not in ("positive", "negative"):
            shown = _first_code(res.valueCodeableConcept) if res.valueCodeableConcept else "no coded value"
            self.issue(ref, f"liquid biopsy {named} result {shown}", "a coded positive/negative result (not used)")
        elif when is None:
            self.issue(ref, f"an undated liquid biopsy {named} result", "the date the blood was taken (not used)")
        else:
            self.ignored.pop(specimen, None)  # listed as read through references: it was
            self.use(specimen, f"plasma specimen of {ref} (a liquid biopsy)")
            state = "mutant" if value == "positive" else "wild_type"
            for gene in genes:
                self.find(f"liquid_{gene.lower()}", state, when, ref, f"liquid biopsy {gene} {state} ({_day(when)})")


def liquid_ras(m: Reader) -> tuple[str, str, str] | None:
    """(liquid_ras, its date, the resources) from the most recent dated liquid biopsy, or None (unknown)."""
    found = [(fact, f) for fact in LIQUID_FACTS for f in m.findings.get(fact, []) if f.when is not None]
    if not found:
        return None
    day = max(f.when.date() for _, f in found if f.when is not None)
    _supersede(m, [f for _, f in found if f.when is not None and f.when.date() < day], day)
    latest = [(fact, f) for fact, f in found if f.when is not None and f.when.date() == day]
    refs = ", ".join(dict.fromkeys(f.ref for _, f in latest))
    states = {(fact, f.value) for fact, f in latest}
    if any(value == "mutant" for _, value in states):
        return "mutant", day.isoformat(), refs
    if {("liquid_kras", "wild_type"), ("liquid_nras", "wild_type")} <= states:
        return "wild_type", day.isoformat(), refs
    gene = "KRAS" if states == {("liquid_kras", "wild_type")} else "NRAS"
    m.issue(
        latest[0][1].ref,
        f"a liquid biopsy of {day.isoformat()} reporting {gene} wild type only",
        "KRAS and NRAS both reported (RAS wild type needs both): liquid RAS left unknown",
    )
    return None


def _supersede(m: Reader, older: list[_Finding], day: date) -> None:
    for f in older:
        m.used.pop(f.ref, None)
        m.ignored[f.ref] = f"superseded by the more recent liquid biopsy of {day.isoformat()}"
