"""The case form of the page at `/`, generated at run time from the case model's JSON schema.

Why generated: the case contract changes (case/2 added dates, courses, preferences); a hand-written form
would drift from it silently. Here every field of `CaseIn.model_json_schema()` becomes an input whose name
is the field's path in the case (`metastases[0].site`, `prior.systemic_lines[1].agents`), which is also the
path the validator names in its errors, so an error lands next to its field without a mapping table. Only
the grouping of top-level parts (disease, primary, treatment history, biomarkers, patient) and a few labels
are written by hand; a part the table does not know still appears, under "Other".

The form posts plain text; `case_from_form` turns it back into a case dict by the same schema (numbers,
yes/no, lists), leaving anything it cannot convert as typed, so the validator reports it in words. A list
left empty is "not recorded"; ticking its "none" box states that there is none (no symptoms, no earlier
treatment), which the engine reads differently.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rectoplan.adapters.case_json import CaseIn

GROUPS = (
    ("patient", "Patient", ("id", "age", "ecog", "health", "wants_clinical_trials", "preferences", "as_of")),
    ("disease", "Disease", ("metastases", "local_recurrence", "advanced_disease_date", "advanced_disease_months_ago")),
    ("primary", "Primary tumour", ("primary",)),
    ("history", "Treatment history", ("prior",)),
    ("biomarkers", "Biomarkers", ("biomarkers",)),
)
ROWS = {"metastases": 3}  # rows shown for a list of objects with no entries yet (default 1)
LABELS = {
    "id": "Case id",
    "ecog": "ECOG performance status",
    "kras": "KRAS",
    "nras": "NRAS",
    "braf": "BRAF",
    "mmr": "MMR / MSI",
    "her2": "HER2",
    "ntrk_fusion": "NTRK fusion",
    "ret_fusion": "RET fusion",
    "kras_variant": "KRAS variant (e.g. G12C)",
    "dpyd": "DPYD (dihydropyrimidine dehydrogenase)",
    "her2_result": "HER2 result",
    "tmb": "TMB (mutations per megabase)",
    "pole": "POLE",
    "liquid_ras": "RAS in blood (liquid biopsy)",
    "liquid_ras_months": "Liquid biopsy: months ago",
    "liquid_ras_date": "Liquid biopsy: date",
    "germline_lynch": "Germline Lynch syndrome test",
    "wants_clinical_trials": "Wants to hear about clinical trials",
    "fit_for_intensive_therapy": "Fit for intensive therapy",
    "as_of": "Date of this assessment",
}
VALUE_WORDS = {
    "wild_type": "wild-type",
    "dmmr_msi_h": "dMMR / MSI-H",
    "pmmr_mss": "pMMR / MSS",
    "v600e": "V600E",
    "ihc3": "IHC 3+",
    "ihc2_ish_positive": "IHC 2+, ISH positive",
    "ihc2_ish_negative": "IHC 2+, ISH negative",
    "ihc0_1": "IHC 0 or 1+",
}
UNSET = ""


@dataclass
class Node:
    """One input (or a group of inputs) of the form, with its value and error."""

    kind: str  # select, bool, number, text, list, checks, group, rows, hidden
    name: str
    label: str
    hint: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""
    error: str = ""
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    children: list[Node] = field(default_factory=list)
    none: bool = False  # a list stated empty ("none"), which is a fact, unlike an unrecorded one

    @property
    def none_name(self) -> str:
        return self.name + "!none"

    @property
    def ident(self) -> str:
        """An HTML id from the path (brackets and dots are awkward in CSS selectors)."""
        return "f-" + self.name.replace("[", "-").replace("]", "").replace(".", "-")


def _label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize()


@functools.cache
def schema() -> dict[str, Any]:
    """The case model's JSON schema (read once per process: the model does not change at run time)."""
    return CaseIn.model_json_schema()


def _resolve(node: Mapping[str, Any]) -> dict[str, Any]:
    """Follow a $ref and drop the 'or null' of optional fields."""
    node = dict(node)
    if "$ref" in node:
        node = {**schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    if "anyOf" in node:
        kept = [n for n in node["anyOf"] if n.get("type") != "null"]
        if len(kept) == 1:
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return _resolve({**kept[0], **rest})
    return node


def _enum(node: Mapping[str, Any]) -> list[str] | None:
    if "enum" in node:
        return [str(v) for v in node["enum"]]
    if "const" in node:
        return [str(node["const"])]
    return None


def _leaf(name: str, key: str, node: Mapping[str, Any], required: bool) -> Node:
    kind = node.get("type")
    label = _label(key)
    hint = str(node.get("description", ""))
    values = _enum(node)
    if values is not None:
        options = [(v, VALUE_WORDS.get(v, v.replace("_", " "))) for v in values]
        return Node("select", name, label, hint, options, required=required)
    if kind == "boolean":
        return Node("bool", name, label, hint, [("true", "yes"), ("false", "no")], required=required)
    if kind == "integer":
        return Node(
            "number", name, label, hint, minimum=node.get("minimum"), maximum=node.get("maximum"), required=required
        )
    if kind == "array":
        items = _resolve(node.get("items", {}))
        item_values = _enum(items)
        if item_values is not None:
            options = [(v, VALUE_WORDS.get(v, v.replace("_", " "))) for v in item_values]
            return Node("checks", name, label, hint, options, value=[])
        return Node("list", name, label, hint or "separate entries with commas", required=required)
    return Node("text", name, label, hint, required=required)


def _nodes(prefix: str, node: Mapping[str, Any], data: Any) -> list[Node]:
    """The inputs for an object schema at `prefix`, filled from `data` (a dict or nothing)."""
    required = set(node.get("required", []))
    out = []
    for key, raw in node.get("properties", {}).items():
        name = f"{prefix}.{key}" if prefix else key
        sub = _resolve(raw)
        value = data.get(key) if isinstance(data, Mapping) else None
        if sub.get("type") == "object" or "properties" in sub:
            out.append(Node("group", name, _label(key), children=_nodes(name, sub, value)))
        elif sub.get("type") == "array" and "properties" in _resolve(sub.get("items", {})):
            item = _resolve(sub["items"])
            rows = value if isinstance(value, list) else []
            limit = int(sub.get("maxItems", 20))
            count = min(limit, max(ROWS.get(key, 1), len(rows) + (1 if rows else 0)))
            children = [
                Node(
                    "group",
                    f"{name}[{i}]",
                    f"{_label(key)} {i + 1}",
                    children=_nodes(f"{name}[{i}]", item, rows[i] if i < len(rows) else None),
                )
                for i in range(count)
            ]
            out.append(Node("rows", name, _label(key), children=children, none=value == []))
        else:
            leaf = _leaf(name, key, sub, key in required)
            leaf.value = _shown(leaf, value)
            leaf.none = value == []
            out.append(leaf)
    return out


def _shown(leaf: Node, value: Any) -> Any:
    """A case value as the form shows it."""
    if leaf.kind == "checks":
        return [str(v) for v in value] if isinstance(value, list) else []
    if value is None:
        return UNSET
    if leaf.kind == "bool" and isinstance(value, bool):
        return "true" if value else "false"
    if leaf.kind == "list" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def form_groups(case: Mapping[str, Any] | None = None) -> tuple[list[tuple[str, str, list[Node]]], list[Node]]:
    """(grouped inputs filled from `case`, the hidden inputs such as the format)."""
    root = schema()
    nodes = {n.name: n for n in _nodes("", root, case or {})}
    hidden = []
    fmt = nodes.pop("format", None)
    if fmt is not None:
        newest = fmt.options[-1][0] if fmt.options else ""
        hidden.append(Node("hidden", "format", "format", value=(case or {}).get("format") or newest))
    groups = []
    for key, title, names in GROUPS:
        members = [nodes.pop(n) for n in names if n in nodes]
        if members:
            groups.append((key, title, members))
    if nodes:
        groups.append(("other", "Other", list(nodes.values())))
    return groups, hidden


def walk(nodes: Sequence[Node]) -> list[Node]:
    """Every node, depth first."""
    out = []
    for n in nodes:
        out.append(n)
        out += walk(n.children)
    return out


def _convert(leaf: Node, raw: Any) -> Any:
    """Form text -> case value; what does not convert is passed on as typed (the validator says why)."""
    if leaf.kind == "checks":
        return list(raw) if raw else None
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    if leaf.kind == "number":
        try:
            return int(text)
        except ValueError:
            return text
    if leaf.kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if leaf.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def case_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """Build the case dict from posted fields (empty inputs and empty rows are left out)."""
    groups, hidden = form_groups()
    case: dict[str, Any] = {}
    for h in hidden:
        if form.get(h.name):
            case[h.name] = str(form[h.name])
    for _, _, nodes in groups:
        for node in nodes:
            value = _collect(node, form)
            if value is not None:
                case[node.name.rsplit(".", 1)[-1]] = value
    return case


def _collect(node: Node, form: Mapping[str, Any]) -> Any:
    if node.kind == "group":
        out = {c.name.rsplit(".", 1)[-1]: v for c in node.children if (v := _collect(c, form)) is not None}
        return out or None
    if node.kind == "rows":
        rows = [v for c in _expand_rows(node, form) if (v := _collect(c, form)) is not None]
        return rows or ([] if form.get(node.none_name) else None)
    value = _convert(node, form.get(node.name))
    if value is None and node.kind in ("checks", "list") and form.get(node.none_name):
        return []
    return value


def _expand_rows(node: Node, form: Mapping[str, Any]) -> list[Node]:
    """The rows a post may hold: the ones the form showed, plus any a script added (numbered further)."""
    rows = list(node.children)
    if not rows:
        return rows
    template = rows[0]
    index = len(rows)
    while any(str(k).startswith(f"{node.name}[{index}]") for k in form):
        rows.append(_renamed(template, f"{node.name}[0]", f"{node.name}[{index}]"))
        index += 1
    return rows


def _renamed(node: Node, old: str, new: str) -> Node:
    return Node(
        node.kind,
        new + node.name[len(old) :],
        node.label,
        node.hint,
        node.options,
        node.value,
        minimum=node.minimum,
        maximum=node.maximum,
        children=[_renamed(c, old, new) for c in node.children],
    )


def attach_errors(groups: list[tuple[str, str, list[Node]]], errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Put each error on its input (or the nearest enclosing group); return those with no place at all."""
    by_name = {n.name: n for _, _, nodes in groups for n in walk(nodes)}
    unplaced = []
    for path, text in errors.items():
        target = path
        while target and target not in by_name:
            target = target.rsplit(".", 1)[0] if "." in target else (target.rsplit("[", 1)[0] if "[" in target else "")
        if target:
            node = by_name[target]
            node.error = f"{node.error} {text}".strip()
        else:
            unplaced.append((path, text))
    return unplaced
