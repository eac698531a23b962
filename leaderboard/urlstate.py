"""Widgets kept in the URL, and safe links: what makes a shared leaderboard link exact.

Streamlit's own `bind="query-params"` drops a value equal to the widget's default from the
URL and silently ignores a value it does not know, so a copied link stops reproducing the
view once a default changes, and a mistyped `?model=` shows another model without a word.
These helpers read and write `st.query_params` themselves: every value is written back
explicitly (defaults included) and a value a link names that is not on offer is answered
with a visible message naming it and the valid choices.

Values from results (model names, tasks, sample ids) are untrusted text: messages escape
them with `escape_markdown`, and links are shown only when `safe_link` accepts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import streamlit as st
from streamlit.errors import StreamlitAPIException

WRITTEN = "_voxeval_url_written"  # session key: what this session last wrote per parameter
RUN = "_voxeval_url_run"  # session key: the parameters the current run wants in the URL
MAX_LISTED = 12  # choices named in a message; a long model list is cut after this many
FLAGS = {"true": True, "false": False}
Widget = Callable[..., Any]


def escape_markdown(text: str) -> str:
    """Free text made literal for elements that render markdown (alerts, captions)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])", r"\\\1", str(text))


def safe_link(url: object) -> str | None:
    """`url` when it is an absolute http(s) URL with a host, else None (never a link)."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    # urlsplit quietly drops tabs and newlines ("java\tscript:"); refuse them outright.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. a malformed IPv6 host or port
        return None
    # "https://good.org@evil.org" reads as good.org but goes to evil.org: no user info.
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return url


def _written() -> dict[str, tuple[str | None, list[str]]]:
    """Per parameter: the page that last wrote it and the values written."""
    return st.session_state.setdefault(WRITTEN, {})


def begin_run(page: str) -> None:
    """Start collecting this run's view parameters (written at once by `finish_run`)."""
    st.session_state[RUN] = {"page": page, "wanted": {}, "drop": set()}


def _run() -> dict[str, Any] | None:
    return st.session_state.get(RUN)


def _page() -> str | None:
    run = _run()
    return run["page"] if run else None


def drop(key: str) -> None:
    """Take `key` out of the URL (e.g. an old alias that another parameter replaced)."""
    run = _run()
    if run is not None:
        run["drop"].add(key)
        return
    _written().pop(key, None)
    if key in st.query_params:
        del st.query_params[key]


def _want(key: str, values: list[str]) -> None:
    """Put `values` in the URL under `key`, explicitly, even when they are the default."""
    run = _run()
    if run is not None:  # recorded as written only once finish_run has written it
        run["wanted"][key] = list(values)
        return
    _written()[key] = (None, list(values))
    if st.query_params.get_all(key) != values:
        st.query_params[key] = _one(values)


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def finish_run() -> None:
    """Write the run's parameters in one go and drop managed ones this view does not use.

    Every st.query_params change adds a browser history entry, so one write per run keeps
    the back button one step per view change (the first visit adds one, filling defaults).
    """
    run = st.session_state.pop(RUN, None)
    if run is None:
        return
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    unused = {k for k in _written() if k not in run["wanted"]} | run["drop"]
    for key in unused:
        _written().pop(key, None)
    for key, values in run["wanted"].items():
        _written()[key] = (run["page"], values)
    new = {k: v for k, v in current.items() if k not in unused} | run["wanted"]
    if new == current:
        return
    try:
        st.query_params.from_dict({k: _one(v) for k, v in new.items()})
    except StreamlitAPIException:  # a widget with bind="query-params" owns its parameter
        for key in (k for k in current if k not in new):
            del st.query_params[key]
        st.query_params.update({k: _one(v) for k, v in new.items() if current.get(k) != v})


def _url_values(key: str) -> tuple[list[str] | None, bool]:
    """The URL's values for `key` and whether they are new (a link, not this session's write)."""
    if key not in st.query_params:
        return None, False
    values = st.query_params.get_all(key)
    record = _written().get(key)
    return values, record is None or record[1] != values


def _listing(options: Sequence[Any]) -> str:
    names = [f"'{escape_markdown(str(o))}'" for o in options[:MAX_LISTED]]
    more = len(options) - MAX_LISTED
    return ", ".join(names) + (f" … and {more} more" if more > 0 else "")


def choose_from(options: Sequence[Any]) -> str:
    """The hint of an unknown-value message: the valid choices, escaped."""
    return f"choose one of {_listing(options)}" if options else "there is nothing to choose here"


def unknown_in_link(what: str, key: str, values: list[str], hint: str) -> None:
    """An error naming the values a link gave for `?key=` (our own name) that are not valid."""
    st.error(
        f"Unknown {escape_markdown(what)} {_quoted(values)} in the link (`?{key}=`): {hint}.",
        icon=":material/link_off:",
    )


def _quoted(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(f"'{escape_markdown(str(v))}'" for v in values) or "none"


def _gone(what: str, old: Any, new: Any) -> None:
    """A note that the previous choice is not in this view any more (filters, task …)."""
    st.info(
        f"{escape_markdown(what[:1].upper() + what[1:])} {_quoted(old)} is not available in "
        f"this view; showing {_quoted(new)}."
    )


def _settle(
    key: str,
    decode: Callable[[list[str]], tuple[Any, list[str]]],
    valid: Callable[[Any], Any],
    *,
    what: str,
    default: Any,
    hint: str,
) -> None:
    """Set the widget's value before it is drawn: link, widget state, URL, default.

    Once per run and key: a widget settled early (`draw=False`, so a page can use its value
    before the widget is drawn further down or in the sidebar) is not settled again.
    """
    run = _run()
    settled = run.setdefault("settled", set()) if run is not None else set()
    if key in settled:
        return
    settled.add(key)
    # A link (URL values this session did not write) wins; then what the widget holds; then
    # the URL as this session last wrote it (the widget was not drawn on the last page).
    values, fresh = _url_values(key)
    if fresh:
        value, unknown = decode(values)
        if unknown:
            unknown_in_link(what, key, unknown, hint)
    elif key in st.session_state:
        value = valid(st.session_state[key])
        record = _written().get(key)
        # Only a choice made on this page gets a note; another page's is simply not used.
        if value != st.session_state[key] and record is not None and record[0] == _page():
            _gone(what, st.session_state[key], value)
    elif values is not None:
        value = decode(values)[0]
    else:
        value = default
    st.session_state[key] = value


def _widget(name: str, container: Any) -> Widget:
    return getattr(container if container is not None else st, name)


def url_choice(
    label: str,
    options: Sequence[Any],
    key: str,
    default: Any = None,
    *,
    what: str | None = None,
    widget: str = "selectbox",
    container: Any = None,
    draw: bool = True,
    **kwargs: Any,
) -> Any:
    """One of `options` (selectbox, radio or select_slider) kept in the URL as `?key=`.

    None when there are no options; a link naming a value that is not an option gets an
    error naming it, and the default is shown under it. With draw=False the value is only
    settled (and returned): a later call in the same run draws the widget.
    """
    what = what or label.lower()
    if not options:
        values, fresh = _url_values(key)
        if fresh and values and values != [""]:
            unknown_in_link(what, key, values, choose_from([]))
        drop(key)
        return None
    options = list(options)
    by_text = {str(o): o for o in options}
    fallback = default if default in options else options[0]

    def decode(values: list[str]) -> tuple[Any, list[str]]:
        raw = values[-1] if values else ""
        return (by_text[raw], []) if raw in by_text else (fallback, [raw])

    def valid(value: Any) -> Any:
        return value if value in options else fallback

    _settle(key, decode, valid, what=what, default=fallback, hint=choose_from(options))
    if not draw:
        return st.session_state[key]
    chosen = _widget(widget, container)(label, options, key=key, **kwargs)
    _want(key, [str(chosen)])
    return chosen


def url_tabs(labels: dict[str, str], key: str, default: str, *, what: str) -> tuple[str, Any]:
    """Tabs kept in the URL as `?key=<name>` (labels maps name → tab label, unique): the open
    tab's name and container. Only the open tab's content need be drawn: a switch reruns."""
    names = list(labels)
    by_label = {label: name for name, label in labels.items()}
    fallback = labels[default if default in labels else names[0]]

    def decode(values: list[str]) -> tuple[str, list[str]]:
        raw = values[-1] if values else ""
        return (labels[raw], []) if raw in labels else (fallback, [raw])

    def valid(value: Any) -> str:
        return value if value in by_label else fallback

    _settle(key, decode, valid, what=what, default=fallback, hint=choose_from(names))
    tabs = st.tabs(list(labels.values()), key=key, on_change="rerun")
    chosen = by_label[valid(st.session_state[key])]
    _want(key, [chosen])
    return chosen, tabs[names.index(chosen)]


def url_multi(
    label: str,
    options: Sequence[Any],
    key: str,
    default: Sequence[Any] = (),
    *,
    what: str | None = None,
    container: Any = None,
    draw: bool = True,
    **kwargs: Any,
) -> list[Any]:
    """A multiselect kept in the URL (`?key=a&key=b`; an explicit `?key=` is none); see
    url_choice for draw=False."""
    what = what or label.lower()
    options = list(options)
    by_text = {str(o): o for o in options}
    fallback = [o for o in default if o in options]

    def decode(values: list[str]) -> tuple[list[Any], list[str]]:
        wanted = [v for v in values if v != ""]
        unknown = [v for v in wanted if v not in by_text]
        return list(dict.fromkeys(by_text[v] for v in wanted if v in by_text)), unknown

    def valid(value: Any) -> list[Any]:
        return [v for v in value if v in options] if isinstance(value, list) else fallback

    _settle(key, decode, valid, what=what, default=fallback, hint=choose_from(options))
    if not draw:
        return list(st.session_state[key])
    chosen = _widget("multiselect", container)(label, options, key=key, **kwargs)
    _want(key, [str(c) for c in chosen] or [""])
    return list(chosen)


def url_flag(
    label: str,
    key: str,
    default: bool = False,
    *,
    widget: str = "toggle",
    container: Any = None,
    draw: bool = True,
    **kwargs: Any,
) -> bool:
    """A toggle or checkbox kept in the URL as `?key=true|false`; see url_choice for
    draw=False."""

    def decode(values: list[str]) -> tuple[bool, list[str]]:
        raw = values[-1] if values else ""
        flag = FLAGS.get(raw.lower())
        return (default, [raw]) if flag is None else (flag, [])

    def valid(value: Any) -> bool:
        return value if isinstance(value, bool) else default

    hint = "use 'true' or 'false'"
    _settle(key, decode, valid, what="value", default=default, hint=hint)
    if not draw:
        return bool(st.session_state[key])
    chosen = bool(_widget(widget, container)(label, key=key, **kwargs))
    _want(key, ["true" if chosen else "false"])
    return chosen


def url_number(
    label: str,
    key: str,
    default: int,
    *,
    min_value: int,
    max_value: int,
    container: Any = None,
    **kwargs: Any,
) -> int:
    """A whole-number input kept in the URL as `?key=N` (min_value ≤ N ≤ max_value)."""

    def decode(values: list[str]) -> tuple[int, list[str]]:
        raw = values[-1] if values else ""
        number = int(raw) if re.fullmatch(r"\d{1,9}", raw) else None
        ok = number is not None and min_value <= number <= max_value
        return (number, []) if ok else (default, [raw])

    def valid(value: Any) -> int:
        ok = isinstance(value, int) and min_value <= value <= max_value
        return value if ok else default

    hint = f"give a whole number from {min_value} to {max_value}"
    _settle(key, decode, valid, what="value", default=default, hint=hint)
    chosen = _widget("number_input", container)(
        label, min_value=min_value, max_value=max_value, step=1, key=key, **kwargs
    )
    _want(key, [str(int(chosen))])
    return int(chosen)
