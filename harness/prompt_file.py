"""A judge prompt from the user's own file (e.g. a benchmark's prompts.py), never executed.

voxeval ships no copy of anyone's prompt text; a user who has a benchmark's prompts points
`--judge-args prompt_file=PATH` at them. Accepted files:

- Python (`.py`), read with `ast` and never run: module-level string assignments and a dict
  that maps the task's key (SD-Eval: "test-emo", …) to {"sys": NAME, "user_input": NAME}
  (values may be names of those strings or the strings themselves).
- JSON or YAML: {"system": ..., "user": ...}, or a mapping from the task's key to such a
  pair ("sys"/"user_input" are accepted as the same keys).

Placeholders in the user message name the task's judge fields ({statement}, {label},
{response}, …); `{info}` (SD-Eval's name for the label) means {label}.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import stat
import string
from pathlib import Path
from typing import Any

from voxeval.errors import VoxevalError
from voxeval.rubrics import Rubric

MAX_PROMPT_FILE_BYTES = 2**20
ALIASES = {"info": "label"}
SYSTEM_KEYS, USER_KEYS = ("system", "sys"), ("user", "user_input")


class PromptFileError(VoxevalError):
    """A prompt file that cannot be used: the message names the file and what to change."""


def rubric_from_file(path: Path, key: str, base: Rubric) -> Rubric:
    """`base` with its system and user prompts taken from the file's entry for `key`."""
    raw = _read(Path(path))
    entries = _entries(path, raw.decode("utf-8", errors="strict"))
    system, user = _pick(path, entries, key)
    template = _template(path, user, base)
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return dataclasses.replace(
        base,
        name=f"{base.name}+file",
        version=f"file:{Path(path).name}:sha256:{digest}",
        description=f"{base.description}; prompts from {Path(path).name} [{key}]",
        system=system,
        template=template,
    )


def _read(path: Path) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise PromptFileError(f"Judge prompt file {path} does not exist.") from None
    except OSError as exc:
        why = "it is a symbolic link (pass the file itself)" if path.is_symlink() else exc
        raise PromptFileError(f"Cannot read judge prompt file {path}: {why}.") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise PromptFileError(f"Judge prompt file {path} is not a regular file.")
        data = fh.read(MAX_PROMPT_FILE_BYTES + 1)
    if len(data) > MAX_PROMPT_FILE_BYTES:
        raise PromptFileError(f"Judge prompt file {path} is larger than 1 MiB; is it a prompt?")
    return data


def _entries(path: Path, text: str) -> Any:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".py":
            return _python_entries(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
    except (SyntaxError, ValueError) as exc:
        raise PromptFileError(f"Judge prompt file {path} does not parse: {exc}.") from None
    except ImportError:
        raise PromptFileError("Reading YAML needs PyYAML: pip install pyyaml.") from None
    raise PromptFileError(
        f"Judge prompt file {path}: use a .py, .json, .yaml or .yml file (got {suffix!r})."
    )


def _python_entries(text: str) -> dict[str, Any]:
    """Module-level names bound to strings, or to dicts of strings and such names."""
    names: dict[str, Any] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                value = _literal(node.value, names)
                if value is not None:
                    names[target.id] = value
    return names


def _literal(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        pairs = {k.value: _literal(v, names) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[union-attr]
        return {k: v for k, v in pairs.items() if v is not None}
    return None


def _pick(path: Path, entries: Any, key: str) -> tuple[str, str]:
    """(system, user) for `key`: a top-level pair, or the pair under `key` in any mapping."""
    pair = _pair(entries)
    if pair:
        return pair
    found = _keyed(entries, key)
    if found:
        return found
    raise PromptFileError(
        f"Judge prompt file {path} has no prompt for {key!r}: give it a mapping with the key "
        f"{key!r} holding a system ({'/'.join(SYSTEM_KEYS)}) and a user "
        f"({'/'.join(USER_KEYS)}) prompt, or one such pair at the top level."
    )


def _pair(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return None
    system = next((value[k] for k in SYSTEM_KEYS if isinstance(value.get(k), str)), None)
    user = next((value[k] for k in USER_KEYS if isinstance(value.get(k), str)), None)
    return (system, user) if system is not None and user is not None else None


def _keyed(entries: Any, key: str) -> tuple[str, str] | None:
    if not isinstance(entries, dict):
        return None
    if key in entries:
        return _pair(entries[key])
    for value in entries.values():  # e.g. SD-Eval's `prompts = {"test-emo": {...}, ...}`
        if isinstance(value, dict) and key in value:
            return _pair(value[key])
    return None


def _template(path: Path, user: str, base: Rubric) -> str:
    """The user prompt with aliases renamed; every placeholder must be a judge field."""
    allowed = {*base.fields, "response"}
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(user) if name is not None]
    except ValueError as exc:
        raise PromptFileError(
            f"Judge prompt file {path}: the user prompt's braces do not parse ({exc}); write "
            "a literal brace as {{ or }}."
        ) from None
    renamed = [ALIASES.get(name, name) for name in fields]
    unknown = sorted({f for f in renamed if f not in allowed})
    if unknown:
        raise PromptFileError(
            f"Judge prompt file {path}: unknown placeholder(s) {', '.join(unknown)}; this task "
            f"fills {', '.join(sorted(allowed | set(ALIASES)))} ({{info}} means {{label}})."
        )
    if "response" not in renamed:
        raise PromptFileError(
            f"Judge prompt file {path}: the user prompt has no {{response}}, so the judge "
            "would never see the reply it rates."
        )
    return _rebuilt(user)


def _rebuilt(user: str) -> str:
    """The template again, with each alias placeholder renamed and literal braces kept."""
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(user):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is not None:
            field = ALIASES.get(name, name) + (f"!{conversion}" if conversion else "")
            parts.append("{" + field + (f":{spec}" if spec else "") + "}")
    return "".join(parts)
