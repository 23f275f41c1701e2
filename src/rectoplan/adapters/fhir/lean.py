"""Lean FHIR R4 models for the service's hot path: only the resources and the fields rectoplan reads.

Why: validating a chart with the full `fhir.resources` models cost the CDS Hooks service 2-5 ms of CPU per
hook call with a new chart (every element of every resource built as a model, extensions and all), most of
its work. A hook call needs far less: the readers (`conditions`, `observations`, `treatments`, `bundle`)
touch a few dozen fields. These models validate exactly those fields, with FHIR's own rules for their
primitive types (code, uri, date, dateTime, instant, integer, boolean), the choice-type rule (at most one
`value[x]`, `effective[x]`, ... in the raw JSON, whichever ones rectoplan reads) and the cardinality of
the required elements rectoplan reads. Everything else in a resource is tolerated and not built.

They give the readers the same Python values the full models do (a `date` for a full date, an aware
`datetime` for a dateTime with a time, the text for a partial date), so a chart maps to the same case
either way (`tests/test_fhir_lean.py` compares both on every fixture). The full models stay in use where
speed does not matter: the CLI, the cohort's bulk reader, and the FHIR fixtures' tests.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_DATE_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?")
_DATETIME_RE = re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME})?)?)?")
_INSTANT_RE = re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}")
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _moment(text: str) -> datetime:
    # Python 3.11 reads 'Z' and offsets; FHIR allows more than 6 fractional digits, Python does not.
    value = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    if value.second == 60:  # a leap second is allowed by FHIR's pattern but not by datetime
        raise ValueError("a leap second (:60) cannot be read")
    return value


def _fhir_date(text: str) -> date | str:
    if not _DATE_RE.fullmatch(text):
        raise ValueError("Date value string does not match spec regex.")
    return date.fromisoformat(text) if len(text) == 10 else text


def _fhir_datetime(text: str) -> datetime | date | str:
    if not _DATETIME_RE.fullmatch(text):
        raise ValueError("DateTime value string does not match spec regex.")
    if "T" in text:
        return _moment(text)
    return date.fromisoformat(text) if len(text) == 10 else text


def _fhir_instant(text: str) -> datetime:
    if not _INSTANT_RE.fullmatch(text):
        raise ValueError("Instant value string does not match spec regex.")
    return _moment(text)


# FHIR primitives as JSON gives them (strict: a number is not a string, "3" is not an integer).
Code = Annotated[str, StringConstraints(strict=True, pattern=r"^[^\s]+(\s[^\s]+)*$")]
Uri = Annotated[str, StringConstraints(strict=True, pattern=r"^\S*$", min_length=1)]
String = Annotated[str, StringConstraints(strict=True, min_length=1)]
Id = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
FhirDate = Annotated[str, StringConstraints(strict=True), AfterValidator(_fhir_date)]
FhirDateTime = Annotated[str, StringConstraints(strict=True), AfterValidator(_fhir_datetime)]
FhirInstant = Annotated[str, StringConstraints(strict=True), AfterValidator(_fhir_instant)]
Integer = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]
Boolean = Annotated[bool, Field(strict=True)]


class _Element(BaseModel):
    """A FHIR element: fields rectoplan does not read are ignored (neither checked nor built)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Coding(_Element):
    system: Uri | None = None
    code: Code | None = None
    display: String | None = None


class CodeableConcept(_Element):
    coding: list[Coding] | None = None
    text: String | None = None


class Reference(_Element):
    reference: String | None = None


class Period(_Element):
    start: FhirDateTime | None = None
    end: FhirDateTime | None = None


Decimal = Annotated[int, Field(strict=True)] | Annotated[float, Field(strict=True, allow_inf_nan=False)]


class Quantity(_Element):
    value: Decimal | None = None
    comparator: Literal["<", "<=", ">=", ">", "ad"] | None = None  # FHIR R4 QuantityComparator
    unit: String | None = None
    system: Uri | None = None
    code: Code | None = None


class Range(_Element):
    low: Quantity | None = None
    high: Quantity | None = None


class ReferenceRange(_Element):
    low: Quantity | None = None
    high: Quantity | None = None


class Repeat(_Element):
    boundsPeriod: Period | None = None


class Timing(_Element):
    repeat: Repeat | None = None


class Dosage(_Element):
    timing: Timing | None = None


class Meta(_Element):
    profile: list[Uri] | None = None


class _InnerExtension(_Element):
    url: Uri
    valueReference: Reference | None = None
    valueCodeableConcept: CodeableConcept | None = None


class Extension(_InnerExtension):
    """Two levels, as rectoplan reads them (a radiotherapy course's treatment volume): not recursive, as
    a recursive schema makes pydantic guard every nested model against cycles (several times slower)."""

    extension: list[_InnerExtension] | None = None


class ObservationComponent(_Element):
    code: CodeableConcept
    valueCodeableConcept: CodeableConcept | None = None
    valueString: String | None = None


# Choice elements ([x]) of each resource type: FHIR allows one of each in a resource, whatever its type.
_CHOICES: dict[str, tuple[str, ...]] = {
    "Patient": ("deceased", "multipleBirth"),
    "Condition": ("onset", "abatement"),
    "Observation": ("effective", "value"),
    "MedicationRequest": ("reported", "medication"),
    "MedicationAdministration": ("medication", "effective"),
    "MedicationStatement": ("medication", "effective"),
    "Procedure": ("performed",),
}
_TYPE_SUFFIX = re.compile(r"[A-Z][A-Za-z]*$")


class Resource(_Element):
    """The fields of a resource every reader may touch, and the resource-level rules."""

    resourceType: str
    id: Id | None = None
    meta: Meta | None = None
    extension: list[Extension] | None = None

    def get_resource_type(self) -> str:
        return self.resourceType

    @model_validator(mode="before")
    @classmethod
    def _one_choice(cls, data: Any) -> Any:
        """At most one value per choice element (e.g. valueInteger and valueQuantity together is invalid)."""
        stems = _CHOICES.get(data.get("resourceType")) if isinstance(data, dict) else None  # type: ignore[arg-type]
        if stems:
            given = [k for k in data if k.startswith(stems)]  # one pass over the keys: most match no stem
            for stem in stems if len(given) > 1 else ():
                same = [k for k in given if k.startswith(stem)]
                if len(same) > 1:  # the type-suffix check only where two keys share a stem (rare)
                    same = [k for k in same if _TYPE_SUFFIX.fullmatch(k[len(stem) :])]
                    if len(same) > 1:
                        raise ValueError(f"{stem}[x]: only one of {', '.join(sorted(same))} may be given")
        return data


class Patient(Resource):
    birthDate: FhirDate | None = None
    deceasedBoolean: Boolean | None = None
    deceasedDateTime: FhirDateTime | None = None


class Condition(Resource):
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    code: CodeableConcept | None = None
    subject: Reference
    onsetDateTime: FhirDateTime | None = None
    onsetPeriod: Period | None = None
    onsetAge: Quantity | None = None
    onsetRange: Range | None = None
    onsetString: String | None = None
    recordedDate: FhirDateTime | None = None
    abatementDateTime: FhirDateTime | None = None
    abatementPeriod: Period | None = None
    abatementAge: Quantity | None = None
    abatementRange: Range | None = None
    abatementString: String | None = None


class Observation(Resource):
    status: Code
    code: CodeableConcept
    subject: Reference | None = None
    effectiveDateTime: FhirDateTime | None = None
    effectiveInstant: FhirInstant | None = None
    effectivePeriod: Period | None = None
    issued: FhirInstant | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueInteger: Integer | None = None
    valueString: String | None = None
    valueQuantity: Quantity | None = None
    referenceRange: list[ReferenceRange] | None = None
    interpretation: list[CodeableConcept] | None = None
    component: list[ObservationComponent] | None = None
    focus: list[Reference] | None = None
    specimen: Reference | None = None
    partOf: list[Reference] | None = None
    basedOn: list[Reference] | None = None


class _Medication(Resource):
    status: Code
    subject: Reference
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    reasonReference: list[Reference] | None = None
    reasonCode: list[CodeableConcept] | None = None

    @model_validator(mode="after")
    def _medication_given(self) -> _Medication:
        if self.medicationCodeableConcept is None and self.medicationReference is None:
            raise ValueError("medication[x]: one of medicationCodeableConcept or medicationReference is required")
        return self


class MedicationRequest(_Medication):
    statusReason: CodeableConcept | None = None
    authoredOn: FhirDateTime | None = None
    category: list[CodeableConcept] | None = None
    dosageInstruction: list[Dosage] | None = None


class MedicationAdministration(_Medication):
    statusReason: list[CodeableConcept] | None = None
    category: CodeableConcept | None = None
    effectiveDateTime: FhirDateTime | None = None
    effectivePeriod: Period | None = None

    @model_validator(mode="after")
    def _effective_given(self) -> MedicationAdministration:
        if self.effectiveDateTime is None and self.effectivePeriod is None:
            raise ValueError("effective[x]: one of effectiveDateTime or effectivePeriod is required")
        return self


class MedicationStatement(_Medication):
    statusReason: list[CodeableConcept] | None = None
    category: CodeableConcept | None = None
    effectiveDateTime: FhirDateTime | None = None
    effectivePeriod: Period | None = None
    dateAsserted: FhirDateTime | None = None


class Procedure(Resource):
    status: Code
    subject: Reference
    code: CodeableConcept | None = None
    performedDateTime: FhirDateTime | None = None
    performedPeriod: Period | None = None
    performedAge: Quantity | None = None
    performedRange: Range | None = None
    performedString: String | None = None
    bodySite: list[CodeableConcept] | None = None
    reasonReference: list[Reference] | None = None


class Medication(Resource):
    code: CodeableConcept | None = None


class Specimen(Resource):
    type: CodeableConcept | None = None
    subject: Reference | None = None


class BodyStructure(Resource):
    location: CodeableConcept | None = None
    patient: Reference


MODELS: dict[str, type[Resource]] = {
    model.__name__: model
    for model in (
        Patient,
        Condition,
        Observation,
        MedicationRequest,
        MedicationAdministration,
        MedicationStatement,
        Procedure,
        Medication,
        BodyStructure,
        Specimen,
    )
}
