"""A FHIR bulk-export folder as a cohort: one record per patient, same result as importing each bundle."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest

from rectoplan.api import validate_case
from rectoplan.core.knowledge import KnowledgeBase

pytest.importorskip("fhir.resources")
pytest.importorskip("polars")

from rectoplan.adapters.fhir_mcode import case_from_bundle
from rectoplan.cohort.reference import evaluate
from rectoplan.cohort.run import run_cohort

BUNDLES = Path(__file__).parent / "fhir_bundles"
STAMP = "2026-03-01T09:00:00Z"


def _bundles() -> list[dict[str, Any]]:
    out = []
    for path in sorted(BUNDLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("resourceType") == "Bundle" and data.get("type") == "collection" and data.get("timestamp") == STAMP:
            out.append(data)
    return out


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """The test bundles written as a bulk export: one NDJSON file per resource type, plus a manifest."""
    bundles = _bundles()
    assert len(bundles) >= 3
    folder = tmp_path_factory.mktemp("bulk")
    by_type: dict[str, list[str]] = collections.defaultdict(list)
    for bundle in bundles:
        for entry in bundle["entry"]:
            by_type[entry["resource"]["resourceType"]].append(json.dumps(entry["resource"]))
    for kind, lines in by_type.items():
        (folder / f"{kind}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "Observation.ndjson").open("a").write("{broken line\n")
    (folder / "manifest.json").write_text(json.dumps({"transactionTime": STAMP, "output": []}))
    return folder, bundles


def test_bulk_export_gives_one_record_per_patient(export: tuple[Path, list[dict[str, Any]]], kb: KnowledgeBase) -> None:
    folder, bundles = export
    result = run_cohort(folder, kb, "polars")
    assert result.results is not None
    assert result.records == len(bundles)
    rows = {r["id"]: r for r in result.results.to_pylist()}
    errors = {e.id: e for e in result.errors}
    assert len(rows) + len(errors) == len(bundles)
    assert any("broken line" in w.problems[0] or "invalid JSON" in w.problems[0] for w in result.warnings)
    for bundle in bundles:
        patient = next(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        try:
            imported = case_from_bundle(bundle)
            case = validate_case(imported.case, kb)
        except Exception as exc:  # the importer refuses this patient: so must the cohort, with its words
            assert patient in errors
            assert errors[patient].problems == tuple(exc.messages())  # type: ignore[attr-defined]
            continue
        row = rows[case.id]
        expected = evaluate(case, kb)
        assert {k: row[k] for k in expected} == expected
    assert errors, "the colon cancer bundle must be refused"


def test_clinical_resources_of_no_patient_are_reported(tmp_path: Path, kb: KnowledgeBase) -> None:
    (tmp_path / "Patient.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    orphan = {"resourceType": "Observation", "id": "obs-9", "status": "final", "code": {"text": "KRAS"}}
    staff = {"resourceType": "Practitioner", "id": "dr-1"}  # about no patient, and not read: no word
    lines = [json.dumps(orphan), json.dumps(staff)]
    (tmp_path / "Observation.ndjson").write_text("\n".join(lines) + "\n")
    result = run_cohort(tmp_path, kb, "polars")
    messages = [w.problems[0] for w in result.warnings]
    assert messages == [
        "Observation.ndjson line 1: Observation/obs-9: found no patient reference; "
        "expected subject or patient = Patient/<id>"
    ]
