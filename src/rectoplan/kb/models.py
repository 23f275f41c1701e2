"""The YAML shapes of the knowledge files, checked by pydantic (unknown keys are errors).

Kept apart from the loader, which turns them into the engine's immutable data: a reviewer reading what a
knowledge file may contain reads this module only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rectoplan.kb.sources import Cite


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestIn(_Model):
    version: str
    date: str
    title: str
    disclaimer: str


class DrugIn(_Model):
    id: str
    display: str
    classes: list[str] = Field(default_factory=list)
    resistance_class: str | None = None
    cite: Cite


class TermIn(_Model):
    id: str
    display: str
    cite: Cite


class VocabularyIn(_Model):
    drug_classes: list[str]
    drugs: list[DrugIn]
    procedures: list[TermIn]
    tests: list[TermIn]
    tags: list[TermIn]


class GlossaryIn(_Model):
    term: str
    forms: list[str] = Field(default_factory=list)
    definition: str
    cite: Cite


class IntentIn(_Model):
    id: str
    intent: Literal["curative", "conversion", "palliative"]
    when: Any
    because: str
    patient: str
    cite: Cite


class GateIn(_Model):
    id: str
    effect: Literal["requires", "excludes"]
    applies_to: Any = True
    when: Any
    reason: str
    unknown: str = ""
    on_unknown: Literal["hold", "warn", "ignore"] = "hold"
    test: str | None = None
    cite: Cite


class CautionIn(_Model):
    id: str
    applies_to: Any = None  # None: a warning on the whole recommendation
    when: Any
    text: str
    unknown: str = ""
    severity: Literal["warning", "note"] = "warning"
    patient: str = ""  # the warning in plain words, for the patient's handout (empty: a generic safety note)
    # A short reason: while `when` holds, the option is also ranked one strength level lower (the loader puts
    # a lowered copy of each of the option's rows ahead of it). Empty: the warning does not change the rank.
    lowers: str = ""
    # For a case-level warning about the running line: the plan's first sentence in its place ("Continue the
    # ongoing line without oxaliplatin ..."). Empty: the usual "Continue the ongoing line while it works".
    continuation: str = ""
    cite: Cite


class EvidenceIn(_Model):
    id: str
    label: str
    description: str


class TestRuleIn(_Model):
    id: str
    test: str
    when: Any
    why: str
    cite: Cite


class SettingIn(_Model):
    id: str | None = None
    when: Any
    phase: Literal["neoadjuvant", "adjuvant", "perioperative", "first_line", "second_line", "later_line", "any"]
    strength: Literal["preferred", "alternative", "consider"]
    priority: int = 50
    intent: Literal["curative", "conversion", "palliative"] | None = None
    because: str
    evidence: str | None = None  # overrides the option's level for this row
    regulatory: str | None = None
    cite: Cite


class OptionIn(_Model):
    id: str
    title: str
    kind: Literal["systemic", "chemoradiation", "surgery", "local_therapy", "radiation", "supportive", "clinical_trial"]
    components: list[str] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    patient: str
    details: str = ""
    evidence: str | None = None  # an id of evidence.yaml; every offered row must resolve to one
    regulatory: str | None = None  # e.g. "FDA-approved for this indication (2020)"; None: not stated
    cite: Cite
    requires: list[GateIn] = Field(default_factory=list)
    settings: list[SettingIn] = Field(min_length=1)
