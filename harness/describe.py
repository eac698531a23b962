"""Argument tables for `voxeval list models NAME` and `list tasks NAME`, from pydantic fields."""

from __future__ import annotations

import json
import types
from collections.abc import Iterable
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def type_text(annotation: Any) -> str:
    """A short readable type: `int`, `str | None`, `auto|cpu|cuda`, `dict[str, str]`."""
    if annotation is None or annotation is type(None):
        return "None"
    origin = get_origin(annotation)
    if origin is Literal:
        return "|".join(str(a) for a in get_args(annotation))
    if origin is Union or origin is types.UnionType:
        return " | ".join(type_text(a) for a in get_args(annotation))
    if origin is not None:
        inner = ", ".join(type_text(a) for a in get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(m.value) for m in annotation)
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _bounds(metadata: list[Any]) -> str:
    found = [
        f"{sign}{getattr(m, attr)}"
        for m in metadata
        for attr, sign in BOUNDS
        if getattr(m, attr, None) is not None
    ]
    return f" ({', '.join(found)})" if found else ""


def argument_rows(model: type[BaseModel], last: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One row per field: name, type, default (JSON value), required, description ("" if none).

    Required fields come first and the fields named in `last` (e.g. the base class's
    batch_size) at the end; the rest keep their declaration order.
    """
    rows = []
    fields = model.model_fields
    order = sorted(fields, key=lambda n: (not fields[n].is_required(), n in set(last)))
    for name in order:
        field = fields[name]
        required = field.is_required()
        default = None
        if not required:
            try:
                default = to_jsonable_python(field.get_default(call_default_factory=True))
            except Exception:  # a factory that needs other values, or an odd default
                default = None
        rows.append(
            {
                "name": field.alias or name,
                "type": type_text(field.annotation) + _bounds(field.metadata),
                "default": default,
                "required": required,
                "description": field.description or "",
            }
        )
    return rows


def default_text(row: dict[str, Any]) -> str:
    """The default as one would write it in k=v form ("required" when there is none)."""
    value = row["default"]
    if row["required"]:
        return "(required)"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value if value else '""'
    return str(value) if isinstance(value, int | float) else json.dumps(value)


def _value_text(value: Any, indent: int) -> str:
    """A list on one line when short, else one item per line under the first."""
    if not isinstance(value, list):
        return str(value)
    joined = ", ".join(map(str, value))
    return joined if len(joined) <= 80 else ("\n" + " " * indent).join(map(str, value))


def format_details(info: dict[str, Any], flag: str | None) -> str:
    """Header lines (every key but name and args), then the argument table (if a flag)."""
    from voxeval.summary import format_table

    head = {k: v for k, v in info.items() if k not in ("name", "args")}
    width = max(map(len, head), default=0)
    lines = [info["name"]]
    lines += [f"  {key.ljust(width)}  {_value_text(v, width + 4)}" for key, v in head.items()]
    if flag is None:
        return "\n".join(lines)
    rows = [
        {
            "name": r["name"],
            "type": r["type"],
            "default": default_text(r),
            "description": r["description"],
        }
        for r in info["args"]
    ]
    lines += ["", f"{flag} (key=value,key=value):" if rows else f"{flag}: none"]
    if rows:
        lines.append(format_table(rows))
    return "\n".join(lines)
