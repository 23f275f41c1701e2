"""The printable handout for the patient: the recommendation in plain words, as HTML and tagged PDF.

Short on purpose: where things stand, the few options the team is most likely to discuss (and, when every
treatment listed waits for the cancer to grow, a plain sentence saying that nothing on the list is for now),
the others in a line each, the warnings a patient must hear (the case's, and each listed option's safety warnings in
plain words, said once with the options they concern), questions to ask, what happens next, and a glossary
of only the words the handout uses. Clinician rationales and rule ids stay out; treatments and trials the
patient declined are not offered. A sentence that several option texts share ("It would be a first
treatment for the cancer as it is now") is left out of each: lifted out of its option it would have no
subject, and repeated it would be read as many times as there are options. The PDF is rendered by
WeasyPrint from the same HTML as PDF/UA-1 (tagged, with the document language and title), so a screen reader
can read it too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rectoplan.adapters.render_html import environment
from rectoplan.core.continuation import waits_for_progression
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.recommendation import OptionResult, Recommendation, first_treatment

MOST_LIKELY = 3
PDF_VARIANT = "pdf/ua-1"

# Case-level warnings a patient must hear, said in plain words (keyed by a phrase of the knowledge base's
# clinician text). A warning not listed here stays with the care team, and the handout says there are notes.
# The MSI-H sentence is keyed by the referral itself (caution lynch-referral), not by "Lynch syndrome": the
# note that a BRAF V600E tumour is *not* Lynch syndrome names it too (review 14, F1).
PATIENT_WARNINGS = (
    (
        "refer for genetic counselling",
        "Your cancer has a change called MSI-H. This change can run in families (Lynch syndrome). Your team "
        "may offer you a talk with a genetics expert and a blood test. If you have it, your close family may "
        "want to be tested too.",
    ),
    (
        "ECOG 2",
        "Your illness affects your daily life. So your team may suggest a gentler treatment.",
    ),
    (
        "ECOG 3-4",
        "Your illness affects your daily life a lot. So your team may focus on care that eases your symptoms "
        "and keeps you comfortable.",
    ),
    (
        "Prior systemic therapy is not recorded",
        "Your team needs to check which cancer drugs you have had before. This changes which options fit you.",
    ),
)
PELVIC_RADIATION = "You had radiation to the pelvis before. This may rule out more radiation there."
UNSAID = "Your team has some notes about your case for them to explain to you."
# An option's warning without plain words in the knowledge base (a caution's `patient` text) still reaches
# the patient: never silently dropped from a document that names the option.
SAFETY_UNSAID = "Your care team has an important safety note about this for you. Ask about it before you decide."
SAFETY_UNKNOWN = "Your care team needs one more piece of information about your health before this option."

# When every treatment listed waits for the cancer to grow (a short induction to complete, a watch): said
# plainly above the options, so that a list of treatments is not read as the plan for now.
NOTHING_NOW = (
    "Nothing on this list is for now. These treatments are for if the cancer grows again. Ask your team "
    "what they suggest until then."
)
TRIAL_TO_DISCUSS = "A clinical trial is also an option to talk about with your team."

# Short names a patient meets in option titles and test names, defined only when the handout uses them.
EXTRA_TERMS = {
    "FOLFOX": "A mix of chemotherapy drugs: folinic acid, fluorouracil and oxaliplatin.",
    "FOLFIRI": "A mix of chemotherapy drugs: folinic acid, fluorouracil and irinotecan.",
    "FOLFOXIRI": "A mix of four chemotherapy drugs: folinic acid, fluorouracil, oxaliplatin and irinotecan.",
    "CAPOX": "A mix of two chemotherapy drugs: capecitabine (a pill) and oxaliplatin.",
    "DPYD": "A gene. A blood test for it shows if some chemotherapy drugs could harm you at a normal dose.",
    "HER2": "A protein on some cancer cells. Some drugs target it.",
    "KRAS": "A gene. A change in it decides which drugs can work.",
    "BRAF": "A gene. A change in it decides which drugs can work.",
    "NGS": "A lab test that looks for many gene changes in the cancer at once.",
    "VEGF": "A signal that helps tumours grow blood vessels. Some drugs block it.",
    "EGFR": "A signal on cancer cells that helps them grow. Some drugs block it.",
}

QUESTIONS = (
    "What is the goal of this treatment for me?",
    "Which option do you suggest for me, and why?",
    "What side effects should I watch for, and whom do I call?",
    "How will we know if the treatment is working?",
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def _declined(case: Any) -> tuple[bool, set[str]]:
    """(trials declined, other treatment kinds declined) from a case (core `Case` or a case dict)."""

    def get(obj: Any, name: str) -> Any:
        return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)

    prefs = get(case, "preferences")
    declines = set(get(prefs, "declines") or ()) if prefs is not None else set(get(case, "declines") or ())
    trials = get(case, "wants_clinical_trials") is False or "trials" in declines
    return trials, declines - {"trials"}


def _offered(option: OptionResult, trials_declined: bool, declines: set[str]) -> bool:
    if option.kind == "clinical_trial":
        return not trials_declined
    kinds = {"chemotherapy": {"systemic", "chemoradiation"}, "radiation": {"radiation", "chemoradiation"}}
    blocked = set().union(*(kinds.get(d, {d}) for d in declines)) if declines else set()
    return option.kind not in blocked and not ({"stoma"} & declines and "stoma" in option.title.lower())


def _warnings(rec: Recommendation, case: Any, kb: KnowledgeBase) -> list[str]:
    """The case-level warnings in plain words: a plan-wide caution's own `patient` text (knowledge data)
    first, then the few built-in phrasings; a warning with neither is announced, never dropped."""
    plain = {c.text: c.patient for c in kb.global_cautions if c.patient}
    said: list[str] = []
    unsaid = False
    for w in rec.warnings:
        text = plain.get(str(w)) or next((p for key, p in PATIENT_WARNINGS if key in str(w)), None)
        if text is None:
            unsaid = True
        elif text not in said:
            said.append(text)
    prior = case.get("prior") if isinstance(case, Mapping) else getattr(case, "prior", None)
    radiated = prior.get("pelvic_radiation") if isinstance(prior, Mapping) else getattr(prior, "pelvic_radiation", None)
    if radiated:
        said.append(PELVIC_RADIATION)
    return said + ([UNSAID] if unsaid else [])


def _plain_warnings(kb: KnowledgeBase) -> dict[str, str]:
    """Each option caution's clinician text -> its plain words (the knowledge base's `patient` text); a
    warning that only says a fact is unrecorded (a gate's or caution's `unknown` text) -> `SAFETY_UNKNOWN`,
    so the patient is not told of a safety problem that may not exist."""
    unknowns = [g.unknown for o in kb.options for g in o.gates] + [c.unknown for o in kb.options for c in o.cautions]
    unknown = dict.fromkeys((u for u in unknowns if u), SAFETY_UNKNOWN)
    return {**unknown, **{c.text: c.patient for o in kb.options for c in o.cautions if c.patient}}


def option_safety(options: Iterable[OptionResult], kb: KnowledgeBase) -> list[dict[str, Any]]:
    """The safety warnings of the listed options in plain words, each once with the options it concerns
    (a patient told about bevacizumab after a stroke must read why it is a risk, once, not per regimen)."""
    plain = _plain_warnings(kb)
    concerns = warnings_once(options, lambda w: plain.get(w, SAFETY_UNSAID))
    return [{"text": text, "options": titles} for text, titles in concerns.items()]


def warnings_once(options: Iterable[OptionResult], words: Callable[[str], str] = str) -> dict[str, list[str]]:
    """Each warning of `options`, as `words` puts it, once, with the titles of the options it concerns (in
    order): the handout's safety list and the CDS card's cautions of the options it names in one line."""
    concerns: dict[str, list[str]] = {}
    for o in options:
        for w in o.warnings:
            titles = concerns.setdefault(words(w), [])
            if o.title not in titles:
                titles.append(o.title)
    return concerns


def likely_options(options: list[OptionResult], n: int = MOST_LIKELY) -> list[OptionResult]:
    """The options the team will most likely discuss: those at the best strength any treatment has, and
    preferred ones. A preferred trial alone must not push every treatment into "others": after a recent stroke
    no bevacizumab doublet is preferred, yet the doublets without it (alternative) are the likely plan.
    The CDS Hooks card leads with the same options. When the plan waits (a running line, or no growth since
    the last one stopped), the options for now (preferred or alternative) come before those for progression:
    a maintenance the summary names as "Then:" must not sit under "other" (tenth review, w14), and a later
    line's trial (a phase 1 trial) comes last while the current plan holds (w11)."""
    if any(waits_for_progression(o) for o in options):
        options = _for_now_first(options)
    first = first_treatment(options)
    best = first.strength if first is not None else "preferred"
    return [o for o in options if o.strength in (best, "preferred")][:n] or options[:n]


def _for_now(option: OptionResult) -> bool:
    """An option for now in a waiting plan: not for progression, and more than one to consider."""
    return not waits_for_progression(option) and option.strength != "consider"


def nothing_for_now(options: Iterable[OptionResult]) -> bool:
    """Whether the plan waits and no treatment it lists is for now (a trial does not count): the next step is
    in the warnings (complete a short induction, watch), and every listed treatment is for progression."""
    listed = list(options)
    return any(waits_for_progression(o) for o in listed) and not any(
        _for_now(o) for o in listed if o.kind != "clinical_trial"
    )


def _for_now_first(options: list[OptionResult]) -> list[OptionResult]:
    """The options for now (preferred or alternative; treatments before trials: the step the summary names
    first, eleventh review), then the others in rank order, then the trials of a later line. When no treatment
    is for now, a trial is not the lead item (review 13, x04: the handout led with the trial while every
    treatment waited for progression): the treatments come first, in rank order, then the trials, an
    option to discuss."""
    now: list[OptionResult] = []
    rest: list[OptionResult] = []
    later_trials: list[OptionResult] = []
    for o in options:
        waits = waits_for_progression(o)
        if _for_now(o):
            now.append(o)
        elif waits and o.kind == "clinical_trial":
            later_trials.append(o)
        else:
            rest.append(o)
    now.sort(key=lambda o: o.kind == "clinical_trial")
    if all(o.kind == "clinical_trial" for o in now):
        return rest + now + later_trials
    return now + rest + later_trials


def handout_view(rec: Recommendation, kb: KnowledgeBase, case: Any = None) -> dict[str, Any]:
    """What the handout says, already in plain words (the template only lays it out)."""
    trials_declined, declines = _declined(case) if case is not None else (False, set())
    options = [o for o in rec.options if _offered(o, trials_declined, declines)]
    likely = likely_options(options)
    others = [o for o in options if o not in likely]
    counts = Counter(s for o in options for s in dict.fromkeys(_sentences(o.patient_explanation)))
    left_out = set(_sentences(rec.patient_summary)) | {s for s, n in counts.items() if n > 1}

    def own(o: OptionResult) -> str:
        return " ".join(s for s in _sentences(o.patient_explanation) if s not in left_out)

    view = {
        "summary": rec.patient_summary,
        "not_now": _not_now(options, likely) if likely else [],
        "likely": [{"title": o.title, "text": own(o)} for o in likely],
        "others": [{"title": o.title, "text": ""} for o in others],  # a line each: the name is enough here
        "warnings": _warnings(rec, case if case is not None else {}, kb),
        "safety": option_safety(options, kb),
        "tests": list(dict.fromkeys(kb.vocabulary.display(t.test) for t in rec.tests_needed)),
        "questions": list(QUESTIONS)
        + (["When will my test results be ready, and will they change the plan?"] if rec.tests_needed else [])
        + (["Is there a clinical trial that could suit me?"] if not trials_declined else []),
        "disclaimer": rec.disclaimer,
        "footer": f"Prepared by rectoplan, knowledge base {rec.knowledge_version} ({kb.date}), case {rec.case_id}.",
    }
    view["glossary"] = _glossary(rec.glossary, _all_text(view))
    return view


def _not_now(options: list[OptionResult], likely: list[OptionResult]) -> list[str]:
    """Said plainly above the options when none of the treatments is for now; a trial left out of the
    likely options is still named as one to discuss."""
    if not nothing_for_now(options):
        return []
    trial = any(o.kind == "clinical_trial" for o in options) and not any(o.kind == "clinical_trial" for o in likely)
    return [NOTHING_NOW, *([TRIAL_TO_DISCUSS] if trial else [])]


def _all_text(view: Mapping[str, Any]) -> str:
    parts: list[str] = [view["summary"], *view["not_now"], *view["warnings"], *view["tests"], *view["questions"]]
    parts += [s["text"] for s in view["safety"]]
    for o in (*view["likely"], *view["others"]):
        parts += [o["title"], o["text"]]
    return " ".join(parts)


def _glossary(terms: Iterable[tuple[str, str]], text: str) -> list[tuple[str, str]]:
    """Only the words the handout uses (whole words, any case), in alphabetical order."""
    pool = dict(terms) | {k: v for k, v in EXTRA_TERMS.items()}
    used = [(t, d) for t, d in pool.items() if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", text, re.I)]
    return sorted(dict(used).items(), key=lambda td: td[0].lower())


def handout_html(rec: Recommendation, kb: KnowledgeBase, case: Any = None) -> str:
    """A self-contained, escaped HTML page in plain language."""
    return environment().get_template("handout.html.j2").render(h=handout_view(rec, kb, case))


def handout_pdf(rec: Recommendation, kb: KnowledgeBase, case: Any = None) -> bytes:
    """The handout as a tagged PDF/UA-1 (needs the 'handout' extra: WeasyPrint)."""
    import weasyprint

    html = weasyprint.HTML(string=handout_html(rec, kb, case))
    pdf: bytes = html.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
