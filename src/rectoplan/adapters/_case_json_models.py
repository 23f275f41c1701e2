"""The case JSON's input models: the shapes and vocabularies pydantic checks, field by field.

Split from `rectoplan.adapters.case_json` (which re-exports these names): the models are the contract's
shape (and its JSON schema, read by the service and the clinician page), built mostly from the field
table; validating values against them and reading them into a `Case` are other modules' jobs. A new
list-shaped part of the case starts here; a new scalar field needs only its entry in `core/fields.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rectoplan.adapters.case_v2 import CourseIn, PreferencesIn, section_model

MAX_TEXT = 200

# No control characters: an id is echoed into terminals, logs and reports (an escape sequence could
# rewrite a clinician's screen).
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"^[^\x00-\x1f\x7f]*$")]
Resectability = Literal["resectable", "potentially_resectable", "unresectable", "unknown"]
Symptom = Literal["obstruction", "bleeding", "pain"]
Site = Literal["liver", "lung", "peritoneum", "distant_lymph_nodes", "bone", "brain", "other"]
DateText = Annotated[str, StringConstraints(max_length=10)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LocalRecurrenceIn(_Model):
    resectability: Resectability | None = None
    symptoms: list[Symptom] | None = Field(default=None, max_length=3)


class MetastasisIn(_Model):
    site: Site
    count: Annotated[int, Field(ge=1, le=1000)] | None = None
    resectability: Resectability | None = None
    largest_mm: Annotated[int, Field(ge=1, le=300)] | None = None


class SystemicLineIn(_Model):
    agents: list[Text] = Field(min_length=1, max_length=10)
    stopped_for: Literal["progression", "intolerance", "completed", "ongoing"] | None = None
    # The drugs the cancer grew on, when not all of the line's (progression during maintenance).
    progressed_on: list[Text] | None = Field(default=None, min_length=1, max_length=10)


# The objects of the case: the scalar fields come from the field table (`rectoplan.core.fields`), in its
# order; what the table does not hold is placed after the table field named (the JSON schema's order).
PrimaryIn = section_model(
    "PrimaryIn",
    "primary",
    {"primary.status": {"symptoms": (list[Symptom] | None, Field(default=None, max_length=3))}},
)
BiomarkersIn = section_model(
    "BiomarkersIn",
    "biomarkers",
    {
        "biomarkers.kras": {
            "kras_variant": (Annotated[str, StringConstraints(min_length=1, max_length=40)] | None, None)
        }
    },
    liquid_ras_date=(DateText | None, None),
)
PriorIn = section_model(
    "PriorIn",
    "prior",
    {
        "prior.pelvic_radiation": {
            "systemic_lines": (list[SystemicLineIn] | None, Field(default=None, max_length=20)),
            "courses": (list[CourseIn] | None, Field(default=None, max_length=30)),
            "surgeries": (list[Text] | None, Field(default=None, max_length=20)),
        }
    },
)
HealthIn = section_model("HealthIn", "health")
CaseIn = section_model(
    "CaseIn",
    "",
    {
        "": {
            "format": (Literal["rectoplan.case/1", "rectoplan.case/2"] | None, None),
            "id": (Text, ...),
            "as_of": (DateText | None, None),
            "advanced_disease_date": (DateText | None, None),
            "advanced_disease_months_ago": (Annotated[int, Field(ge=0, le=600)] | None, None),
        },
        "ecog": {
            "primary": (PrimaryIn | None, None),
            "local_recurrence": (LocalRecurrenceIn | None, None),
            "metastases": (list[MetastasisIn] | None, Field(default=None, max_length=7)),
            "biomarkers": (BiomarkersIn | None, None),
            "prior": (PriorIn | None, None),
            "health": (HealthIn | None, None),
        },
        "wants_clinical_trials": {"preferences": (PreferencesIn | None, None)},
    },
)
