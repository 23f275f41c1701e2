"""Cases as case JSON: from a `Case`, and from a z3 model of the case variables.

A counterexample is only useful if a clinician (or a test) can run it: `model_case` turns a solver model
into a case JSON that `rectoplan recommend` accepts and that reproduces the violation; `case_dict` turns a
validated `Case` back into the same JSON form, so why-not can show a change as an edit of that JSON.

The scalar fields (of contracts 1 and 2) are written from the field table (`rectoplan.core.fields`), each at
its dotted path; only the list-shaped parts (symptoms, the local recurrence, metastases, treatment lines,
operations) and `biomarkers.kras_variant` (free text, not in the table) are written here by hand, placed
after a field of the table (`laid_out`) so that the JSON keeps its order of keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import z3

from rectoplan.adapters.case_json import CASE_FORMAT
from rectoplan.compile.z3_smt import MAX_AGENTS, MAX_COUNT, CaseVars
from rectoplan.core.case import Case, LocalRecurrence, Metastasis, SystemicLine
from rectoplan.core.facts import RESECTABLE
from rectoplan.core.fields import DECLARED, FIELDS, DeclaredField, laid_out

OTHER_VARIANT = "G12D"  # any named KRAS variant other than G12C gives the same facts (kras_g12c = false)
CONTRACT_1: Final = tuple(f for f in FIELDS if f.contract == 1)  # `Case` attributes at their path

Parts = dict[str, list[tuple[str, Any]]]  # after a field of the table: (dotted path, value or None)


def _put_path(out: dict[str, Any], path: str, value: Any) -> None:
    """Put a value (unless None, unknown) at its dotted path: a top-level key, or a key of one section
    (the section is made when its first known item is put, so a section with nothing known stays out)."""
    if value is None:
        return
    section, _, key = path.partition(".")
    if key:
        out.setdefault(section, {})[key] = value
    else:
        out[section] = value


def _write(out: dict[str, Any], value: Callable[[DeclaredField], Any], parts: Parts) -> dict[str, Any]:
    """Contract 1's fields in table order (each followed by the list-shaped parts placed after it)."""
    for path, item in laid_out(CONTRACT_1, lambda f: (f.fact, value(f)), parts):
        _put_path(out, path, item)
    return out


def case_dict(case: Case) -> dict[str, Any]:
    """A validated case as case JSON (absent parts stay absent)."""
    p = case.prior
    parts: Parts = {
        "primary.status": [
            ("primary.symptoms", _listed(case.primary.symptoms)),
            ("local_recurrence", _recurrence(case.local_recurrence)),
            ("metastases", _lesions(case.metastases)),
        ],
        "biomarkers.kras": [("biomarkers.kras_variant", case.biomarkers.kras_variant)],
        "prior.pelvic_radiation": [
            ("prior.systemic_lines", _lines(p.systemic_lines)),
            ("prior.surgeries", _listed(p.surgeries)),
        ],
    }
    out = _write({"format": CASE_FORMAT, "id": case.id}, lambda f: case.value(f.fact), parts)
    for fact, value in case.declared:  # contract 2's fields, in the order the Case holds them (by fact)
        _put_path(out, fact, value)
    return out


def _listed(items: Sequence[str] | None) -> list[str] | None:
    return None if items is None else list(items)


def _recurrence(lr: LocalRecurrence | None) -> dict[str, Any] | None:
    if lr is None:
        return None
    item: dict[str, Any] = {}
    _put_path(item, "resectability", lr.resectability)
    _put_path(item, "symptoms", _listed(lr.symptoms))
    return item


def _lesions(metastases: Sequence[Metastasis] | None) -> list[dict[str, Any]] | None:
    if metastases is None:
        return None
    out = []
    for m in metastases:
        entry: dict[str, Any] = {"site": m.site}
        _put_path(entry, "count", m.count)
        _put_path(entry, "resectability", m.resectability)
        _put_path(entry, "largest_mm", m.largest_mm)
        out.append(entry)
    return out


def _lines(lines: Sequence[SystemicLine] | None) -> list[dict[str, Any]] | None:
    if lines is None:
        return None
    return [
        {
            "agents": list(line.agents),
            **({"stopped_for": line.stopped_for} if line.stopped_for else {}),
            **({"progressed_on": list(line.progressed_on)} if line.progressed_on is not None else {}),
        }
        for line in lines
    ]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def model_case(v: CaseVars, model: z3.ModelRef, ident: str) -> dict[str, Any]:
    """The case a z3 model describes, as case JSON: the inverse of `compile.z3_case.CaseVars.fix`."""

    def yes(x: Any) -> bool:
        return bool(z3.is_true(model.eval(x, model_completion=True)))

    def num(x: Any) -> int:
        return int(model.eval(x, model_completion=True).as_long())

    def value(f: DeclaredField) -> Any:
        """A field of the table: an enum's index (-1 absent), or a `known` flag and a value."""
        if f.kind == "enum":
            i = num(v.enum[f.fact])
            return None if i < 0 else v.domains[f.fact][i]
        known, x = (v.ints if f.kind == "int" else v.bools)[f.fact]
        if not yes(known):
            return None
        return num(x) if f.kind == "int" else yes(x)

    variant = num(v.kras_variant)
    parts: Parts = {
        "primary.status": [
            ("primary.symptoms", [s for s in v.symptoms if yes(v.psym[s])] if yes(v.psym_k) else None),
            ("local_recurrence", _modelled_recurrence(v, model) if yes(v.lr) else None),
            (
                "metastases",
                [e for s in v.sites if yes(v.site[s]) for e in site_entries(v, model, s)] if yes(v.mk) else None,
            ),
        ],
        # kras_variant after every biomarker of the table, where the model's JSON has always held it
        "biomarkers.ret_fusion": [
            ("biomarkers.kras_variant", None if not variant else "G12C" if variant == 1 else OTHER_VARIANT)
        ],
        "prior.pelvic_radiation": [
            ("prior.systemic_lines", history(v, model) if yes(v.lines_k) else None),
            ("prior.surgeries", [p for p in v.procedures if yes(v.surg[p])] if yes(v.surg_k) else None),
        ],
    }
    out = _write({"format": CASE_FORMAT, "id": ident}, value, parts)
    for f in DECLARED:
        _put_path(out, f.fact, value(f))
    return out


def _modelled_recurrence(v: CaseVars, model: z3.ModelRef) -> dict[str, Any]:
    lr: dict[str, Any] = {}
    res = model.eval(v.lr_res, model_completion=True).as_long()
    _put_path(lr, "resectability", RESECTABLE[res] if res >= 0 else None)
    if z3.is_true(model.eval(v.lrsym_k, model_completion=True)):
        lr["symptoms"] = [s for s in v.symptoms if z3.is_true(model.eval(v.lrsym[s], model_completion=True))]
    return lr


def site_entries(v: CaseVars, model: z3.ModelRef, site: str) -> list[dict[str, Any]]:
    """The metastasis entries of one site; a large 'other' count is split over several entries."""
    res = model.eval(v.res[site], model_completion=True).as_long()
    base: dict[str, Any] = {"site": site}
    if res >= 0:
        base["resectability"] = RESECTABLE[res]
    if z3.is_true(model.eval(v.size_k[site], model_completion=True)):
        base["largest_mm"] = model.eval(v.size[site], model_completion=True).as_long()
    if not z3.is_true(model.eval(v.count_k[site], model_completion=True)):
        return [base]
    total = model.eval(v.count[site], model_completion=True).as_long()
    n = max(1, -(-total // MAX_COUNT))
    q, r = divmod(total, n)
    return [{**base, "count": q + (1 if i < r else 0)} for i in range(n)]


def _line(agents: list[str], progressed: set[str]) -> dict[str, Any]:
    """A line of the progressed drugs and the others packed with them, as the contract counts them: one
    that holds progressed drugs stopped for progression on those (`progressed_on` when not all of them)."""
    on = [a for a in agents if a in progressed]
    if not on:
        return {"agents": agents, "stopped_for": "completed"}
    line: dict[str, Any] = {"agents": agents, "stopped_for": "progression"}
    if len(on) < len(agents):
        line["progressed_on"] = on
    return line


def history(v: CaseVars, model: z3.ModelRef) -> list[dict[str, Any]]:
    """Treatment lines realising the modelled sets of agents (progression, intolerance, other, and the
    ongoing line's) and count: the ongoing line, when there is one, is the last and holds exactly its drugs."""

    def yes(x: Any) -> bool:
        return bool(z3.is_true(model.eval(x, model_completion=True)))

    progressed = [d for d in v.drugs if yes(v.progressed[d])]
    intolerant = [d for d in v.drugs if yes(v.intolerant[d])]
    running = [d for d in v.drugs if yes(v.running[d])]
    given = set(progressed) | set(intolerant) | set(running)
    rest = [d for d in v.drugs if yes(v.agents[d]) and d not in given]
    lines = [_line(c, set(progressed)) for c in _chunks([*progressed, *rest], MAX_AGENTS)]
    lines += [{"agents": c, "stopped_for": "intolerance"} for c in _chunks(intolerant, MAX_AGENTS)]
    total = model.eval(v.lines, model_completion=True).as_long()
    last = [{"agents": running, "stopped_for": "ongoing"}] if yes(v.ongoing) else []
    if lines or last:  # the contract holds the ongoing line to at most MAX_AGENTS drugs
        filler = (lines or last)[0]["agents"][0]
        while len(lines) + len(last) < total:
            lines.append({"agents": [filler], "stopped_for": "completed"})
    return lines + last
