"""Pydantic's validation errors as the case's problems: field path, what was found, what was expected,
and a 'did you mean' for a misspelt field or value.

Split from `rectoplan.adapters.case_json`: a clinician or an integrator reads these lines to fix a case,
so the wording of every kind of error is one job, kept apart from the checks themselves.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from rectoplan.adapters._case_json_models import CaseIn
from rectoplan.core.errors import Problem


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _found(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Walk the model tree along `loc` to offer 'did you mean' for unknown fields."""
    model: type[BaseModel] | None = CaseIn
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _expected(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "missing":
        return "a value (this field is required)"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        lo, hi = ctx.get("ge", ctx.get("gt")), ctx.get("le", ctx.get("lt"))
        bound = f">= {lo}" if lo is not None else f"<= {hi}"
        return f"a number {bound}"
    if kind in ("too_long", "too_short"):
        return f"{ctx.get('field_type', 'value')} of allowed length ({err['msg'].lower()})"
    if kind in ("string_too_long", "string_too_short"):
        return f"text of {err['msg'].lower().removeprefix('string should have ')}"
    if kind.startswith("int") or kind == "int_type":
        return "a whole number"
    if kind == "bool_type":
        return "true or false"
    if kind == "string_type":
        return "text"
    if kind == "string_pattern_mismatch":
        return "text without control characters (such as newlines, tabs or escape codes)"
    if kind in ("list_type",):
        return "a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "an object"
    return str(err["msg"]).lower()


def _problems_from(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _path(loc)
        if err["type"] == "extra_forbidden":
            model = _model_at(loc)
            known = list(model.model_fields) if model else []
            near = difflib.get_close_matches(str(loc[-1]), known, n=1)
            problems.append(
                Problem(
                    path,
                    f"unknown field {loc[-1]!r}",
                    f"one of the fields {', '.join(known)}" if known else "no such field",
                    f"did you mean {near[0]!r}?" if near else "",
                )
            )
            continue
        found = "nothing" if err["type"] == "missing" else _found(err.get("input"))
        near = []
        if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str):
            # a misspelt value ('livr', 'mutnat'): the allowed ones are quoted in ctx "'a', 'b' or 'c'"
            allowed = str((err.get("ctx") or {}).get("expected", "")).split("'")[1::2]
            lowered = {a.lower(): a for a in allowed}
            near = [lowered[m] for m in difflib.get_close_matches(err["input"].lower(), list(lowered), n=1)]
        problems.append(Problem(path, found, _expected(err), f"did you mean {near[0]!r}?" if near else ""))
    return problems
