"""The HTML page around the sections: one template, inline CSS, no JavaScript, no network."""

from __future__ import annotations

import base64
from html import escape
from string import Template

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1em auto; max-width: 1150px; color: #222; }
h1 { margin: 0 0 0.2em; font-size: 1.6em; } h2 { border-bottom: 2px solid #ccc; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; } img { max-width: 100%; display: block; margin: 0.6em 0; }
.notice { background: #fff4e5; border: 1px solid #f0a040; padding: 0.6em 1em; }
.bad { color: #b00020; } .warnings li { color: #8a4b00; margin: 0.2em 0; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
nav a { margin-right: 0.8em; }
img.thumb { margin: 0; max-width: 96px; max-height: 96px; }
.thumb.missing { width: 96px; height: 96px; background: #ddd; color: #555; font-size: 0.8em;
  display: flex; flex-direction: column; justify-content: center; text-align: center; }
table.ranked td { vertical-align: middle; }
#verdict h2, #headline h2 { margin-top: 0.6em; } .small { font-size: 0.85em; color: #555; }
table.verdict { font-size: 0.88em; } table.verdict td { vertical-align: top; }
.reading { padding: 0.5em 0.8em; border-left: 6px solid #999; background: #f7f7f7; }
.lv-strong { color: #b00020; font-weight: bold; } .lv-some { color: #8a4b00; font-weight: bold; }
.lv-none { color: #1b6e20; } .lv-info { color: #666; }
.lv-too-few, .lv-unlearned, .lv-unchecked { color: #8a4b00; font-weight: bold; }
p.reading.lv-strong { border-color: #b00020; } p.reading.lv-some { border-color: #f0a040; }
p.reading.lv-none { border-color: #2e7d32; }
details { margin: 0.5em 0; } summary { cursor: pointer; }
</style></head>
<body>
<h1>$title</h1>
<p class="notice" id="disclaimer"><b>$disclaimer</b></p>
<nav>$nav</nav>
$body
</body></html>
""")


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as base64."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def render(title: str, disclaimer: str, sections: list[tuple[str, str, str]]) -> str:
    """The page: ``sections`` are ``(id, title, html)``, listed in a navigation bar."""
    nav = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name, _ in sections)
    return PAGE.substitute(title=escape(title), disclaimer=escape(disclaimer), nav=nav,
                           body="\n".join(html for _, _, html in sections))
