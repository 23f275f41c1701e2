"""Cases as contract-1 JSON: from a `Case`, and from a z3 model of the case variables.

A counterexample is only useful if a clinician (or a test) can run it: `model_case` turns a solver model
into a case JSON that `rectoplan recommend` accepts and that reproduces the violation; `case_dict` turns a
validated `Case` back into the same JSON form, so why-not can show a change as an edit of that JSON.
"""

from __future__ import annotations

from typing import Any

import z3

from rectoplan.adapters.case_json import CASE_FORMAT
from rectoplan.compile.z3_smt import MAX_AGENTS, MAX_COUNT, CaseVars
from rectoplan.core.case import Case
from rectoplan.core.facts import RESECTABLE
from rectoplan.core.fields import DECLARED

OTHER_VARIANT = "G12D"  # any named KRAS variant other than G12C gives the same facts (kras_g12c = false)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def case_dict(case: Case) -> dict[str, Any]:
    """A validated case as contract-1 JSON (absent parts stay absent)."""
    out: dict[str, Any] = {"format": CASE_FORMAT, "id": case.id}
    _put(out, "age", case.age)
    _put(out, "ecog", case.ecog)
    primary: dict[str, Any] = {}
    _put(primary, "status", case.primary.status)
    _put(primary, "symptoms", None if case.primary.symptoms is None else list(case.primary.symptoms))
    if primary:
        out["primary"] = primary
    lr = case.local_recurrence
    if lr is not None:
        item: dict[str, Any] = {}
        _put(item, "resectability", lr.resectability)
        _put(item, "symptoms", None if lr.symptoms is None else list(lr.symptoms))
        out["local_recurrence"] = item
    if case.metastases is not None:
        mets = []
        for m in case.metastases:
            entry: dict[str, Any] = {"site": m.site}
            _put(entry, "count", m.count)
            _put(entry, "resectability", m.resectability)
            _put(entry, "largest_mm", m.largest_mm)
            mets.append(entry)
        out["metastases"] = mets
    b = case.biomarkers
    bio = {
        k: getattr(b, k)
        for k in ("kras", "kras_variant", "nras", "braf", "mmr", "her2", "ntrk_fusion", "ret_fusion")
        if getattr(b, k) is not None
    }
    if bio:
        out["biomarkers"] = bio
    p = case.prior
    prior: dict[str, Any] = {}
    _put(prior, "pelvic_radiation", p.pelvic_radiation)
    if p.systemic_lines is not None:
        prior["systemic_lines"] = [
            {
                "agents": list(line.agents),
                **({"stopped_for": line.stopped_for} if line.stopped_for else {}),
                **({"progressed_on": list(line.progressed_on)} if line.progressed_on is not None else {}),
            }
            for line in p.systemic_lines
        ]
    _put(prior, "surgeries", None if p.surgeries is None else list(p.surgeries))
    if prior:
        out["prior"] = prior
    h = case.health
    health = {
        k: getattr(h, k)
        for k in ("dpyd", "days_since_major_surgery", "bleeding_risk", "fit_for_intensive_therapy")
        if getattr(h, k) is not None
    }
    if health:
        out["health"] = health
    _put(out, "wants_clinical_trials", case.wants_clinical_trials)
    for fact, value in case.declared:
        _put_path(out, fact, value)
    return out


def _put_path(out: dict[str, Any], fact: str, value: Any) -> None:
    """Put a declared field (`rectoplan.core.fields`) at its dotted path."""
    section, key = fact.split(".", 1)
    out.setdefault(section, {})[key] = value


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def model_case(v: CaseVars, model: z3.ModelRef, ident: str) -> dict[str, Any]:
    """The case a z3 model describes, as contract-1 JSON.

    Branchy by design: one branch per field of contract 1, the inverse of `compile.z3_smt.CaseVars.fix`."""

    def val(x: Any) -> Any:
        return model.eval(x, model_completion=True)

    def yes(x: Any) -> bool:
        return bool(z3.is_true(val(x)))

    def num(x: Any) -> int:
        return int(val(x).as_long())

    def enum(name: str) -> str | None:
        i = num(v.enum[name])
        return None if i < 0 else v.domains[name][i]

    out: dict[str, Any] = {"format": CASE_FORMAT, "id": ident}
    for name in ("age", "ecog"):
        k, x = v.ints[name]
        if yes(k):
            out[name] = num(x)
    primary: dict[str, Any] = {}
    _put(primary, "status", enum("primary.status"))
    if yes(v.psym_k):
        primary["symptoms"] = [s for s in v.symptoms if yes(v.psym[s])]
    if primary:
        out["primary"] = primary
    if yes(v.lr):
        lr: dict[str, Any] = {}
        res = num(v.lr_res)
        _put(lr, "resectability", RESECTABLE[res] if res >= 0 else None)
        if yes(v.lrsym_k):
            lr["symptoms"] = [s for s in v.symptoms if yes(v.lrsym[s])]
        out["local_recurrence"] = lr
    if yes(v.mk):
        out["metastases"] = [e for s in v.sites if yes(v.site[s]) for e in site_entries(v, model, s)]
    bio: dict[str, Any] = {}
    for name in ("kras", "nras", "braf", "mmr", "her2", "ntrk_fusion", "ret_fusion"):
        _put(bio, name, enum(f"biomarkers.{name}"))
    variant = num(v.kras_variant)
    if variant:
        bio["kras_variant"] = "G12C" if variant == 1 else OTHER_VARIANT
    if bio:
        out["biomarkers"] = bio
    prior: dict[str, Any] = {}
    k, x = v.bools["prior.pelvic_radiation"]
    if yes(k):
        prior["pelvic_radiation"] = yes(x)
    if yes(v.lines_k):
        prior["systemic_lines"] = history(v, model)
    if yes(v.surg_k):
        prior["surgeries"] = [p for p in v.procedures if yes(v.surg[p])]
    if prior:
        out["prior"] = prior
    health: dict[str, Any] = {}
    _put(health, "dpyd", enum("health.dpyd"))
    k, x = v.ints["health.days_since_major_surgery"]
    if yes(k):
        health["days_since_major_surgery"] = num(x)
    for name in ("bleeding_risk", "fit_for_intensive_therapy"):
        k, x = v.bools[f"health.{name}"]
        if yes(k):
            health[name] = yes(x)
    if health:
        out["health"] = health
    k, x = v.bools["wants_clinical_trials"]
    if yes(k):
        out["wants_clinical_trials"] = yes(x)
    for declared in DECLARED:
        if declared.kind == "enum":
            value: Any = enum(declared.fact)
        else:
            k, x = (v.ints if declared.kind == "int" else v.bools)[declared.fact]
            value = (num(x) if declared.kind == "int" else yes(x)) if yes(k) else None
        if value is not None:
            _put_path(out, declared.fact, value)
    return out


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


def history(v: CaseVars, model: z3.ModelRef) -> list[dict[str, Any]]:
    """Treatment lines realising the modelled sets of agents (progression, intolerance, other) and count."""

    def yes(x: Any) -> bool:
        return bool(z3.is_true(model.eval(x, model_completion=True)))

    progressed = [d for d in v.drugs if yes(v.progressed[d])]
    intolerant = [d for d in v.drugs if yes(v.intolerant[d])]
    rest = [d for d in v.drugs if yes(v.agents[d]) and d not in progressed and d not in intolerant]
    lines = [{"agents": c, "stopped_for": "progression"} for c in _chunks(progressed, MAX_AGENTS)]
    lines += [{"agents": c, "stopped_for": "intolerance"} for c in _chunks(intolerant, MAX_AGENTS)]
    lines += [{"agents": c, "stopped_for": "completed"} for c in _chunks(rest, MAX_AGENTS)]
    total = model.eval(v.lines, model_completion=True).as_long()
    ongoing = yes(v.ongoing)
    while lines and len(lines) < total:
        lines.append({"agents": [lines[0]["agents"][0]], "stopped_for": "completed"})
    if ongoing and lines:
        if lines[-1]["stopped_for"] != "completed":  # the contract keeps one line neither progressed nor stopped
            raise AssertionError("an ongoing line the model cannot place")
        lines[-1]["stopped_for"] = "ongoing"
    return lines
