"""HL7 CDS Hooks 2.0 request, response and feedback models (pydantic), with the spec's invariants.

There is no official JSON Schema for CDS Hooks, so these models encode the rules the reference validator
checks (FHIR/fhir-test-cases `validator/cdshooks`): bare FHIR ids for `patientId`/`encounterId`, `Type/id`
selections (ord-1), prefetch values that are FHIR resources (not the old `{response, resource}` wrapper),
draft-order bundle entries with a `fullUrl`, a card `source` with a `label`, and `selectionBehavior`
whenever suggestions are present (cds-resp-6). The FHIR resources rectoplan reads inside a request are
validated (within `shared_parses`, with the lean models of `rectoplan.adapters.fhir.lean`: the fields it
reads), so a malformed date or reference is a 400, never a 500 later on.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rectoplan.adapters.fhir_mcode import parse_resource
from rectoplan.service.prefetch import KEY_TYPES

FHIR_ID = r"^[A-Za-z0-9\-.]{1,64}$"
TYPE_ID = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
FhirId = Annotated[str, StringConstraints(pattern=FHIR_ID)]
USER_TYPES = ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson")


def check_resource(value: Any, where: str) -> dict[str, Any]:
    """A FHIR resource as JSON that the R4B models accept; raises ValueError naming the problem."""
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        keys = sorted(value)[:4] if isinstance(value, dict) else type(value).__name__
        raise ValueError(f"{where}: unable to find resourceType property (found {keys}); expected a FHIR resource")
    entries = value.get("entry") if value["resourceType"] == "Bundle" and value.get("type") == "searchset" else None
    if isinstance(entries, list):  # a search result: check each resource (the mapper reuses these parses)
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                check_resource(entry["resource"], f"{where}.entry[{i}].resource")
        return value
    try:
        parse_resource(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        at = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{where}.{at}: {err['msg']} (found {str(err.get('input'))[:40]!r})") from None
    except (ValueError, KeyError):
        raise ValueError(f"{where}: unknown FHIR R4 resourceType {value['resourceType']!r}") from None
    return value


def _prefetch_type(key: str, value: dict[str, Any]) -> None:
    """A prefetch value must hold what its template asks for: never silently use or drop another type.

    `patient` is a Patient; the other keys are search Bundles of their resource type (entries included by
    the search, `search.mode` include, and Medications beside medication orders are allowed); any key may
    be an OperationOutcome (a failed read, handled as unknown facts)."""
    expected = KEY_TYPES.get(key)
    kind = value.get("resourceType")
    if expected is None or kind == "OperationOutcome":
        return
    if key == "patient":
        if kind != "Patient":
            raise ValueError(f"prefetch.patient: found a {kind}; expected the Patient (template Patient/{{id}})")
        return
    if kind != "Bundle":
        raise ValueError(f"prefetch.{key}: found a {kind}; expected a search Bundle of {expected} resources")
    allowed = {expected, "OperationOutcome"} | ({"Medication"} if expected.startswith("Medication") else set())
    for i, entry in enumerate(value.get("entry") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        found = entry["resource"].get("resourceType")
        mode = (entry.get("search") or {}).get("mode") if isinstance(entry.get("search"), dict) else None
        if found not in allowed and mode != "include":
            raise ValueError(
                f"prefetch.{key}.entry[{i}]: found a {found} in the search for {expected}; expected {expected} "
                "resources only"
            )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FhirAuthorization(_Open):
    access_token: str = Field(min_length=1)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    patient: FhirId | None = None


class PatientViewContext(_Strict):
    userId: str
    patientId: str
    encounterId: str | None = None

    @field_validator("patientId", "encounterId")
    @classmethod
    def _bare_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not re.match(FHIR_ID, value):
            raise ValueError(
                f"{info.field_name} {value!r} is not a valid FHIR id: expected a bare id such as 'example' "
                f"(letters, digits, '-', '.'; at most 64), not a reference such as 'Patient/example'"
            )
        return value

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        if not TYPE_ID.match(value) or value.split("/")[0] not in USER_TYPES:
            raise ValueError(f"userId {value!r} must be a reference 'Type/id' with Type one of {', '.join(USER_TYPES)}")
        return value


def _draft_orders(value: dict[str, Any]) -> dict[str, Any]:
    """Check what rectoplan reads of the draft orders; tolerate the rest (real clients send invalid FHIR).

    The CDS Hooks sandbox sends a Bundle without `type`, entries without `fullUrl` and
    `MedicationRequest.category` as an object: none of that is read, so it is reported in the card's
    detail (`orders.draft_notes`), not refused. What is read must be well formed: a Bundle whose entries
    hold resources, and each drug order's medication concept (codings and text)."""
    if value.get("resourceType") != "Bundle":
        raise ValueError("draftOrders must be a FHIR Bundle")
    entries = value.get("entry", [])
    if not isinstance(entries, list):
        raise ValueError(f"draftOrders.entry: found {type(entries).__name__}; expected a list of entries")
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise ValueError(f"draftOrders.entry[{i}]: found no resource with a resourceType; expected a draft order")
        concept = resource.get("medicationCodeableConcept")
        if concept is None:
            continue
        where = f"draftOrders.entry[{i}].resource.medicationCodeableConcept"
        if not isinstance(concept, dict):
            raise ValueError(f"{where}: found {type(concept).__name__}; expected a CodeableConcept object")
        if not isinstance(concept.get("text", ""), str):
            raise ValueError(f"{where}.text: expected a string")
        codings = concept.get("coding", [])
        if not isinstance(codings, list):
            raise ValueError(f"{where}.coding: found {type(codings).__name__}; expected a list of codings")
        for j, coding in enumerate(codings):
            if not isinstance(coding, dict) or not all(
                isinstance(coding.get(k, ""), str) for k in ("system", "code", "display")
            ):
                raise ValueError(f"{where}.coding[{j}]: expected a Coding (system, code, display as strings)")
    return value


class OrderSignContext(PatientViewContext):
    draftOrders: dict[str, Any]

    @field_validator("draftOrders")
    @classmethod
    def _orders(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _draft_orders(value)


class OrderSelectContext(OrderSignContext):
    selections: list[str] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _selections(cls, value: list[str]) -> list[str]:
        for i, item in enumerate(value):
            if not TYPE_ID.match(item):
                raise ValueError(f"selections[{i}] {item!r}: ord-1, must be in the format {{type}}/{{id}}")
        return value


CONTEXTS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-select": OrderSelectContext,
    "order-sign": OrderSignContext,
}


class CdsRequest(_Strict):
    """A CDS Hooks 2.0 service call."""

    hook: str = Field(min_length=1, max_length=100)
    hookInstance: str = Field(min_length=1, max_length=100)
    fhirServer: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)] | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, dict[str, Any] | None] | None = None
    extension: dict[str, Any] | None = None

    @field_validator("context")
    @classmethod
    def _context(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = CONTEXTS.get(str(info.data.get("hook")))
        if model is not None:
            try:
                model.model_validate(value)
            except ValidationError as exc:
                parts = []
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"])
                    parts.append(f"context.{where}: {err['msg'].removeprefix('Value error, ')}")
                raise ValueError("; ".join(parts)) from None
        return value

    @field_validator("prefetch")
    @classmethod
    def _prefetch(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        problems = []
        for key, item in (value or {}).items():
            if item is not None:
                try:
                    check_resource(item, f"prefetch.{key}")
                    _prefetch_type(key, item)
                except ValueError as exc:
                    problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CdsRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is given")
        return self


# --- Responses ---------------------------------------------------------------------------------------
class Coding(_Open):
    code: str
    system: str | None = None
    display: str | None = None


class Source(_Open):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Open):
    type: Literal["create", "update", "delete"]
    description: str | None = None
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(_Open):
    label: str = Field(min_length=1)
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Link(_Open):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"] | None = None  # required by the spec, tolerated by the reference
    appContext: str | None = None


class Card(_Open):
    """A card as the reference validator accepts it (lenient on summary length and link type)."""

    uuid: str | None = None
    summary: str = Field(min_length=1)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _cds_resp_6(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("cds-resp-6: if suggestions are present, selectionBehavior must also be provided")
        return self


class OwnCard(Card):
    """A card as rectoplan sends it: the spec's stricter rules too (summary under 140, uuid for feedback)."""

    uuid: str = Field(min_length=1)
    summary: str = Field(min_length=1, max_length=139)
    detail: str = Field(min_length=1)


class CdsResponse(_Open):
    cards: list[Card]
    systemActions: list[Action] | None = None


class OwnResponse(CdsResponse):
    cards: list[OwnCard]  # type: ignore[assignment]


class Service(_Open):
    hook: str
    id: str
    title: str | None = None
    description: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Discovery(_Open):
    services: list[Service]


# --- Feedback ----------------------------------------------------------------------------------------------
class AcceptedSuggestion(_Open):
    id: str = Field(min_length=1)


class OverrideReason(_Open):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=2000)


class FeedbackItem(_Strict):
    card: str = Field(min_length=1, max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: datetime

    @model_validator(mode="after")
    def _accepted(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is 'accepted'")
        return self


class Feedback(_Strict):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class OperationOutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[OperationOutcomeIssue]


def outcome(code: str, messages: list[tuple[str, str]], severity: str = "error") -> dict[str, Any]:
    """An OperationOutcome body: (expression, diagnostics) pairs."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": code, "diagnostics": text} | ({"expression": [where]} if where else {})
            for where, text in messages
        ],
    }
