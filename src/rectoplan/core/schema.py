"""The fact schema: every name a rule may read, with its type and domain.

Rules are type-checked against this schema before they run (unknown facts, values outside a domain,
a comparison on a set are load-time errors with suggestions). The same schema gives the cohort compiler
its columns and the verifier its variables and domains, which is why it is data and not implicit in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FactKind = Literal["enum", "bool", "int", "set"]


@dataclass(frozen=True, slots=True)
class FactType:
    """Type of a fact. `values` is the domain of an enum or of a set's members; ints have a range."""

    kind: FactKind
    values: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    doc: str = ""
    option: bool = False  # a fact of the option under evaluation, fixed when the knowledge is loaded


def enum(values: tuple[str, ...], doc: str) -> FactType:
    return FactType("enum", values, doc=doc)


def boolean(doc: str) -> FactType:
    return FactType("bool", doc=doc)


def integer(low: int, high: int, doc: str) -> FactType:
    return FactType("int", low=low, high=high, doc=doc)


def set_of(values: tuple[str, ...], doc: str, option: bool = False) -> FactType:
    return FactType("set", values, doc=doc, option=option)


INTENTS: Final = ("curative", "conversion", "palliative")
PHASES: Final = ("neoadjuvant", "adjuvant", "perioperative", "first_line", "second_line", "later_line", "any")
STRENGTHS: Final = ("preferred", "alternative", "consider")
KINDS: Final = (
    "systemic",
    "chemoradiation",
    "surgery",
    "local_therapy",
    "radiation",
    "supportive",
    "clinical_trial",
)
