"""Observations: ECOG, TNM stage group, tumour markers and genomic variants, and their conflicts.

Laboratory values (TMB, bilirubin, creatinine clearance, HER2 methods) are read in `labs`, tumour response
assessments in `response`.

Results become findings (value, date, resource); `resolve` turns each fact's findings into one value, so
disagreeing results are reported rather than picked silently (the newest wins only when every one is
dated). A negative single-variant result never establishes wild type, and HGVS protein changes are read
from codes, never from display text. A result dated (taken, or issued) after the case date is reported and
not used, as a treatment course dated after it is: what it says stays unknown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rectoplan.adapters import fhir_codes as fc
from rectoplan.adapters.fhir.labs import LabReader
from rectoplan.adapters.fhir.liquid import ONE_VARIANT_ABSENT, LiquidReader, RasResult
from rectoplan.adapters.fhir.parse import OBSERVATION_CODES
from rectoplan.adapters.fhir.response import ResponseReader
from rectoplan.adapters.fhir.values import _codings, _day, _first_code, _lookup, _when

_AA = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Ter": "*",
}
# The observations whose results are read (all but the history-of-metastasis ones, ignored whatever their date).
_HISTORY = (fc.HISTORY_OF_METASTASIS, fc.HISTORY_OF_LIVER_METASTASIS)
_DATED_CODES = OBSERVATION_CODES - {(c.system, c.code) for c in _HISTORY}
_RAS_TESTS = {"kras": ("KRAS",), "nras": ("NRAS",), "kras+nras": ("KRAS", "NRAS")}
_P_HGVS = re.compile(r"p\.\(?([A-Z][a-z]{2}|[A-Z])(\d+)([A-Z][a-z]{2}|[A-Z]|\*)\)?$")


def _hgvs_protein(text: str) -> str | None:
    """'NP_004976.2:p.Gly12Cys', 'p.(G12C)' -> 'G12C'; None when not a simple substitution."""
    match = _P_HGVS.search(text.strip().split(":")[-1])
    if not match:
        return None
    ref, pos, alt = match.groups()
    one = [_AA.get(a, a) if len(a) == 3 else a for a in (ref, alt)]
    return f"{one[0]}{pos}{one[1]}" if all(len(a) == 1 for a in one) else None


class ObservationReader(LabReader, ResponseReader, LiquidReader):
    """Reads Observation resources (dispatched to by `Reader.visit`) and resolves their findings."""

    def _observation(self, ref: str, res: Any) -> None:
        if res.status not in ("final", "amended", "corrected"):
            self.ignored[ref] = f"observation status {res.status!r} (only final, amended or corrected results count)"
            return
        when = _when(
            res.effectiveDateTime
            or res.effectiveInstant
            or (res.effectivePeriod and res.effectivePeriod.start)
            or res.issued
        )
        codes = {(c.system or "", c.code or "") for c in _codings(res.code)}
        if codes & _DATED_CODES and self._after_case_date(ref, res):
            return
        if (blood := self._blood(res)) is not None and (ras := self._ras_result(res, codes)) is not None:
            self._liquid(ref, res, when, blood, ras)  # a liquid biopsy is not the tumour's RAS status
            return
        if self._unread_specimen(ref, res, codes):
            return
        if (fc.ECOG_CODE.system, fc.ECOG_CODE.code) in codes:
            self._ecog(ref, res, when)
        elif (fc.GENOMIC_VARIANT.system, fc.GENOMIC_VARIANT.code) in codes:
            self._variant(ref, res, when)
        elif (stage := _lookup(res.code, fc.STAGE_GROUP_CODES)) is not None:
            value = _lookup(res.valueCodeableConcept, fc.STAGE_VALUES)
            if value is None:
                self.issue(
                    ref,
                    f"TNM {stage.meaning} stage group {_first_code(res.valueCodeableConcept)}",
                    "a stage value in rectoplan's terminology table (stage not read)",
                )
                return
            if value.meaning == "IV":
                self.stage_iv.append(ref)
                if when is not None:
                    self.stage_iv_dates.append((when, ref))
            self.use(ref, f"TNM {stage.meaning} stage group {value.meaning} ({_day(when)}): context only")
        elif (test := _lookup(res.code, fc.MARKER_TESTS)) is not None:
            if test.meaning == "her2" and self._her2_method(ref, res, when, codes):
                return
            self._marker(ref, res, when, test.meaning)
        elif (fc.TMB_CODE.system, fc.TMB_CODE.code) in codes:
            self._tmb(ref, res, when)
        elif (fc.BILIRUBIN_TOTAL.system, fc.BILIRUBIN_TOTAL.code) in codes:
            self._bilirubin(ref, res, when)
        elif (crcl := _lookup(res.code, fc.CREATININE_CLEARANCE_TESTS)) is not None:
            self._creatinine_clearance(ref, res, when, crcl)
        elif (egfr := _lookup(res.code, fc.EGFR_TESTS)) is not None:
            self._egfr(ref, egfr)
        elif _lookup(res.code, fc.DISEASE_STATUS_CODES) is not None:
            self._disease_status(ref, res)
        elif codes & {
            (fc.SNOMED, fc.HISTORY_OF_METASTASIS.code),
            (fc.SNOMED, fc.HISTORY_OF_LIVER_METASTASIS.code),
        }:
            self.ignored[ref] = (
                "history of metastatic cancer: past disease, not a current metastasis "
                "(current sites come from secondary cancer conditions)"
            )
        else:
            self.ignored[ref] = f"observation {_first_code(res.code)} is not read by rectoplan"

    def _after_case_date(self, ref: str, res: Any) -> bool:
        """Report a result dated after the case date and leave what it says unknown (True), as a condition,
        a procedure or a treatment dated after it is (`Reader.after_case_date`): a result taken or issued
        later was not known on the case date."""
        period = res.effectivePeriod
        dates = (
            ("effectiveDateTime", res.effectiveDateTime),
            ("effectiveInstant", res.effectiveInstant),
            ("effectivePeriod.start", period and period.start),
            ("effectivePeriod.end", period and period.end),
            ("issued", res.issued),
        )
        return self.after_case_date(ref, f"observation {_first_code(res.code)}", dates, "result")

    def _ecog(self, ref: str, res: Any, when: datetime | None) -> None:
        score = res.valueInteger
        if score is None:
            answer = _lookup(res.valueCodeableConcept, fc.ECOG_ANSWERS) or next(
                (
                    fc.ECOG_ANSWERS[k]
                    for i in res.interpretation or []
                    for c in _codings(i)
                    if (k := (c.system or "", c.code or "")) in fc.ECOG_ANSWERS
                ),
                None,
            )
            score = int(answer.meaning) if answer else None
        if score is None or not 0 <= score <= 4:
            self.issue(ref, f"ECOG value {score if score is not None else 'missing'}", "an ECOG score 0-4")
            return
        self.find("ecog", score, when, ref, f"ECOG {score} ({_day(when)})")

    def _value(self, res: Any) -> str | None:
        hit = _lookup(res.valueCodeableConcept, fc.RESULT_ANSWERS)
        if hit is None and res.valueCodeableConcept is None:
            hit = next(
                (
                    fc.RESULT_ANSWERS[k]
                    for i in res.interpretation or []
                    for c in _codings(i)
                    if (k := (c.system or "", c.code or "")) in fc.RESULT_ANSWERS
                ),
                None,
            )
        return str(hit.meaning) if hit else None

    def _protein_change(self, res: Any) -> str | None:
        for comp in res.component or []:
            if any(c.code == fc.AMINO_ACID_CHANGE.code for c in _codings(comp.code)):
                texts = [c.code or c.display or "" for c in _codings(comp.valueCodeableConcept)]
                texts += [comp.valueString or "", getattr(comp.valueCodeableConcept, "text", None) or ""]
                for text in texts:
                    if text and (change := _hgvs_protein(text)):
                        return change
        return _hgvs_protein(res.valueString) if res.valueString else None

    def _marker(self, ref: str, res: Any, when: datetime | None, test: str) -> None:
        value = self._value(res)
        change = self._protein_change(res)
        if value is None and change is not None and test == "kras":
            value = "positive"
        label = f"{test.upper()} {value} ({_day(when)})"
        if value is None or value == "indeterminate":
            shown = _first_code(res.valueCodeableConcept) if res.valueCodeableConcept else repr(res.valueString)
            self.issue(ref, f"{test.upper()} result {shown}", "a coded positive/negative (or MSI) result")
        elif test == "kras":
            self.find("kras", "mutant" if value == "positive" else "wild_type", when, ref, label)
            if value == "positive" and change:
                self.find("kras_variant", change, when, ref, f"KRAS variant {change}")
        elif test == "kras+nras":
            if value == "negative":
                self.find("kras", "wild_type", when, ref, label)
                self.find("nras", "wild_type", when, ref, label)
            else:
                self.issue(ref, "a positive combined KRAS+NRAS result", "the mutated gene (KRAS or NRAS) named")
        elif test == "nras":
            self.find("nras", "mutant" if value == "positive" else "wild_type", when, ref, label)
        elif test == "braf_v600e":
            self.find(
                "braf",
                "v600e" if value == "positive" else "wild_type",
                when,
                ref,
                label + (": V600E-specific test, other BRAF variants not excluded" if value == "negative" else ""),
            )
        elif test == "msi":
            high = value in ("msi_high", "positive")
            self.find(
                "mmr",
                "dmmr_msi_h" if high else "pmmr_mss",
                when,
                ref,
                f"MSI {'high' if high else 'stable'} ({_day(when)})",
            )
        elif test in ("her2", "ntrk"):
            fact = "her2" if test == "her2" else "ntrk_fusion"
            if value in ("positive", "negative"):
                self.find(fact, value, when, ref, label)
            else:
                self.issue(ref, f"{test.upper()} result {value}", "positive or negative")

    @staticmethod
    def _studied(res: Any) -> tuple[list[str], list[str]]:
        """(HGNC ids of the genes studied, the names of those rectoplan reads) of a genomic variant result."""
        studied = [
            c.code
            for comp in res.component or []
            if any(k.code == fc.GENE_STUDIED.code for k in _codings(comp.code))
            for c in _codings(comp.valueCodeableConcept)
            if (c.system or "") in fc.HGNC_SYSTEMS
        ]
        return studied, [fc.GENES[c].meaning for c in studied if c in fc.GENES]

    def _ras_result(self, res: Any, codes: set[tuple[str, str]]) -> RasResult | None:
        """The RAS genes and the coded result of a KRAS/NRAS test or variant, or None for any other result."""
        test = _lookup(res.code, fc.MARKER_TESTS)
        if test is not None and test.meaning in _RAS_TESTS:
            value = self._value(res)
            if value is None and test.meaning == "kras" and self._protein_change(res):
                value = "positive"
            return _RAS_TESTS[test.meaning], value
        if (fc.GENOMIC_VARIANT.system, fc.GENOMIC_VARIANT.code) not in codes:
            return None
        studied, genes = self._studied(res)
        ras = tuple(g for g in genes if g in ("KRAS", "NRAS"))
        if not ras:
            return None
        value = self._value(res)
        if value == "negative" and self._protein_change(res):
            return ras, ONE_VARIANT_ABSENT
        return ras, None if value == "positive" and len(studied) >= 2 else value

    def _variant(self, ref: str, res: Any, when: datetime | None) -> None:
        studied, genes = self._studied(res)
        value, change = self._value(res), self._protein_change(res)
        if not genes:
            self.ignored[ref] = "genomic variant in genes rectoplan does not read"
            return
        if value not in ("positive", "negative"):
            self.issue(
                ref,
                f"variant result {_first_code(res.valueCodeableConcept)} for {'/'.join(genes)}",
                "Present (LA9633-4) or Absent (LA9634-2)",
            )
            return
        label = f"{'/'.join(genes)} variant {'present' if value == 'positive' else 'absent'} ({_day(when)})"
        if value == "negative":
            readable = [g for g in genes if g in ("KRAS", "NRAS", "BRAF")]
            if change or not readable:
                self.ignored[ref] = (
                    "absence of one named variant (or of variants in NTRK/RET/ERBB2) does not "
                    "establish wild type or fusion-negative status"
                )
                return
            for gene in readable:
                self.find(gene.lower(), "wild_type", when, ref, label)
        elif len(studied) >= 2:  # a fusion names two genes
            fusions = {"ntrk_fusion" for g in genes if g.startswith("NTRK")} | {
                "ret_fusion" for g in genes if g == "RET"
            }
            for fact in sorted(fusions):
                self.find(fact, "positive", when, ref, f"{'/'.join(genes)} fusion ({_day(when)})")
            if not fusions:
                self.issue(
                    ref,
                    f"a variant involving {', '.join(genes)}",
                    "a single-gene result or an NTRK/RET fusion",
                )
        else:
            gene = genes[0]
            if gene in ("KRAS", "NRAS"):
                self.find(gene.lower(), "mutant", when, ref, label + (f" {change}" if change else ""))
                if gene == "KRAS" and change:
                    self.find("kras_variant", change, when, ref, f"KRAS variant {change}")
            elif gene == "BRAF" and change:
                self.find("braf", "v600e" if change == "V600E" else "other_mutation", when, ref, f"BRAF {change}")
            else:
                why = {
                    "BRAF": "the BRAF protein change (V600E or another variant)",
                    "ERBB2": "a HER2 IHC/ISH result (an ERBB2 sequence variant is not HER2 positivity)",
                }
                self.issue(
                    ref,
                    f"a {gene} variant without the detail rectoplan needs",
                    why.get(gene, "a fusion partner (a single-gene NTRK/RET variant is not a fusion)"),
                )

    # -- resolution ----------------------------------------------------------------------------------------
    def resolve_readable(self, fact: str) -> tuple[Any, str] | None:
        """`resolve(fact, changing=True)` over the results that could be read, unless one that could not be
        read (a None finding: no value, no reference limit in its unit) is not known to be older than the
        newest readable one: then the fact is unknown, and the readable results are not used.

        Why: an older normal result standing in for a newer one that could not be read would be the
        favourable guess (the newer one may be raised); an unread result known to be older changes nothing."""
        found = self.findings.get(fact, [])
        readable = [f for f in found if f.value is not None]
        if not readable:
            return None
        newest = max(readable, key=lambda f: f.when or datetime.min.replace(tzinfo=UTC))
        blocking = [
            f for f in found if f.value is None and not (f.when and newest.when and f.when.date() < newest.when.date())
        ]
        if blocking:
            unread = blocking[0]
            for f in readable:
                self.used.pop(f.ref, None)
                self.ignored[f.ref] = (
                    f"not used for {fact}: the result in {unread.ref} ({_day(unread.when)}), not known to be older, "
                    f"could not be read, so {fact} is left unknown"
                )
            return None
        self.findings[fact] = readable
        return self.resolve(fact, changing=True)

    def resolve(self, fact: str, changing: bool = False) -> tuple[Any, str] | None:
        """One value per fact. Disagreeing results: the newest wins only when every one is dated."""
        found = self.findings.get(fact)
        if not found:
            return None
        newest = max(found, key=lambda f: f.when or datetime.min.replace(tzinfo=UTC))
        values = {f.value for f in found}
        if len(values) == 1:
            return newest.value, ", ".join(dict.fromkeys(f.ref for f in found))
        dated = all(f.when for f in found) and sum(f.when == newest.when for f in found) == 1
        for f in found:
            if f.value == newest.value and dated:
                continue
            if changing and dated:
                self.used.pop(f.ref, None)
                self.ignored[f.ref] = f"superseded by the newer {fact} result in {newest.ref} ({_day(newest.when)})"
                continue
            others = ", ".join(f"{o.ref}: {o.value} ({_day(o.when)})" for o in found if o.value != f.value)
            outcome = (
                f"the newest dated result {newest.ref} is used"
                if dated
                else f"the results are not all dated, so {fact} is left unknown"
            )
            self.issue(
                f.ref,
                f"{fact} {f.value} ({_day(f.when)}), conflicting with {others}",
                f"agreeing results; {outcome}",
            )
        return (newest.value, newest.ref) if dated else None
