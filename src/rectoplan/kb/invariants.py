"""Safety invariants as data: read `knowledge/invariants.yaml` into checked `Invariant` objects.

An invariant is a sentence a clinician can read (`statement`), its source (`cite`) and a formal part in
the rule language, over a slightly larger vocabulary than the rules themselves: besides the case facts
and the option facts, an invariant may read what the engine *decided* (the `outcome.*` facts of one
option, and `plan.*` facts of the whole recommendation). Formally, for every case the case contract
admits and every option whose facts satisfy `applies_to`:

    when is TRUE  ==>  then is TRUE            (three-valued: an unknown `then` is a violation)

An invariant without `applies_to` is about the whole plan and reads no `outcome.*` fact. `when`
defaults to "the option is offered" (`{fact: outcome.status, is: offered}`) for option invariants and
to `true` for plan invariants. The same objects feed the z3 proof (`rectoplan kb verify`) and the
per-case check (`rectoplan.verify.check`), so the proof and the tests can never mean different things.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rectoplan.core import facts
from rectoplan.core.conditions import Condition, Const, bind, facts_read, parse
from rectoplan.core.errors import KnowledgeError, Problem, RuleError
from rectoplan.core.knowledge import Citation, KnowledgeBase, Option
from rectoplan.core.schema import INTENTS, PHASES, STRENGTHS, FactType, boolean, enum, set_of
from rectoplan.kb import strict_yaml
from rectoplan.kb.sources import parse_cite

STATUSES = ("offered", "excluded", "held", "not_indicated", "not_applicable")
NONE = "none"


@dataclass(frozen=True, slots=True)
class Invariant:
    """One safety invariant; `applies_to` is None for an invariant about the whole plan."""

    id: str
    statement: str
    cite: tuple[Citation, ...]
    applies_to: Condition | None
    when: Condition
    then: Condition

    def bound(self, option_facts: dict[str, Any]) -> tuple[Condition, Condition] | None:
        """(`when`, `then`) bound to one option, or None if the invariant does not apply to it."""
        if self.applies_to is None or bind(self.applies_to, option_facts) != Const(True):
            return None
        return bind(self.when, option_facts), bind(self.then, option_facts)


class _InvariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    statement: str
    cite: list[dict[str, str]]
    applies_to: Any = None
    when: Any = None
    then: Any


def gate_ids(kb: KnowledgeBase) -> tuple[str, ...]:
    ids = [g.id for _, g in kb.raw_gates] + [g.id for o in kb.options for g in o.gates]
    return tuple(dict.fromkeys(ids))


def caution_ids(kb: KnowledgeBase) -> tuple[str, ...]:
    ids = [c.id for _, c in kb.raw_cautions] + [c.id for o in kb.options for c in o.cautions]
    return tuple(dict.fromkeys(ids))


def invariant_schema(kb: KnowledgeBase) -> dict[str, FactType]:
    """The rule schema plus the vocabulary of decisions an invariant may read."""
    schema = dict(kb.schema)
    schema.update(
        {
            "outcome.status": enum(STATUSES, "what the engine decided for the option"),
            "outcome.phase": enum(
                (*PHASES, NONE), "phase of the setting that selected the option ('none': no setting)"
            ),
            "outcome.strength": enum((*STRENGTHS, NONE), "strength of the selecting setting ('none': no setting)"),
            "outcome.intent": enum((*INTENTS, NONE), "intent shown for the option: the setting's, else the plan's"),
            "outcome.warnings": set_of(
                (*gate_ids(kb), *caution_ids(kb)),
                "ids of the gates and cautions whose (non-empty) warning text is shown on the offered option",
            ),
            "outcome.notes": set_of(caution_ids(kb), "ids of the note-severity cautions shown on the offered option"),
            "outcome.cited": boolean(
                "offered: the option and its setting cite sources; excluded or held: every deciding gate does"
            ),
            "plan.warnings": set_of(
                tuple(c.id for c in kb.global_cautions), "ids of the plan-wide cautions whose text is shown"
            ),
        }
    )
    return schema


def option_facts(option: Option, kb: KnowledgeBase) -> dict[str, Any]:
    """The facts of one option, exactly as the loader binds them into its gates and cautions."""
    return facts.option_facts(option.id, option.kind, option.components, option.tags, kb.vocabulary.drugs)


def default_path() -> Any:
    return resources.files("rectoplan") / "knowledge" / "invariants.yaml"


def _cite(kb: KnowledgeBase, where: str, items: list[dict[str, str]], problems: list[Problem]) -> tuple[Citation, ...]:
    """The same citation forms as every knowledge file ({ref: id, quote?}, {seed-a: "..."}, {brief: C-xx})."""
    return parse_cite(where, items, kb.sources, problems)


def _outcome_free(cond: Condition) -> bool:
    return not any(name.startswith("outcome.") for name in facts_read(cond))


def parse_invariants(data: Any, kb: KnowledgeBase, name: str = "invariants.yaml") -> tuple[Invariant, ...]:
    """Check and parse decoded invariants; raise `KnowledgeError` naming every problem."""
    problems: list[Problem] = []
    if not isinstance(data, list):
        raise KnowledgeError([Problem(name, type(data).__name__, "a list of invariants")])
    schema = invariant_schema(kb)
    option_schema = {k: v for k, v in kb.schema.items() if k.startswith("option.")}
    out: list[Invariant] = []
    seen: set[str] = set()

    def condition(where: str, raw: Any, facts: dict[str, FactType]) -> Condition:
        try:
            return parse(raw, facts, where)
        except RuleError as exc:
            problems.extend(exc.problems)
            return Const(False)

    for i, item in enumerate(data):
        where = f"{name}: [{i}]" + (f" {item['id']}" if isinstance(item, dict) and "id" in item else "")
        try:
            inv = _InvariantIn.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                found = "nothing" if err["type"] == "missing" else repr(err.get("input"))[:60]
                problems.append(Problem(f"{where}.{path}", found, str(err["msg"]).lower()))
            continue
        if inv.id in seen:
            problems.append(Problem(f"{where}.id", repr(inv.id), "a unique invariant id"))
        seen.add(inv.id)
        applies = None if inv.applies_to is None else condition(f"{where}.applies_to", inv.applies_to, option_schema)
        default_when: Any = {"fact": "outcome.status", "is": "offered"} if applies is not None else True
        when = condition(f"{where}.when", default_when if inv.when is None else inv.when, schema)
        then = condition(f"{where}.then", inv.then, schema)
        if applies is None and not (_outcome_free(when) and _outcome_free(then)):
            problems.append(Problem(f"{where}", "outcome.* facts in a plan invariant", "applies_to (an option set)"))
        out.append(
            Invariant(
                inv.id,
                " ".join(inv.statement.split()),
                _cite(kb, where, inv.cite, problems),
                applies,
                when,
                then,
            )
        )
    if problems:
        raise KnowledgeError(problems)
    return tuple(out)


def load_invariants(kb: KnowledgeBase, path: Path | Any | None = None) -> tuple[Invariant, ...]:
    """Read the invariants beside a knowledge base (default: the shipped `invariants.yaml`)."""
    node = default_path() if path is None else path
    try:
        data = strict_yaml.load(node.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeError([Problem(str(node), "no such file", "an invariants file")]) from None
    except yaml.YAMLError as exc:
        raise KnowledgeError([Problem(str(node), f"invalid YAML ({exc})".replace("\n", " "), "valid YAML")]) from None
    return parse_invariants(data, kb, "invariants.yaml")
