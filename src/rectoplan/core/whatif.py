"""What would change the plan: for each unknown fact that a rule reads, the effect of each value.

Owned by the 'proven safe / what would change' work (issue 5). Until it lands this returns nothing,
and the recommendation says so in its `what_would_change` field being empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import Change

if TYPE_CHECKING:
    from rectoplan.core.engine import Assessment


def what_would_change(assessment: Assessment, kb: KnowledgeBase) -> tuple[Change, ...]:
    return ()
