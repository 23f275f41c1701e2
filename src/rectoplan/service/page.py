"""The clinician page at `/`: a case form built from the case schema, examples, a JSON case or FHIR Bundle
pasted or dropped, and the plan shown on the same page.

It works without JavaScript (the form posts to `/plan` and the answer is the same page, rendered on the
server, with the plan or with each error next to its field and every entry kept) and is improved by it
(the plan replaces the results without a reload, with a loading state, and a network error is said in
words). Rendered with the plan's Jinja2 templates (autoescaped): nothing in a case or the knowledge base
can inject markup. The page and the plan compute on what the caller sends and store nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from rectoplan import api
from rectoplan.adapters.case_json import decode_json
from rectoplan.adapters.render_html import case_in_words, environment, plan_view
from rectoplan.core.errors import CaseError, Problem
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases, demo_notes
from rectoplan.service.page_form import Node, attach_errors, case_from_form, form_groups, walk

MAX_UPLOAD = 2_000_000


def plan_link(page_url: str, case: Mapping[str, Any]) -> str:
    """A link to the full plan page for this case: the case travels in the URL (base64url JSON), so the
    service keeps no patient data; the page recomputes the plan from it."""
    raw = json.dumps(case, separators=(",", ":"), sort_keys=True).encode()
    return page_url.rstrip("/") + "/plan?case=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _examples() -> list[dict[str, str]]:
    notes = demo_notes()
    return [{"name": name, "note": notes.get(name, "")} for name, _ in demo_cases()]


def _example(name: str) -> dict[str, Any] | None:
    return next((case for n, case in demo_cases() if n == name), None)


def _problem_text(p: Problem) -> str:
    text = f"Found {p.found}; expected {p.expected}."
    return f"{text} {p.suggestion[:1].upper()}{p.suggestion[1:]}" if p.suggestion else text


def render_page(
    kb: KnowledgeBase,
    case: Mapping[str, Any] | None = None,
    problems: list[Problem] | None = None,
    plan: dict[str, Any] | None = None,
    pasted: str = "",
    example: str = "",
    notice: str = "",
) -> str:
    """The whole page: the form (filled from `case`, errors placed), then the plan when there is one."""
    groups, hidden = form_groups(case)
    errors: dict[str, str] = {}
    for p in problems or []:
        errors[p.path] = f"{errors.get(p.path, '')} {_problem_text(p)}".strip()
    unplaced = attach_errors(groups, errors)
    summary = [
        {"path": p.path or "(the case)", "text": _problem_text(p), "href": "#" + Node("text", p.path, "").ident}
        for p in problems or []
    ]
    return (
        environment()
        .get_template("page.html.j2")
        .render(
            kb_version=kb.version,
            kb_date=kb.date,
            disclaimer=kb.disclaimer,
            groups=groups,
            hidden=hidden,
            errors=summary,
            unplaced=unplaced,
            plan=plan,
            pasted=pasted,
            examples=_examples(),
            example=example,
            notice=notice,
        )
    )


def _plan(case: Mapping[str, Any], kb: KnowledgeBase, provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    valid = api.validate_case(case, kb)
    rec = api.recommend(valid, kb)
    return plan_view(rec.to_dict(), kb.vocabulary.display, case_in_words(valid, kb), provenance)


def _from_text(text: str, kb: KnowledgeBase) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A pasted or dropped JSON case, or a FHIR Bundle mapped to a case (with what was read from where)."""
    data = decode_json(text)
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        from rectoplan.adapters.fhir_mcode import case_from_bundle

        imported = case_from_bundle(data)
        provenance = {
            "provenance": dict(imported.provenance),
            "issues": [p.message() for p in imported.issues],
            "not_read": dict(imported.ignored),
        }
        return dict(imported.case), provenance
    if not isinstance(data, dict):
        raise CaseError([Problem("", "JSON that is not an object", "a case object or a FHIR Bundle")])
    return data, None


def answer_form(form: Mapping[str, Any], upload: bytes | None, kb: KnowledgeBase) -> tuple[int, str]:
    """(HTTP status, page) for a posted form: load an example, or compute the plan from the pasted text, the
    dropped file or the fields (in that order of precedence). Errors give 422 with the entries kept."""
    example = str(form.get("example") or "")
    if form.get("step") == "load":
        chosen = _example(example)
        if chosen is None:
            problem = Problem("example", repr(example), "one of the built-in examples")
            return 422, render_page(kb, None, [problem], example=example)
        notice = f"Example '{example}' loaded: check it, then press 'Show the options'."
        return 200, render_page(kb, chosen, example=example, notice=notice)
    pasted = str(form.get("case_json") or "").strip()
    if upload and len(upload) > MAX_UPLOAD:
        problem = Problem("case_file", f"a file of {len(upload):,} bytes", f"at most {MAX_UPLOAD:,} bytes")
        return 413, render_page(kb, case_from_form(form), [problem])
    text = pasted or (upload.decode("utf-8", "replace").strip() if upload else "")
    case: dict[str, Any] = {}
    try:
        provenance = None
        case, provenance = _from_text(text, kb) if text else (case_from_form(form), None)
        return 200, render_page(kb, case, plan=_plan(case, kb, provenance), pasted=pasted, example=example)
    except CaseError as exc:
        if text and not case:
            problems = [Problem(p.path or "case_json", p.found, p.expected, p.suggestion) for p in exc.problems]
            return 422, render_page(kb, case_from_form(form), problems, pasted=pasted, example=example)
        return 422, render_page(kb, case, exc.problems, pasted=pasted, example=example)


def answer_link(encoded: str, kb: KnowledgeBase) -> tuple[int, str]:
    """(HTTP status, page) for a plan link (`/plan?case=...`, from a CDS Hooks card)."""
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        case = decode_json(raw)
    except (binascii.Error, ValueError):
        return 400, render_page(kb, None, [Problem("case", "a link that is not a rectoplan plan link", "a plan link")])
    except CaseError as exc:
        return 400, render_page(kb, None, exc.problems)
    if not isinstance(case, dict):
        return 400, render_page(kb, None, [Problem("case", "a link without a case", "a plan link")])
    try:
        return 200, render_page(kb, case, plan=_plan(case, kb, None))
    except CaseError as exc:
        return 422, render_page(kb, case, exc.problems)


def install_routes(app: FastAPI, kb: KnowledgeBase) -> None:
    """Add the page's routes to the service's FastAPI app: GET / (optionally ?example=NAME), GET /plan
    (a plan link) and POST /plan (the form, urlencoded or multipart with a dropped file). Call it right
    after creating the app, so these routes come first."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(example: str = "") -> HTMLResponse:
        case = _example(example) if example else None
        return HTMLResponse(render_page(kb, case, example=example if case else ""))

    @app.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    def plan_from_link(case: str = "") -> HTMLResponse:
        status, html = answer_link(case, kb)
        return HTMLResponse(html, status_code=status)

    @app.post("/plan", response_class=HTMLResponse, include_in_schema=False)
    async def plan_from_form(request: Request) -> HTMLResponse:
        form = await request.form()
        values: dict[str, Any] = {}
        upload = None
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                data = await value.read()
                upload = data if data else upload
            elif key in values:
                values[key] = [*values[key], value] if isinstance(values[key], list) else [values[key], value]
            else:
                values[key] = value
        groups, _ = form_groups()
        # checkbox groups always arrive as lists, even with one box ticked
        for node in (n for _, _, nodes in groups for n in walk(nodes) if n.kind == "checks"):
            if node.name in values and not isinstance(values[node.name], list):
                values[node.name] = [values[node.name]]
        status, html = answer_form(values, upload, kb)
        return HTMLResponse(html, status_code=status)
