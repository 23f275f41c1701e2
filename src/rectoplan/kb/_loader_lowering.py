"""The rows that warnings with `lowers` add to an option's decision table, ranking it lower while they hold.

Split from `rectoplan.kb.loader`: lowering is one rule of the knowledge language (docs/knowledge.md),
done once at load time by writing plain rows, so that every engine, z3 and what-if sees it without code
of its own; its reasoning is long (below) and deserves its own module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

from rectoplan.core.conditions import All, Condition, Const, bind
from rectoplan.core.knowledge import Caution, Citation
from rectoplan.core.schema import STRENGTHS
from rectoplan.kb.models import SettingIn

LOWERED_PRIORITY = 100  # added per level to a lowered row's priority: after the rows of its new strength (< 100)


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of an option's decision table as the loader builds it, before it becomes a `Setting`."""

    id: str
    when: Condition
    strength: str
    priority: int
    because: str
    cite: tuple[Citation, ...]
    raw: SettingIn
    base: str = ""  # a lowered copy: the id of the row it copies
    lowered_by: tuple[Condition, ...] = ()  # a lowered copy: the conditions of the warnings that lower it


def _lowered_rows(row: _Row, lowering: list[tuple[Caution, str]]) -> list[_Row]:
    """The copies of `row` that warnings which `lowers` put ahead of it: one level lower per warning that holds.

    A decision table selects its first true row, so "this row, and the warnings hold" placed before the row
    ranks the option lower exactly while they hold; an unknown warning condition leaves the row as it was
    (it neither lowers nor holds the option back: the warning itself then says what is unknown). A row gets
    copies for two warnings first (both reasons given), then one copy per warning; each is one strength
    lower per warning, down to the lowest (consider), and three or more warnings lower as two do. A copy's
    priority is raised by `LOWERED_PRIORITY` per warning, even where the strength cannot go lower, so that
    a warned option follows the options that hold its strength without the warning (a bevacizumab doublet
    after a stroke comes after the doublets without bevacizumab, in every strength: the eighth review
    found "consider" options with the warning ahead of those without it when copies were made only where
    the strength changed). The engine tests a row once and its copies only when it holds (`core.plan`),
    so the copies cost little (measured: 572 -> 861 rows, the plan's time unchanged within noise).
    Being plain rows, they reach every engine, z3 and what-if without code of their own; a
    copy also names its row and warnings (`Setting.lowers_row`, `lowered_by`) so that a compiler can test
    the row once (the cohort plan does).
    """
    out = []
    level = STRENGTHS.index(row.strength)
    for size in (2, 1):
        for combo in combinations(lowering, size):
            when = bind(All((*(caution.when for caution, _ in combo), row.when)), {})
            if when == Const(False):
                continue
            below = STRENGTHS[min(level + size, len(STRENGTHS) - 1)]
            reasons = "; and ".join(reason.removesuffix(".") for _, reason in combo)
            if below == row.strength:  # at the lowest strength: ranked after the options without the warning
                because = f"{row.because} Ranked after the {below} options without this warning: {reasons}."
            else:
                because = f"{row.because} Ranked {below} rather than {row.strength} here: {reasons}."
            cite = tuple(dict.fromkeys((*row.cite, *(c for caution, _ in combo for c in caution.cite))))
            out.append(
                replace(
                    row,
                    id=row.id + "".join(f"--{caution.id}" for caution, _ in combo),
                    when=when,
                    strength=below,
                    priority=row.priority + LOWERED_PRIORITY * size,
                    because=because,
                    cite=cite,
                    base=row.id,
                    lowered_by=tuple(caution.when for caution, _ in combo),
                )
            )
    return out
