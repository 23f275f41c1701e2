"""What `rectoplan kb verify` found: one result per invariant, as data and as text.

Kept apart from `prove` (which needs z3) so that the types of the public API (`rectoplan.verify`) and the
text a reviewer reads can be imported, rendered and tested without the solver installed.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rectoplan.kb.invariants import Invariant

Verdict = Literal["proved", "violated", "unknown"]


@dataclass
class InvariantResult:
    """The verdict on one invariant: proved for every admitted case, violated (with a case), or unknown."""

    invariant: Invariant
    verdict: Verdict
    options: int  # options the invariant applies to (0 for a plan invariant)
    seconds: float
    option: str | None = None  # the violating option (None for a plan invariant)
    counterexample: dict[str, Any] | None = None
    reproduced: bool | None = None  # the counterexample violates the invariant through the Python engine
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON data (`rectoplan kb verify --format json`)."""
        out: dict[str, Any] = {
            "id": self.invariant.id,
            "verdict": self.verdict,
            "statement": self.invariant.statement,
            "options": self.options,
            "seconds": round(self.seconds, 4),
        }
        if self.verdict == "violated":
            out.update(option=self.option, counterexample=self.counterexample, reproduced=self.reproduced)
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class VerifyReport:
    """Every invariant's result for one knowledge base; `ok` only when every one is proved.

    `knowledge_options` is the number of options of the knowledge base verified, so the report can say
    what was covered without the knowledge base at hand."""

    results: list[InvariantResult] = field(default_factory=list)
    build_seconds: float = 0.0
    seconds: float = 0.0
    knowledge_options: int = 0

    @property
    def ok(self) -> bool:
        """True when every invariant is proved (a violation or a solver without an answer is not ok)."""
        return all(r.verdict == "proved" for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data (`rectoplan kb verify --format json`)."""
        return {
            "ok": self.ok,
            "proved": sum(r.verdict == "proved" for r in self.results),
            "invariants": len(self.results),
            "seconds": round(self.seconds, 3),
            "encode_seconds": round(self.build_seconds, 3),
            "results": [r.to_dict() for r in self.results],
        }

    def to_text(self, out: Path | None = None, kb_dir: str | None = None) -> str:
        """The report for a reviewer: one line per invariant, a counterexample under each violation.

        `out` (where the counterexamples were written) and `kb_dir` (the knowledge verified) only make
        the 'reproduce' hint a command that runs."""
        lines: list[str] = []
        for r in self.results:
            lines += _result_lines(r, out, kb_dir)
        proved = sum(r.verdict == "proved" for r in self.results)
        lines.append(
            f"kb verify: {proved}/{len(self.results)} invariants proved over every case the contract admits "
            f"({self.knowledge_options} options; encoding {self.build_seconds:.2f} s, total {self.seconds:.2f} s)"
        )
        return "\n".join(lines)


def _result_lines(r: InvariantResult, out: Path | None, kb_dir: str | None) -> list[str]:
    scope = f"{r.options} option{'s' if r.options != 1 else ''}" if r.invariant.applies_to is not None else "plan"
    lines = [f"{r.verdict.upper():8} {r.invariant.id} ({scope}, {r.seconds * 1000:.0f} ms)"]
    if r.verdict == "violated":
        where = f" by option {r.option}" if r.option else ""
        lines.append(f"         {r.invariant.statement}")
        lines.append(
            f"         violated{where}; counterexample case (reproduced by the engine: "
            f"{'yes' if r.reproduced else 'NO'}):"
        )
        lines.append("         " + json.dumps(r.counterexample, ensure_ascii=False))
        if out is not None:
            case = shlex.quote(str(out / (r.invariant.id + ".json")))
            same = f" --kb {shlex.quote(kb_dir)}" if kb_dir else ""  # the same knowledge, or not the same run
            lines.append(f"         reproduce: rectoplan recommend {case}{same}")
    elif r.verdict == "unknown":
        lines.append(f"         solver gave no answer: {r.detail}")
    return lines
