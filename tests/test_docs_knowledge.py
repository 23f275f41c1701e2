"""docs/knowledge.md stays true: its operator table and its fact table are generated from the code (the
operators of `rectoplan.core.conditions`, the fact schema of `rectoplan.core.facts` for the shipped
knowledge) and must equal what is between their markers. After changing the rule language or a fact:

    .venv/bin/python -m tests.test_docs_knowledge      # rewrites both tables in docs/knowledge.md
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path

from rectoplan.core import conditions as c
from rectoplan.core.case import SITES
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.core.schema import FactType

DOC = Path(__file__).resolve().parents[1] / "docs" / "knowledge.md"

# The meaning of each form of the rule language. The table is built from the operator tuples and the
# node types of `conditions`; a new operator or node type without a line here fails the test.
OPERATOR_FORMS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("is", "is_not"), "V", "equality (enum, bool, int facts)"),
    (("in", "not_in"), "[V, ...]", "membership in a non-empty list of values"),
    (c.COMPARE_OPS, "N", "comparison (int facts only)"),
    (("contains",), "V", "a set fact holds the member V"),
    (("contains_any", "contains_all"), "[V, ...]", "a set fact holds some / every listed member"),
    (("known",), "true/false", "whether the fact is known (two-valued: never unknown itself)"),
)
NODE_FORMS: dict[type, tuple[str, str]] = {
    c.All: ("`{all: [C, ...]}`", "every item holds (false if any is false, else unknown if any is unknown)"),
    c.AnyOf: ("`{any: [C, ...]}`", "some item holds (true if any is true, else unknown if any is unknown)"),
    c.Not: ("`{not: C}`", "negation (`not unknown` is unknown)"),
    c.Count: (
        "`{count: [C, ...], OP: N}` (OP one of " + ", ".join(f"`{op}`" for op in c.COMPARE_OPS) + ")",
        "how many items hold; decided only when every way of filling in the unknowns agrees",
    ),
    c.Const: ("`true`, `false`", "constants"),
}


def operator_table() -> str:
    """The table of every form a condition can take, from `conditions.OPERATORS` and `Condition`."""
    lines = ["| form | meaning |", "|---|---|"]
    for ops, arg, meaning in OPERATOR_FORMS:
        forms = " / ".join(f"`{{fact: F, {op}: {arg}}}`" for op in ops)
        lines.append(f"| {forms} | {meaning} |")
    for node in typing.get_args(c.Condition):
        if node is not c.Test:
            form, meaning = NODE_FORMS[node]
            lines.append(f"| {form} | {meaning} |")
    return "\n".join(lines)


def _vocabularies(kb: KnowledgeBase) -> dict[tuple[str, ...], str]:
    """Domains too long to list, named by the knowledge file they come from."""
    drugs, procedures = tuple(kb.vocabulary.drugs), tuple(kb.vocabulary.procedures)
    return {
        drugs: "drug ids of `vocabulary.yaml`",
        procedures: "procedure ids of `vocabulary.yaml`",
        (*drugs, *procedures): "drug and procedure ids of `vocabulary.yaml`",
        tuple(kb.vocabulary.drug_classes): "drug classes of `vocabulary.yaml`",
        tuple(sorted(set(kb.resistance_class.values()))): "cross-resistance classes of `vocabulary.yaml`",
        tuple(kb.vocabulary.tags): "option tags of `vocabulary.yaml`",
        tuple(o.id for o in kb.options): "option ids of `options/*.yaml`",
    }


def _domain(t: FactType, named: dict[tuple[str, ...], str]) -> str:
    if t.kind == "int":
        return f"integer {t.low}..{t.high}"
    if t.kind == "bool":
        return "true / false"
    values = named.get(t.values) or ", ".join(f"`{v}`" for v in t.values)
    return ("one of " if t.kind == "enum" else "set of ") + values


def _generic(t: FactType, site: str) -> FactType:
    return dataclasses.replace(t, doc=t.doc.replace(site, "<site>"))


def _per_site(schema: dict[str, FactType]) -> dict[str, str]:
    """`metastases.<site>.X` for facts that every site has with the same type (one row, not seven)."""
    out: dict[str, str] = {}
    for name, t in schema.items():
        parts = name.split(".")
        if len(parts) != 3 or parts[:2] != ["metastases", SITES[0]]:
            continue
        each = {s: schema.get(f"metastases.{s}.{parts[2]}") for s in SITES}
        if all(u is not None and _generic(u, s) == _generic(t, SITES[0]) for s, u in each.items()):
            out |= {f"metastases.{s}.{parts[2]}": f"metastases.<site>.{parts[2]}" for s in SITES}
    return out


def fact_table(kb: KnowledgeBase) -> str:
    """Every fact a rule may read (`fact_schema` of this knowledge), case facts first, then the option's."""
    named, site = _vocabularies(kb), _per_site(kb.schema)
    lines = ["| fact | type and domain | meaning |", "|---|---|---|"]
    shown: set[str] = set()
    for option in (False, True):
        for name, t in kb.schema.items():
            row = site.get(name, name)
            if t.option != option or row in shown:
                continue
            shown.add(row)
            doc = _generic(t, SITES[0]).doc.replace("<site>", "`<site>`") if row != name else t.doc
            lines.append(f"| `{row}` | {_domain(t, named)} | {doc} |")
    lines.append("")
    lines.append("`<site>` is one of " + ", ".join(f"`{s}`" for s in SITES) + ".")
    return "\n".join(lines)


def _inside(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:start -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


def _replace(text: str, name: str, table: str) -> str:
    head, rest = text.split(f"<!-- {name}:start -->\n", 1)
    tail = rest.split(f"<!-- {name}:end -->", 1)[1]
    return f"{head}<!-- {name}:start -->\n{table}\n<!-- {name}:end -->{tail}"


def test_every_operator_and_node_type_has_a_documented_form() -> None:
    documented = [op for ops, _, _ in OPERATOR_FORMS for op in ops]
    assert sorted(documented) == sorted(c.OPERATORS) and len(set(documented)) == len(documented)
    assert set(NODE_FORMS) == set(typing.get_args(c.Condition)) - {c.Test}


def test_docs_operator_table_is_generated() -> None:
    assert _inside(DOC.read_text(encoding="utf-8"), "operators") == operator_table(), (
        "python -m tests.test_docs_knowledge"
    )


def test_docs_fact_table_is_the_schema(kb: KnowledgeBase) -> None:
    assert _inside(DOC.read_text(encoding="utf-8"), "facts") == fact_table(kb), "python -m tests.test_docs_knowledge"


def test_fact_table_lists_every_fact(kb: KnowledgeBase) -> None:
    """The collapsed per-site rows stand for every site's fact, and no fact is left out."""
    table = fact_table(kb)
    site = _per_site(kb.schema)
    for name in kb.schema:
        assert f"| `{site.get(name, name)}` |" in table, name


if __name__ == "__main__":
    from rectoplan.kb.loader import default_knowledge

    text = DOC.read_text(encoding="utf-8")
    text = _replace(_replace(text, "operators", operator_table()), "facts", fact_table(default_knowledge()))
    DOC.write_text(text, encoding="utf-8")
    sys.stdout.write(f"rewrote the operator and fact tables of {DOC}\n")
