"""The page, the plan HTML and the cohort report in a real browser: Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it starts the system `chromium` through `executable_path`
(`.ci/run` installs it). The tests fill the form as a clinician would, submit an invalid case, drop a JSON
case and a FHIR Bundle, run without JavaScript, at phone width and to PDF, and run axe-core (no serious or
critical violation). Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rectoplan.adapters.render_html import render_html
from rectoplan.api import recommend, validate_case
from rectoplan.core.knowledge import KnowledgeBase
from rectoplan.examples import demo_cases
from tests.test_service_support import running

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BUNDLE = Path(__file__).resolve().parent / "fhir_bundles" / "rectal_stage4_kras_g12c.json"
EXAMPLES = dict(demo_cases())

if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (dev extra)")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python (dev extra)")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from rectoplan.service.app import Settings, create_app

    with running(create_app(Settings(insecure_dev=True))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _serious(page: Any) -> list[str]:
    results = axe_module.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _fill_example(page: Any, server: str, name: str) -> None:
    """Pick the example, load it into the form, then ask for the plan (as a clinician would)."""
    page.goto(server + "/")
    page.select_option("#example", name)  # the script loads the example on change
    page.wait_for_selector(f"text=Example '{name}' loaded")
    page.click("#submit")
    page.wait_for_selector("#results .plan")


def test_three_examples_through_the_form(browser: Any, server: str, kb: KnowledgeBase) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name in ("msi-high", "kras-g12c", "prior-pelvic-radiation"):
        _fill_example(page, server, name)
        rec = recommend(validate_case(EXAMPLES[name], kb), kb)
        first = page.locator("#results article.opt").first
        assert first.get_attribute("data-rank") == "1" and rec.options[0].title in first.inner_text()
        if rec.warnings:
            assert page.locator("#results .warnings li").count() == len(set(rec.warnings))
        if any(not x.held for x in rec.excluded):
            assert page.locator("#excluded").is_visible()
        link = page.locator("#results .sources a[href^='http']").first
        assert link.count() == 1 and link.get_attribute("href")
        page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=False)
    _fill_example(page, server, "msi-high")
    assert "Lynch syndrome" in page.locator("#results .warnings").inner_text()
    assert _serious(page) == []
    page.locator("#results").screenshot(path=str(ARTIFACTS / "page-msi-high-plan.png"))
    page.close()


def test_invalid_case_shows_the_error_next_to_the_field(browser: Any, server: str) -> None:
    page = browser.new_page()
    _fill_example(page, server, "kras-g12c")
    page.fill("#f-ecog", "9")
    page.click("#submit")
    page.wait_for_selector("#error-summary")
    error = page.locator("#f-ecog-error")
    assert "expected a number <= 4" in error.inner_text()
    assert page.input_value("#f-ecog") == "9" and page.input_value("#f-id") == "demo-kras-g12c"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert _serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "page-invalid.png"), full_page=False)
    page.close()


def _drop(page: Any, name: str, text: str) -> None:
    page.evaluate(
        """([name, text]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], name, {type: 'application/json'}));
            const drop = new DragEvent('drop', {dataTransfer: dt, bubbles: true});
            document.getElementById('drop-zone').dispatchEvent(drop);
        }""",
        [name, text],
    )
    page.wait_for_selector(f"text=File {name} read")


def test_drop_a_json_case_and_a_fhir_bundle(browser: Any, server: str) -> None:
    page = browser.new_page()
    page.goto(server + "/")
    _drop(page, "case.json", json.dumps(EXAMPLES["her2-positive"]))
    page.click("#submit")
    page.wait_for_selector("#results .plan")
    assert EXAMPLES["her2-positive"]["id"] in page.locator("#results .meta").first.inner_text()
    page.goto(server + "/")
    _drop(page, "bundle.json", BUNDLE.read_text(encoding="utf-8"))
    page.click("#submit")
    page.wait_for_selector("#results .plan")
    assert page.locator("text=From the FHIR record").count() == 1
    page.close()


def test_without_javascript_the_form_still_works(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.select_option("#example", "msi-high")
    page.click("button[value=load]")  # a plain form post: the server answers with the filled form
    page.wait_for_selector("text=Example 'msi-high' loaded")
    page.click("#submit")
    page.wait_for_selector("#results .plan")
    assert "Pembrolizumab" in page.locator("#results article.opt").first.inner_text()
    context.close()


def test_phone_width_and_print_to_pdf(browser: Any, server: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    _fill_example(page, server, "unresectable-multisite")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "page-phone.png"), full_page=False)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    (ARTIFACTS / "plan-print.pdf").write_bytes(pdf)
    page.close()


def test_plan_html_and_cohort_report_have_no_serious_violations(
    browser: Any, kb: KnowledgeBase, tmp_path: Path
) -> None:
    from rectoplan.cli import main

    case = validate_case(EXAMPLES["msi-high"], kb)
    plan = tmp_path / "plan.html"
    plan.write_text(render_html(recommend(case, kb), kb, case=case), encoding="utf-8")
    page = browser.new_page()
    page.goto(plan.as_uri())
    assert _serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "plan-html.png"), full_page=False)
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,age,ecog,met_liver_count,met_liver_resectability,kras,nras,braf,mmr\n"
        + "".join(
            f"p{i},{50 + i % 30},{i % 3},{1 + i % 5},unresectable,wild_type,wild_type,wild_type,pmmr_mss\n"
            for i in range(40)
        )
        + "bad,200,9,1,unresectable,wild_type,wild_type,wild_type,pmmr_mss\n",
        encoding="utf-8",
    )
    assert main(["cohort", str(cases), "-o", str(tmp_path / "out")]) == 0
    page.goto((tmp_path / "out" / "report.html").as_uri())
    assert _serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "cohort-report.png"), full_page=False)
    page.close()
