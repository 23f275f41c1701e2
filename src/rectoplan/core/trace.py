"""The per-option trace of one evaluation: what happened to an option and which rules decided it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple

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


class Candidate(NamedTuple):
    """An option whose setting applies, as the compiled engine keeps it (one per plan result, cached):
    its outcome, what `render` needs of it (`explain.rendered_part`), and what what-if needs of it."""

    outcome: OptionOutcome
    part: Any  # a template if offered, an `Exclusion` if excluded or held, else None
    position: int  # the option's index in the knowledge base
    offered: int  # the index of the setting it is offered under, or -1
    blockers: tuple[frozenset[str], ...]  # facts read by each gate that keeps it out (excluded, held, not indicated)
    holding: tuple[str, ...] = ()  # the ids of the gates that hold it back (held only)
    # offered: its rank key (strength, priority, option order); excluded or held: (held, option id)
    order: tuple[Any, ...] = (0, 0, 0)
