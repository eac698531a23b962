"""HTML building blocks of the static export: escaping, the page shell, cells and links.

Every string that comes from a results folder (model names, task names, card fields, dataset
ids) is passed through `esc` before it reaches a page, and every attribute is double-quoted,
so hostile text stays text. The page shell carries a Content-Security-Policy that allows
only this page's own inline style and script (by hash): a page cannot load anything, so
"no external requests" is enforced by the browser, not only by our care.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import posixpath
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from voxeval.leaderboard.units import format_number

# content-visibility: boards below the first are laid out only when scrolled to; on 40 × 12
# that takes the first ranking row from ~0.5 s to ~0.3 s (Chromium, loaded 2-core VM).
CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
max-width:1400px;padding:0 16px;color:#1b1f24;background:#fff}
header nav a{margin-right:12px}
h1{font-size:22px;margin:12px 0 4px}h2{font-size:18px;margin:24px 0 4px}
h3{font-size:15px;margin:16px 0 4px}
.wrap{overflow-x:auto}
table{border-collapse:collapse;margin:6px 0}
th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.t,th.t{text-align:left}
td small{display:block;color:#57606a;font-size:11px}
td.best{background:#dcf2e0;font-weight:700}
tbody.gap th{text-align:left;background:#fff8e1;font-weight:600}
.banner{background:#fff3cd;border:1px solid #e0c36a;padding:6px 10px;margin:8px 0}
.meta,footer{color:#57606a;font-size:12px}
th button{border:0;background:none;cursor:pointer;padding:0 0 0 3px;color:#57606a}
section{content-visibility:auto;contain-intrinsic-size:auto 900px}
code{font-size:12px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}
dd{margin:0}
""".strip()

# Adds a sort button to each th[data-sort]; numbers sort by data-value (missing last), each
# tbody on its own so ranked and unranked models never mix. Tables work without it.
SCRIPT = """
document.querySelectorAll("th[data-sort]").forEach(function (th) {
  var b = document.createElement("button");
  b.type = "button"; b.textContent = "\\u21c5"; b.title = "sort";
  th.appendChild(b);
  b.addEventListener("click", function () {
    var col = th.cellIndex, num = th.dataset.sort === "num";
    var up = th.dataset.dir !== "up"; th.dataset.dir = up ? "up" : "down";
    th.closest("table").querySelectorAll("tbody:not(.gap)").forEach(function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (r, s) {
        var x = r.cells[col].dataset.value, y = s.cells[col].dataset.value;
        if (x === "" || x === undefined) return (y === "" || y === undefined) ? 0 : 1;
        if (y === "" || y === undefined) return -1;
        var d = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
""".strip()


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# Only this exact style and script may run; nothing may be fetched (default-src 'none').
CSP = (
    f"default-src 'none'; style-src 'sha256-{_sha256(CSS)}'; "
    f"script-src 'sha256-{_sha256(SCRIPT)}'; base-uri 'none'; form-action 'none'"
)


def esc(value: object) -> str:
    """Text for HTML content or a double-quoted attribute: `<>&"'` escaped."""
    return html.escape(str(value), quote=True)


def is_missing(value: object) -> bool:
    """None, NaN and pandas' NA/NaT count as missing."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and NA are not equal to themselves
    except (TypeError, ValueError):
        return False


def text(value: object) -> str:
    """A free-text value, escaped; missing is "—"."""
    return "—" if is_missing(value) or value == "" else esc(value)


def number(value: object, decimals: int = 3) -> str:
    """A number rounded for display; missing is "—"."""
    return format_number(None if is_missing(value) else float(value), decimals)


def sort_key(value: object) -> str:
    """A data-value for numeric sorting: the float's text, empty when missing."""
    if is_missing(value):
        return ""
    number_value = float(value)
    return "" if math.isnan(number_value) else f"{number_value:.10g}"


def link(href: str, label: str) -> str:
    """An <a> to a relative site path (both already safe: href is ours, label escaped)."""
    return f'<a href="{esc(href)}">{label}</a>'


def relative(page: str, target: str) -> str:
    """The link from site page `page` to site file `target` (both OUT-relative posix paths)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
URL_NEVER = set("\\\"'<>`")  # in no sane model-page URL; browsers read "\\" as "/"


def safe_url(url: object) -> str | None:
    """A card URL worth linking: http(s) with a plain host name, no spaces or odd characters."""
    if not isinstance(url, str) or any(
        ch.isspace() or ord(ch) < 32 or ch in URL_NEVER for ch in url
    ):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or not HOST.fullmatch(host):
        return None
    if parts.username is not None:  # "https://good.org@evil.org/" misleads the reader
        return None
    return url


def external(url: object) -> str:
    """A card URL as a link when it is http(s) with a host, otherwise as plain text."""
    good = safe_url(url)
    if good is None:
        return text(url)
    return f'<a href="{esc(good)}" rel="noopener noreferrer nofollow">{esc(good)}</a>'


def td(content: str, value: object = None, cls: str = "", title: str = "") -> str:
    """A cell; `value` becomes its data-value for sorting, `title` a hover note."""
    attrs = f' class="{cls}"' if cls else ""
    if value is not None:
        attrs += f' data-value="{esc(value)}"'
    if title:
        attrs += f' title="{esc(title)}"'
    return f"<td{attrs}>{content}</td>"


def th(label: str, sort: str = "num", cls: str = "") -> str:
    """A header cell (label already HTML) that the inline script can sort by."""
    attrs = f' class="{cls}"' if cls else ""
    return f'<th scope="col" data-sort="{sort}"{attrs}>{label}</th>'


def table(headers: Sequence[str], bodies: Iterable[str], cls: str = "") -> str:
    """A scrollable table from header cells and ready <tbody> blocks."""
    attrs = f' class="{cls}"' if cls else ""
    head = "<thead><tr>" + "".join(headers) + "</tr></thead>"
    return f'<div class="wrap"><table{attrs}>{head}{"".join(bodies)}</table></div>'


def tbody(rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """A <tbody> of rows of ready cells."""
    attrs = f' class="{cls}"' if cls else ""
    return f"<tbody{attrs}>" + "".join("<tr>" + "".join(r) + "</tr>" for r in rows) + "</tbody>"


def page(title: str, nav: str, body: str, footer: str) -> str:
    """A whole page: strict CSP, inline CSS, the body, then the optional sort script."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><header><nav>{nav}</nav></header><main>{body}</main>"
        f"<footer><p>{footer}</p></footer><script>{SCRIPT}</script></body></html>\n"
    )


def slug(name: object) -> str:
    """A file-name-safe slug: [a-z0-9-] from the name plus a hash of the full name.

    Names come from strangers' run folders; the hash keeps "A", "a" and "a!" apart and the
    charset keeps every path inside the export (no "/", "..", or leading dot possible).
    """
    full = str(name)
    base = re.sub(r"[^a-z0-9]+", "-", full.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(full.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{base}-{digest}" if base else digest
