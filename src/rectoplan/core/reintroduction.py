"""Re-introduction of a first-line induction: part of the line it re-introduces, not the next line.

CAIRO3 (Simkens et al., Lancet 2015, DOI 10.1016/S0140-6736(14)62004-3, NCT00442637) gave 6 cycles of
CAPOX + bevacizumab, then maintenance or observation; "on first progression ... patients in both groups were to
receive the induction regimen of CAPOX-B until second progression (PFS2)", the trial's end point: the
re-introduction belongs to the first-line strategy, and the second line is the switch (review 14, F15). The
knowledge already offers the re-introduction of either oxaliplatin doublet after either (FOLFOX + bevacizumab
after CAPOX + bevacizumab, and back), and TRIBE2 re-introduced FOLFOXIRI + bevacizumab the same way. The anti-EGFR
doublets come back the same way after a break (IMPROVE, FOLFIRI + panitumumab, J Clin Oncol 2025, NCT04425239;
COIN-B, FOLFOX + cetuximab, Lancet Oncol 2014): the test below is on drug ids, so it needs nothing more; the
antibody the cancer grew on is closed to a re-introduction (that is a rechallenge, with its own gates).

Two readers share the test here: the course reader (`rectoplan.adapters.courses`: a recorded re-introduction
keeps the line number) and the plan (`rectoplan.core.continuation`: an option that would re-introduce the
induction is not named "second line", in the headline (`headline_words`) or in its own words). The test, on
drug ids:

- the fluoropyrimidines given as the backbone (fluorouracil, capecitabine: one cross-resistance class in
  `knowledge/vocabulary.yaml`) count as one drug, and the folates (leucovorin) as none;
- the re-introduced drugs are among the induction's, and include every one of its partner drugs (oxaliplatin,
  irinotecan): a course without them, or with a drug the induction did not have, is a switch;
- the cancer did not progress on a partner drug (progression during maintenance, on the maintenance drugs
  only, leaves them open), and none was stopped for side effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

FLUOROPYRIMIDINE: Final = "fluoropyrimidine"
_BACKBONE: Final = {"fluorouracil": FLUOROPYRIMIDINE, "capecitabine": FLUOROPYRIMIDINE}
_FOLATES: Final = frozenset({"leucovorin", "levoleucovorin"})
PARTNERS: Final = frozenset({"oxaliplatin", "irinotecan"})  # the induction-only drugs CAIRO3 and TRIBE2 stopped


def regimen(agents: Iterable[str]) -> frozenset[str]:
    """`agents` with the fluoropyrimidine backbone as one drug and without the folates."""
    return frozenset(_BACKBONE.get(a, a) for a in agents if a not in _FOLATES)


def reintroduces(
    agents: Iterable[str], induction: Iterable[str], progressed: Iterable[str] = (), intolerant: Iterable[str] = ()
) -> bool:
    """Whether a course of `agents` re-introduces an induction of `induction` whose line progressed on
    `progressed` (and stopped for side effects of `intolerant`)."""
    given, before = regimen(agents), regimen(induction)
    partners = before & PARTNERS
    closed = regimen(progressed) | regimen(intolerant)
    return bool(partners) and partners <= given <= before and not partners & closed


# The headline's line words when the option it names re-introduces the induction: the switch options beside it
# are the second line (review 14, F15).
HEADLINE_WORDS: Final = "re-introduction of the first line's induction or second line"
LINE_PHASES: Final = ("first_line", "second_line", "later_line")  # an option's phase when it may re-introduce


def paused_first_line(facts: Mapping[str, object]) -> bool:
    """Whether the one line given is known to have paused as planned, none running: stopped without
    progression, or progression on its maintenance drugs only (unknown is never read as a pause)."""
    return (
        facts.get("prior.line_count") == 1
        and facts.get("prior.ongoing_line") is False
        and (facts.get("prior.last_line_progressed") is False or facts.get("prior.progressed_on_maintenance") is True)
    )


def reintroduced(kind: str, phase: str, components: Iterable[str], facts: Mapping[str, object]) -> bool:
    """Whether an option (its `kind`, `phase` and `components`) offered in a plan of `facts` re-introduces the
    induction of the first line that paused: a drug treatment of a line of advanced disease, after such a
    pause, that `reintroduces` the line's drugs. Curative plans have no line phase (perioperative), so never."""
    if kind != "systemic" or phase not in LINE_PHASES or not paused_first_line(facts):
        return False
    given, progressed, intolerant = (
        facts.get(f"prior.{k}") for k in ("agents", "progressed_agents", "intolerant_agents")
    )
    if not (isinstance(given, frozenset) and isinstance(progressed, frozenset) and isinstance(intolerant, frozenset)):
        return False
    return reintroduces(components, given, progressed, intolerant)


def headline_words(kind: str, phase: str, components: Iterable[str], facts: Mapping[str, object]) -> str | None:
    """The line words of a palliative plan's headline (in place of "second line") when the option it names,
    of `kind`, `phase` and `components`, re-introduces the first line's induction; None otherwise."""
    return HEADLINE_WORDS if reintroduced(kind, phase, components, facts) else None
