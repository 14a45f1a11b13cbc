"""``GET /``: one small self-contained HTML page (no external assets: a server without internet access serves it
whole) with a text box that calls the model's own route: /predict (each class with a bar as long as its probability) or
/ner (the entities highlighted in the text)."""
import html
import json

__all__ = ['page_html']

_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>kobert-gluon: {name}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}textarea{{width:100%;height:5em}}
mark{{background:#fe8}}mark small{{color:#a50;margin-left:.2em}}#out{{white-space:pre-wrap;margin-top:1em}}
.class{{display:flex;align-items:center;gap:.5em;margin:.2em 0}}.class .label{{width:8em}}
.class .bar{{flex:1;height:1em;background:#eee}}.class .bar span{{display:block;height:100%;background:#48c}}
.class .score{{width:4em;text-align:right;font-variant-numeric:tabular-nums}}</style>
</head><body>
<h1>{name}</h1>
<p>Routes: {routes}. API: <a href="docs">/docs</a>, <a href="metrics">/metrics</a>.</p>
<form id="form"><textarea id="text" name="text">정말 재밌어요</textarea><br>
<button id="go" type="submit">{route}</button> <small>(Ctrl+Enter)</small></form>
<div id="out"></div>
<script>
const route = {route_json};
const out = document.getElementById('out');
const box = document.getElementById('text');
function esc(s) {{ const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }}
async function send(event) {{
  event.preventDefault();
  const text = box.value;
  out.textContent = '...';
  const response = await fetch(route, {{method: 'POST', headers: {{'Content-Type': 'application/json'}},
                                        body: JSON.stringify({{inputs: text}})}});
  const answer = await response.json();
  if (!response.ok) {{ out.textContent = answer.error; return; }}
  if (route === 'ner') {{
    // the entities' character offsets into the text sent: plain text between them, each one marked
    let html = '', at = 0;
    for (const e of answer) {{
      html += esc(text.slice(at, e.start)) + '<mark>' + esc(text.slice(e.start, e.end)) +
              '<small>' + esc(e.entity) + '</small></mark>';
      at = e.end;
    }}
    out.innerHTML = html + esc(text.slice(at));
  }} else if (Array.isArray(answer)) {{
    // every class, most likely first: its name, a bar as long as its probability, the number
    out.innerHTML = answer.map(c => '<div class="class"><span class="label">' + esc(c.label) +
      '</span><span class="bar"><span style="width:' + (100 * c.score).toFixed(2) + '%"></span></span>' +
      '<span class="score">' + c.score.toFixed(4) + '</span></div>').join('');
  }} else {{
    out.textContent = JSON.stringify(answer);
  }}
}}
document.getElementById('form').onsubmit = send;
box.onkeydown = (event) => {{ if (event.key === 'Enter' && event.ctrlKey) send(event); }};
</script></body></html>
"""


def page_html(name: str, routes) -> str:
    route = next((r for r in routes if r in ('predict', 'ner')), 'tokenize')
    return _PAGE.format(name=html.escape(name), routes=', '.join('/' + r for r in routes), route=route,
                        route_json=json.dumps(route))
