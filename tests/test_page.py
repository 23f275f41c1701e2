"""The page at `/` without a browser: the form follows the case schema, round-trips every example, and a
plain form post (no JavaScript) gets the plan, or each error next to its field with the entries kept."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rectoplan.adapters.case_json import CaseIn
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases
from rectoplan.service.page import install_routes, plan_link
from rectoplan.service.page_form import case_from_form, form_groups, walk
from tests.conftest import BASE_CASE, merge

BUNDLES = Path(__file__).resolve().parent / "fhir_bundles"


@pytest.fixture(scope="module")
def client(kb: KnowledgeBase) -> TestClient:
    app = FastAPI()
    install_routes(app, kb)
    return TestClient(app)


def _leaf_paths(node: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> set[str]:
    """Every property path of the schema, written independently of the form code."""
    out = set()
    for key, sub in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        options = [s for s in sub.get("anyOf", [sub]) if s.get("type") != "null"]
        target = options[0] if options else sub
        if target.get("type") == "array" and "$ref" in target.get("items", {}):
            target = {"$ref": target["items"]["$ref"]}
            path += "[0]"
        if "$ref" in target:
            out |= _leaf_paths(defs[target["$ref"].rsplit("/", 1)[-1]], defs, path)
        else:
            out.add(path)
    return out


def _form_values(case: dict[str, Any]) -> dict[str, Any]:
    """What a browser would post for the form filled from `case`."""
    groups, hidden = form_groups(case)
    values: dict[str, Any] = {h.name: h.value for h in hidden}
    for node in (n for _, _, nodes in groups for n in walk(nodes)):
        if node.none:
            values[node.none_name] = "1"
        if node.kind in ("group", "rows"):
            continue
        if node.value not in ("", []):
            values[node.name] = node.value
    return values


def test_every_field_of_the_case_schema_is_on_the_form() -> None:
    schema = CaseIn.model_json_schema()
    groups, hidden = form_groups()
    names = {n.name for _, _, nodes in groups for n in walk(nodes)} | {h.name for h in hidden}
    missing = _leaf_paths(schema, schema.get("$defs", {})) - names
    assert not missing
    assert [title for _, title, _ in groups][:5] == [
        "Patient",
        "Disease",
        "Primary tumour",
        "Treatment history",
        "Biomarkers",
    ]


@pytest.mark.parametrize("name", [name for name, _ in demo_cases()])
def test_each_example_round_trips_through_the_form(name: str) -> None:
    case = dict(demo_cases())[name]
    assert case_from_form(_form_values(case)) == case


def test_plain_form_post_gets_the_plan(client: TestClient) -> None:
    case = dict(demo_cases())["msi-high"]
    response = client.post("/plan", data=_form_values(case))
    assert response.status_code == 200
    html = response.text
    assert html.index("Lynch syndrome") < html.index("1. Pembrolizumab")
    assert 'value="demo-msi-high"' in html  # the form keeps the entries
    assert "What was understood" in html and "never replaces it" in html


def test_invalid_field_gets_its_error_next_to_it_and_entries_are_kept(client: TestClient) -> None:
    values = _form_values(merge(BASE_CASE, {"id": "kept-id"}))
    values["ecog"] = "9"
    values["metastases[0].count"] = "many"
    response = client.post("/plan", data=values)
    assert response.status_code == 422
    html = response.text
    ecog = re.search(r'<div class="field has-error">\s*<label for="f-ecog">.*?</div>', html, re.S)
    assert ecog and 'value="9"' in ecog.group(0) and "expected a number &lt;= 4" in ecog.group(0)
    count = re.search(r'<div class="field has-error">\s*<label for="f-metastases-0-count">.*?</div>', html, re.S)
    assert count and "whole number" in count.group(0) and 'value="many"' in count.group(0)
    assert 'value="kept-id"' in html and "The case needs a correction" in html and 'class="plan"' not in html


def test_did_you_mean_for_a_value(client: TestClient) -> None:
    values = _form_values(merge(BASE_CASE, {"prior": {"surgeries": ["low_anterior_resectoin"]}}))
    response = client.post("/plan", data=values)
    assert response.status_code == 422 and "Did you mean" in response.text


def test_pasted_json_case_and_fhir_bundle(client: TestClient) -> None:
    response = client.post("/plan", data={"case_json": json.dumps(BASE_CASE)})
    assert response.status_code == 200 and 'class="plan"' in response.text
    bundle = (BUNDLES / "rectal_stage4_kras_g12c.json").read_text(encoding="utf-8")
    response = client.post("/plan", files={"case_file": ("bundle.json", bundle, "application/json")})
    assert response.status_code == 200 and "From the FHIR record" in response.text
    broken = client.post("/plan", data={"case_json": '{"id": '})
    assert broken.status_code == 422 and 'id="case_json-error"' in broken.text and "valid JSON" in broken.text


def test_example_is_loaded_into_the_form(client: TestClient) -> None:
    response = client.post("/plan", data={"example": "kras-g12c", "step": "load"})
    assert response.status_code == 200 and 'value="demo-kras-g12c"' in response.text
    assert client.get("/?example=kras-g12c").text.count('value="demo-kras-g12c"') == 1


def test_plan_link_from_a_card_opens_the_plan(client: TestClient) -> None:
    url = plan_link("http://testserver/", merge(BASE_CASE, {"id": "<linked>"}))
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and "&lt;linked&gt;" in response.text and "<linked>" not in response.text
    assert client.get("/plan?case=%%%").status_code == 400


def test_page_without_a_case_has_the_form_and_the_disclaimer(client: TestClient, kb: KnowledgeBase) -> None:
    html = client.get("/").text
    assert '<form id="case-form"' in html and 'method="post"' in html and 'name="viewport"' in html
    assert kb.disclaimer.replace("'", "&#39;") in html and "innerHTML" not in html
