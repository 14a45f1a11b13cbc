"""``GET /``: one small self-contained HTML page (no external assets: a server without internet access serves it
whole) with a text box that calls the model's own route: /predict (classes and probabilities) or /ner (the entities
highlighted in the text)."""
import html
import json

__all__ = ['page_html']

_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>kobert-gluon: {name}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}textarea{{width:100%;height:5em}}
mark{{background:#fe8}}mark small{{color:#a50;margin-left:.2em}}#out{{white-space:pre-wrap;margin-top:1em}}</style>
</head><body>
<h1>{name}</h1>
<p>Routes: {routes}. API: <a href="docs">/docs</a>, <a href="metrics">/metrics</a>.</p>
<textarea id="text">정말 재밌어요</textarea><br><button id="go">{route}</button>
<div id="out"></div>
<script>
const route = {route_json};
const out = document.getElementById('out');
function esc(s) {{ const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }}
document.getElementById('go').onclick = async () => {{
  const text = document.getElementById('text').value;
  const response = await fetch(route, {{method: 'POST', headers: {{'Content-Type': 'application/json'}},
                                        body: JSON.stringify({{inputs: text}})}});
  const answer = await response.json();
  if (!response.ok) {{ out.textContent = answer.error; return; }}
  if (route === 'ner') {{
    let html = '', at = 0;
    for (const e of answer) {{
      html += esc(text.slice(at, e.start)) + '<mark>' + esc(text.slice(e.start, e.end)) +
              '<small>' + esc(e.entity) + '</small></mark>';
      at = e.end;
    }}
    out.innerHTML = html + esc(text.slice(at));
  }} else if (Array.isArray(answer)) {{
    out.textContent = answer.map(c => c.label + '\\t' + c.score.toFixed(4)).join('\\n');
  }} else {{
    out.textContent = JSON.stringify(answer);
  }}
}};
</script></body></html>
"""


def page_html(name: str, routes) -> str:
    route = next((r for r in routes if r in ('predict', 'ner')), 'tokenize')
    return _PAGE.format(name=html.escape(name), routes=', '.join('/' + r for r in routes), route=route,
                        route_json=json.dumps(route))
