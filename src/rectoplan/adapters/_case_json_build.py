"""The `Case` built from a validated case JSON and what the edge derived from it.

Split from `rectoplan.adapters.case_json`: the contract 1 fields are read by a function generated from
the field table (`_attributes_reader`), the list-shaped parts (metastases, lines, courses, the local
recurrence) by hand here, so a new list-shaped part is assembled here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rectoplan.adapters._case_json_derive import _by_section, _Derived
from rectoplan.core.case import Biomarkers, Case, Health, LocalRecurrence, Metastasis, Primary, Prior


def _unknown(value: str | None) -> str | None:
    return None if value in (None, "unknown") else value


def _symptoms(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(dict.fromkeys(values))


_ATTRIBUTES = _by_section(1)  # contract 1: attributes of `Case` (and of its parts) of the same name


def _attributes_reader() -> Callable[[Any], dict[str, dict[str, Any]]]:
    """A function generated from the table: the validated case -> section -> {attribute: value} of the
    contract 1 fields, as the `Case` holds them (the unknown token read as absent). Straight-line code, as
    `core.facts` does: a loop over the fields costs more than the pydantic checks of those fields."""
    lines = ["def read(c):", "    out = {}"]
    for section, fields in _ATTRIBUTES:
        lines.append(f"    o = c.{section}" if section else "    o = c")
        values = [
            (name, f"(None if o.{name} == {token!r} else o.{name})" if token else f"o.{name}")
            for name, _, token in fields
        ]
        absent = {name: None for name, _, _ in fields}
        lines.append(f"    out[{section!r}] = {absent!r} if o is None else {{")
        lines += [f"        {name!r}: {value}," for name, value in values]
        lines.append("    }")
    lines.append("    return out")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<rectoplan.adapters._case_json_build.read>", "exec"), namespace)  # from the table
    read: Callable[[Any], dict[str, dict[str, Any]]] = namespace["read"]
    return read


_READ_ATTRIBUTES = _attributes_reader()
_WHERE = {fact: (section, name) for section, fields in _ATTRIBUTES for name, fact, _ in fields}


def _attributes(c: Any, derived: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Section -> {attribute: value} of the contract 1 fields, with the values the edge derived (HER2 from
    the reported test, trials declined) in place of the given ones."""
    out = _READ_ATTRIBUTES(c)
    for fact, value in derived.items():
        section, name = _WHERE[fact]
        out[section][name] = value
    return out


def _to_case(c: Any, d: _Derived) -> Case:
    """The `Case`: the table's contract 1 fields by section (`_attributes`), the list-shaped parts here."""
    given = _attributes(c, d.attributes)
    p = c.prior
    lr = c.local_recurrence
    return Case(
        id=c.id,
        **given[""],
        primary=Primary(**given["primary"], symptoms=_symptoms(c.primary.symptoms) if c.primary else None),
        local_recurrence=(
            LocalRecurrence(_unknown(lr.resectability), _symptoms(lr.symptoms)) if lr is not None else None
        ),
        metastases=(
            None
            if c.metastases is None
            else tuple(Metastasis(m.site, m.count, _unknown(m.resectability), m.largest_mm) for m in c.metastases)
        ),
        biomarkers=Biomarkers(**given["biomarkers"], kras_variant=d.kras_variant),
        prior=Prior(
            **given["prior"],
            systemic_lines=d.lines,
            surgeries=None if p is None or p.surgeries is None else tuple(p.surgeries),
            courses=d.courses,
        ),
        health=Health(**given["health"]),
        declared=tuple(sorted(d.declared.items())),
        as_of=c.as_of,
    )
