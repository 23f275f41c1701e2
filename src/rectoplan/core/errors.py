"""Structured errors: every problem names a path, what was found and what was expected.

Adapters turn these into stderr lines, HTTP 400 bodies or error rows; nothing downstream has to parse
message strings, and a clinician can see at once which field to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise input problem."""

    path: str
    found: str
    expected: str
    suggestion: str = ""

    def message(self) -> str:
        """One line a user can act on: where, what was found, what was expected, and a suggestion if any."""
        text = f"{self.path or '(root)'}: found {self.found}; expected {self.expected}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text


@dataclass
class RectoplanError(Exception):
    """Base of every error rectoplan raises on purpose; carries one or more problems."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(p.message() for p in self.problems)

    def messages(self) -> list[str]:
        """Every problem on its own line: interfaces list them instead of stopping at the first."""
        return [p.message() for p in self.problems]


class CaseError(RectoplanError):
    """The case (contract 1) is malformed, contradictory or out of scope."""


class RuleError(RectoplanError):
    """A condition in the rule language is malformed or does not type-check against the fact schema."""


class KnowledgeError(RectoplanError):
    """A knowledge file is malformed, or its entries do not fit together."""
