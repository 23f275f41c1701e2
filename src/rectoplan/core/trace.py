"""The per-option trace of one evaluation: what happened to an option and which rules decided it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from rectoplan.core.knowledge import Caution, Gate, Option, Setting

Status = Literal["offered", "excluded", "held", "not_indicated", "not_applicable"]


class OptionOutcome(NamedTuple):
    """What happened to one option for one case. A NamedTuple: cheap to build on the hot path."""

    option: Option
    status: Status
    setting: Setting | None = None
    blocking: tuple[Gate, ...] = ()  # exclusions that held (listed) or requirements that failed (silent)
    holding: tuple[Gate, ...] = ()  # gates whose facts are unknown and that hold the option back
    warned: tuple[Gate, ...] = ()  # gates whose facts are unknown and that only warn
    cautions: tuple[Caution, ...] = ()  # cautions that apply
    unknown_cautions: tuple[Caution, ...] = ()  # cautions whose facts are unknown
    passed: tuple[Gate, ...] = ()  # exclusions checked and found not to apply (offered options only)
