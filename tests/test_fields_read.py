"""Every declared case field is read by the knowledge, or listed here with the reason it is recorded and not used.

Review 13's guard, asked again by review 14 (F7): the MRI staging of a primary in place was in the field table
(`rectoplan.core.fields.FIELDS`), validated, in the cohort columns and in z3, and no rule read it, so a recorded
involved margin changed nothing and nothing said so. A field counts as read when:
- a condition of the loaded knowledge base reads it: an intent rule, a test rule, a case-level caution, a
  class-wide gate or caution (with its `applies_to`), or an option's row, gate or caution. The conditions are
  walked as the loader parsed them (`facts_read`), never as YAML text, so anchors, aliases and lowered rows count
  as the engine sees them. The invariants (`invariants.yaml`) are not walked: they check the plan, they do not
  make it;
- or it feeds a fact that is read: a fact `core/facts.py` derives from several fields (`DERIVED_FACTS` below,
  checked against `case_facts` here), or a declared field the edge derives from it (`DeclaredField.derived_from`,
  as `biomarkers.her2` from `biomarkers.her2_result`);
- or it is in `RECORDED_NOT_USED`, with the reason. A field in that list that a rule reads fails the test too, so
  the list only holds what is true.

Adding a field to `FIELDS` without a rule that reads it fails `test_every_declared_field_is_read`; the last
tests show that it does (a synthetic field, and `FIELDS` itself patched).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from rectoplan.core import fields as declared
from rectoplan.core.case import Case
from rectoplan.core.conditions import Condition, facts_read
from rectoplan.core.facts import case_facts
from rectoplan.core.fields import BY_FACT, DeclaredField
from rectoplan.core.knowledge import KnowledgeBase

Make = Callable[..., Case]

# Fields recorded (validated, kept in the facts, the cohort columns and z3) that no rule reads, and why.
RECORDED_NOT_USED: dict[str, str] = {
    "biomarkers.liquid_ras_months": (
        "The age of the liquid biopsy, derived at the edge from biomarkers.liquid_ras_date. No source states an age"
        " limit for a ctDNA result before anti-EGFR rechallenge (CHRONOS tested ctDNA at the moment of rechallenge;"
        " review 13, finding 5), so none is encoded: the rechallenge gates read the biopsy's timing against the"
        " treatment instead (biomarkers.liquid_ras_after_last_line, biomarkers.liquid_ras_after_anti_egfr), derived"
        " from the same date."
    ),
}

# Facts `core/facts.py` derives from several declared fields (fields.py's docstring names them); each entry is
# checked against `case_facts` below.
DERIVED_FACTS: dict[str, tuple[str, ...]] = {
    "biomarkers.ras": ("biomarkers.kras", "biomarkers.nras"),
    "biomarkers.kras_g12c": ("biomarkers.kras",),
}

# The parts of a KnowledgeBase, split into those that hold conditions (walked below) and those that do not: a
# new part fails `test_the_walk_covers_the_knowledge_base` until it is placed in one of the two.
WALKED = {"intents", "options", "global_cautions", "test_rules", "raw_gates", "raw_cautions"}
NO_CONDITIONS = {
    "version",
    "date",
    "title",
    "disclaimer",
    "sources",
    "vocabulary",
    "schema",
    "glossary",
    "resistance_class",
    "drug_classes",
    "evidence_levels",
    "idle_outcomes",
}


def knowledge_conditions(kb: KnowledgeBase) -> Iterator[tuple[str, Condition]]:
    """(where, condition) for every condition of the loaded knowledge base that decides something."""
    for rule in kb.intents:
        yield f"intent {rule.id}", rule.when
    for test in kb.test_rules:
        yield f"test rule {test.id}", test.when
    for caution in kb.global_cautions:
        yield f"caution {caution.id}", caution.when
    for applies_to, gate in kb.raw_gates:
        yield f"gate {gate.id} (applies_to)", applies_to
        yield f"gate {gate.id}", gate.when
    for applies_to, caution in kb.raw_cautions:
        yield f"caution {caution.id} (applies_to)", applies_to
        yield f"caution {caution.id}", caution.when
    for option in kb.options:
        for setting in option.settings:
            yield f"row {setting.id}", setting.when
        for gate in option.gates:
            yield f"gate {gate.id} of {option.id}", gate.when
        for caution in option.cautions:
            yield f"caution {caution.id} of {option.id}", caution.when


def facts_read_by(kb: KnowledgeBase) -> frozenset[str]:
    return frozenset().union(*(facts_read(cond) for _, cond in knowledge_conditions(kb)))


def used_facts(
    fields: Iterable[DeclaredField], read: frozenset[str], derived: dict[str, tuple[str, ...]] = DERIVED_FACTS
) -> frozenset[str]:
    """The facts read, and every field that feeds one of them (through derived facts or `derived_from`)."""
    fields = tuple(fields)
    used = set(read)
    while True:
        feeding = {source for fact, sources in derived.items() if fact in used for source in sources}
        feeding |= {f.derived_from for f in fields if f.fact in used and f.derived_from}
        if feeding <= used:
            return frozenset(used)
        used |= feeding


def fields_not_read(
    fields: Iterable[DeclaredField], read: frozenset[str], allowed: Iterable[str] = RECORDED_NOT_USED
) -> list[str]:
    """The declared fields that nothing reads and that are not listed as recorded, not used."""
    fields = tuple(fields)
    used = used_facts(fields, read)
    return [f.fact for f in fields if f.fact not in used and f.fact not in set(allowed)]


def check_every_field_read(kb: KnowledgeBase) -> None:
    """The guard. Reads `rectoplan.core.fields.FIELDS` when called, so a patched table is checked too."""
    unread = fields_not_read(declared.FIELDS, facts_read_by(kb))
    assert not unread, (
        f"declared in core/fields.py but read by no knowledge condition: {unread}; add the rules that read each"
        " (with a trigger and a non-trigger test), or list it in RECORDED_NOT_USED of tests/test_fields_read.py"
        " with the reason it is recorded and not used"
    )


def test_every_declared_field_is_read(kb: KnowledgeBase) -> None:
    check_every_field_read(kb)


def test_the_mri_staging_of_the_primary_is_read_by_rules(kb: KnowledgeBase) -> None:
    """Review 14, F7: each MRI finding is read by a condition itself (none is allow-listed or derived)."""
    read = facts_read_by(kb)
    for fact in ("primary.mri_t", "primary.mri_n", "primary.crm_involved", "primary.emvi"):
        assert fact in read and fact not in RECORDED_NOT_USED, fact


def test_the_allow_list_holds_only_what_is_true(kb: KnowledgeBase) -> None:
    used = used_facts(declared.FIELDS, facts_read_by(kb))
    for fact, reason in RECORDED_NOT_USED.items():
        assert fact in BY_FACT, f"{fact}: not a declared field"
        assert fact not in used, f"{fact}: a rule reads it now; remove it from RECORDED_NOT_USED"
        assert len(reason.split()) >= 8, f"{fact}: say why it is recorded and not used"


def test_derived_facts_follow_their_inputs(make_case: Make, kb: KnowledgeBase) -> None:
    """Each input named in DERIVED_FACTS changes its derived fact (from the base case, its other inputs fixed)."""
    for fact, inputs in DERIVED_FACTS.items():
        assert fact in kb.schema and fact not in BY_FACT, fact
        for name in inputs:
            field = BY_FACT[name]
            section, key = field.section, field.name
            seen = {
                case_facts(make_case(**{section: {key: value}}), kb.resistance_class, kb.drug_classes)[fact]
                for value in field.json_values
            }
            assert len(seen) > 1, f"{fact} does not change with {name}: {seen}"


def test_the_walk_covers_the_knowledge_base() -> None:
    parts = {f.name for f in dataclasses.fields(KnowledgeBase)}
    assert parts == WALKED | NO_CONDITIONS, f"place each new part: {sorted(parts ^ (WALKED | NO_CONDITIONS))}"


def test_the_walk_reaches_each_kind_of_rule(kb: KnowledgeBase) -> None:
    kinds = {where.split()[0] for where, _ in knowledge_conditions(kb)}
    assert kinds == {"intent", "test", "caution", "gate", "row"}


SYNTHETIC = DeclaredField("primary.synthetic_finding", "bool", "a field added to the table that no rule reads")


def test_the_guard_fails_on_a_new_field_no_rule_reads(kb: KnowledgeBase) -> None:
    read = facts_read_by(kb)
    assert fields_not_read((*declared.FIELDS, SYNTHETIC), read) == [SYNTHETIC.fact]
    assert fields_not_read((*declared.FIELDS, SYNTHETIC), read, {*RECORDED_NOT_USED, SYNTHETIC.fact}) == []


def test_the_guard_fails_when_the_table_grows(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(declared, "FIELDS", (*declared.FIELDS, SYNTHETIC))
    with pytest.raises(AssertionError, match=r"primary\.synthetic_finding"):
        check_every_field_read(kb)


@pytest.mark.parametrize(
    ("dropped", "unread"),
    [
        ({"primary.emvi"}, ["primary.emvi"]),  # read by a condition only
        ({"primary.mri_n"}, ["primary.mri_n"]),
        ({"biomarkers.ras"}, ["biomarkers.nras"]),  # nras feeds only the derived RAS fact
        ({"biomarkers.her2_result"}, []),  # still feeds biomarkers.her2 (derived_from) ...
        ({"biomarkers.her2_result", "biomarkers.her2"}, ["biomarkers.her2", "biomarkers.her2_result"]),  # ... not now
    ],
    ids=["emvi", "mri_n", "ras", "her2_result-fed", "her2-both"],
)
def test_the_guard_fails_when_a_rule_stops_reading(kb: KnowledgeBase, dropped: set[str], unread: list[Any]) -> None:
    read = facts_read_by(kb)
    assert dropped <= read
    assert sorted(fields_not_read(declared.FIELDS, read - dropped)) == unread
