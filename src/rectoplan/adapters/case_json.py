"""The case JSON (`rectoplan.case/2`, which reads every `rectoplan.case/1` case) at the edge: pydantic
validation with precise, field-level errors.

Pydantic checks shapes and enumerations; the cross-field checks catch contradictions (a wild-type KRAS
with a KRAS variant, a local recurrence with the primary still in place) that no schema can express.
The result is a frozen `Case`, so the engine never sees unvalidated data.

This module is the edge's public face (`parse_case`, `CaseIn`, `CASE_FORMAT`); each step of reading a
case is a private module beside it, so that each is read and changed alone:
- `_case_json_models`: the input models (a new list-shaped part of the case starts here; a scalar field
  needs only its entry in `core/fields.py`);
- `_case_json_problems`: pydantic's errors worded as problems, with 'did you mean';
- `_case_json_checks`: the cross-field contradictions and the vocabulary checks;
- `_case_json_derive`: what contract 2 derives (lines from courses, lab notations, dates, preferences);
- `_case_json_build`: the `Case` itself.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import ValidationError

from rectoplan.adapters._case_json_build import _to_case
from rectoplan.adapters._case_json_checks import _contradictions
from rectoplan.adapters._case_json_derive import _contract2
from rectoplan.adapters._case_json_models import (
    MAX_TEXT,
    BiomarkersIn,
    CaseIn,
    DateText,
    HealthIn,
    LocalRecurrenceIn,
    MetastasisIn,
    PrimaryIn,
    PriorIn,
    Resectability,
    Site,
    Symptom,
    SystemicLineIn,
    Text,
)
from rectoplan.adapters._case_json_problems import _found, _problems_from
from rectoplan.adapters.json_text import decode_json, decode_with_unique_keys, duplicate_key
from rectoplan.core.case import Case
from rectoplan.core.errors import CaseError, Problem

# Re-exported: the JSON text functions (json_text) for the adapters, service and cohort; the input models and
# their types (_case_json_models), importable from here as before the split.
__all__ = [
    "CASE_FORMAT",
    "MAX_TEXT",
    "BiomarkersIn",
    "CaseIn",
    "DateText",
    "HealthIn",
    "LocalRecurrenceIn",
    "MetastasisIn",
    "PrimaryIn",
    "PriorIn",
    "Resectability",
    "Site",
    "Symptom",
    "SystemicLineIn",
    "Text",
    "decode_json",
    "decode_with_unique_keys",
    "duplicate_key",
    "parse_case",
]

CASE_FORMAT = "rectoplan.case/2"


def parse_case(data: object, drugs: Collection[str], procedures: Collection[str]) -> Case:
    """Validate a decoded JSON object as a case (contract 2, or contract 1 read as 2); raise `CaseError`
    listing every problem found."""
    if not isinstance(data, dict):
        raise CaseError([Problem("", _found(data)[:40], "a JSON object (a rectoplan.case/2 case)")])
    try:
        model = CaseIn.model_validate(data)
    except ValidationError as exc:
        raise CaseError(_problems_from(exc)) from None
    problems = _contradictions(model, drugs, procedures)
    derived, more = _contract2(model, drugs)
    problems += more
    if problems:
        raise CaseError(problems)
    return _to_case(model, derived)
