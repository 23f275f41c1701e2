# ruff: noqa: E501
"""The clinician page at `/`: paste a case (contract 1), see the recommendation. Plain JS, escaped output.

Every value from the response is inserted with `textContent`, never as HTML, so nothing in a case or in
the knowledge base can inject markup. With JWT checking on, paste a bearer token in the token field.
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rectoplan</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
textarea{width:100%;height:16rem;font-family:monospace}input{width:100%}
.opt{border:1px solid #ccc;border-radius:6px;padding:.6rem;margin:.5rem 0}.err{color:#a00}
.disclaimer{background:#fff6d6;padding:.6rem;border-radius:6px}
</style></head><body>
<h1>rectoplan</h1>
<p>Options for stage 4 or recurrent rectal cancer, knowledge base {{version}}.</p>
<p class="disclaimer">{{disclaimer}}</p>
<label>Case (rectoplan.case/1 JSON)<textarea id="case">{"format": "rectoplan.case/1", "id": "example",
 "ecog": 1, "metastases": [{"site": "liver", "count": 3, "resectability": "unresectable"}],
 "biomarkers": {"kras": "wild_type", "nras": "wild_type", "braf": "wild_type", "mmr": "pmmr_mss"}}</textarea></label>
<label>Bearer token (not needed with --insecure-dev)<input id="token" type="password" autocomplete="off"></label>
<p><button id="go">Recommend</button></p>
<div id="out" aria-live="polite"></div>
<script>
function el(tag, text, cls){const e=document.createElement(tag); if(text!==undefined) e.textContent=text; if(cls) e.className=cls; return e;}
document.getElementById('go').addEventListener('click', async () => {
  const out = document.getElementById('out'); out.replaceChildren();
  let body; try { body = JSON.parse(document.getElementById('case').value); }
  catch (e) { out.append(el('p', 'Not valid JSON: ' + e.message, 'err')); return; }
  const headers = {'Content-Type': 'application/json'};
  const token = document.getElementById('token').value.trim();
  if (token) headers['Authorization'] = 'Bearer ' + token;
  const r = await fetch('recommend', {method: 'POST', headers, body: JSON.stringify(body)});
  const data = await r.json();
  if (!r.ok) { for (const i of (data.issue || [])) out.append(el('p', i.diagnostics, 'err')); return; }
  out.append(el('h2', data.summary));
  for (const o of data.options) {
    const d = el('div', undefined, 'opt'); d.append(el('h3', o.rank + '. ' + o.title + ' (' + o.strength + ')'));
    const ul = el('ul'); for (const x of o.rationale) ul.append(el('li', x)); d.append(ul);
    for (const w of (o.warnings || [])) d.append(el('p', 'Caution: ' + w, 'err'));
    out.append(d);
  }
  if (data.excluded.length) { out.append(el('h2', 'Not recommended or held back'));
    const ul = el('ul'); for (const x of data.excluded) ul.append(el('li', x.title + ': ' + x.reasons.join('; '))); out.append(ul); }
  if (data.tests_needed.length) { out.append(el('h2', 'Tests needed'));
    const ul = el('ul'); for (const t of data.tests_needed) ul.append(el('li', t.test + ': ' + t.why)); out.append(ul); }
  out.append(el('p', data.disclaimer, 'disclaimer'));
});
</script></body></html>
"""


def plan_link(page_url: str, case: dict[str, object]) -> str:
    """A link to the full plan page for this case: the case travels in the URL (base64url JSON), so the
    service keeps no patient data; the page recomputes the plan from it."""
    import base64
    import json

    raw = json.dumps(case, separators=(",", ":"), sort_keys=True).encode()
    return page_url.rstrip("/") + "/plan?case=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
