"""A suite's checks beyond its schema, each problem as (YAML path, what is wrong and what to do):
registered names, adapter and task arguments, the judge, model/task kinds, reserved keys."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from voxeval.errors import VoxevalError
from voxeval.suite import JudgeEntry, ModelEntry, Suite, cli_values

Problem = tuple[str, str]
LOCAL = "and this suite runs locally"


def yaml_path(loc: tuple[Any, ...]) -> str:
    """("models", 1, "args", "beam") → "models[1].args.beam" (long keys shortened)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":  # pydantic's marker: the key itself is wrong, not its value
            out += " (key)"
        else:
            text = str(part) if len(str(part)) <= 60 else str(part)[:57] + "…"
            out += f".{text}" if out else text
    return out if len(out) <= 120 else out[:119] + "…"


def schema_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems, with allowed keys and suggestions for unknown ones."""
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden":
            allowed = list(getattr(_schema_at(loc[:-1]), "model_fields", {}))
            problems.append((yaml_path(loc), _unknown(str(loc[-1]), allowed, "docs/suites.md")))
        else:
            problems.append((yaml_path(loc), _SCHEMA_HINTS.get(err["type"], _msg(err))))
    return problems


_SCHEMA_HINTS = {
    "missing": "required key is missing",
    "model_type": "expected a mapping such as {name: NAME, args: {...}}, or a bare name",
    "dict_type": "expected a mapping (key: value)",
    "list_type": "expected a list (one `- item` per line)",
    "too_short": "the list is empty; name at least one (voxeval list models / list tasks)",
    "invalid-json-value": "not a plain YAML/JSON value (dates, sets, binary: quote it as text)",
}


def _msg(err: Any) -> str:
    return str(err["msg"]).removeprefix("Value error, ")


def _schema_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema model that owns the mapping at `loc` (for its allowed keys)."""
    cls: type[BaseModel] | None = Suite
    for part in loc:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(str(part)) if cls else None
        cls = _model_in(field.annotation) if field else None
    return cls


def _model_in(annotation: Any) -> type[BaseModel] | None:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, (_model_in(a) for a in get_args(annotation))), None)


def _unknown(key: str, allowed: list[str], see: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(allowed) or "none"
    return f"unknown key; {hint}allowed here: {listed} (see {see})"


def check_suite(suite: Suite) -> list[Problem]:
    """Everything the schema cannot see: names, arguments, reserved keys, model/task kinds."""
    problems = _reserved(suite)
    model_problems, adapters = _models(suite.models)
    task_problems, tasks = _tasks(suite)
    problems += model_problems + task_problems + _judge(suite.judge)
    for i, cls in enumerate(adapters):
        for j, classes in enumerate(tasks):
            for task in classes:
                if cls is not None and task.kind not in cls.supports:
                    problems.append(
                        (
                            f"models[{i}]",
                            f"{cls.name!r} cannot run tasks[{j}] ({task.name}, kind "
                            f"{task.kind}); it supports {', '.join(sorted(cls.supports))}. "
                            "Put them in separate suites.",
                        )
                    )
    return list(dict.fromkeys(problems))  # a shared task arg can fail once per task


def _reserved(suite: Suite) -> list[Problem]:
    """Keys that only mean something with executor: ray."""
    if suite.executor == "ray":
        return []
    out = []
    if suite.ray_address is not None:
        out.append(("ray_address", f"it is for executor: ray, {LOCAL}; remove it"))
    for i, model in enumerate(suite.models):
        if model.resources is not None:
            out.append((f"models[{i}].resources", f"it is for executor: ray, {LOCAL}; remove it"))
    return out


def _lookup(registry: Any, name: str, where: str, out: list[Problem]) -> Any:
    try:
        return registry.get(name)
    except VoxevalError as exc:  # "Unknown model 'x'. Did you mean 'y'? ..."
        out.append((where, str(exc)))
        return None


def _models(models: list[ModelEntry]) -> tuple[list[Problem], list[Any]]:
    from voxeval.adapter import ADAPTERS

    out: list[Problem] = []
    classes, seen = [], {}
    for i, model in enumerate(models):
        same = json.dumps([model.name, model.args], sort_keys=True, default=str)
        if same in seen:
            out.append((f"models[{i}]", f"repeats models[{seen[same]}]; list each model once"))
        seen.setdefault(same, i)
        cls = _lookup(ADAPTERS, model.name, f"models[{i}].name", out)
        classes.append(cls)
        if cls is not None:
            out += adapter_arg_problems(cls, cli_values(model.args), f"models[{i}].args")
    return out, classes


def adapter_arg_problems(cls: Any, raw: dict[str, Any], where: str) -> list[Problem]:
    """An adapter's Args checked with paths; then its constructor's own checks."""
    see = f"`voxeval list models {cls.name}`"
    try:
        cls.Args(**raw)
    except ValidationError as exc:
        allowed = list(cls.Args.model_fields)
        return [
            (
                yaml_path((where, *err["loc"])),
                _unknown(str(err["loc"][-1]), allowed, see)
                if err["type"] == "extra_forbidden"
                else f"{_msg(err)} (see {see})",
            )
            for err in exc.errors()
        ]
    try:
        cls.from_args(raw)
    except VoxevalError as exc:
        text = str(exc).replace(f"Bad --model-args for {cls.name!r}: ", "", 1)
        return [(where, f"{text} (see {see})")]
    return []


def _tasks(suite: Suite) -> tuple[list[Problem], list[list[Any]]]:
    from voxeval.task import TASKS, expand_task_names

    out: list[Problem] = []
    members: list[list[Any]] = []
    owner: dict[str, int] = {}
    for i, entry in enumerate(suite.tasks):
        if _lookup(TASKS, entry.name, f"tasks[{i}].name", out) is None:
            members.append([])
            continue
        names = expand_task_names([entry.name])
        for name in names:
            if name in owner:
                out.append((f"tasks[{i}]", f"{name!r} is already in tasks[{owner[name]}]"))
            owner.setdefault(name, i)
        members.append([TASKS.get(name) for name in names])
        out += _task_args(entry.args, suite.task_args, members[-1], f"tasks[{i}]")
    every = [cls for classes in members for cls in classes]
    if every:
        taken = sorted({f for cls in every for f in cls.Options.model_fields})
        for key in suite.task_args:
            if key not in taken:
                see = "`voxeval list tasks NAME`"
                out.append((f"task_args.{key}", _unknown(key, taken, see) + "; no task takes it"))
    return out, members


def _task_args(
    own: dict[str, Any], shared: dict[str, Any], classes: list[Any], where: str
) -> list[Problem]:
    """One entry's args: each taken by its task (or a group member), values valid."""
    see = f"`voxeval list tasks {classes[0].name}`"
    taken = sorted({f for cls in classes for f in cls.Options.model_fields})
    out = [(f"{where}.args.{k}", _unknown(k, taken, see)) for k in own if k not in taken]
    merged = {**cli_values(shared), **cli_values(own)}
    for cls in classes:
        given = {k: v for k, v in merged.items() if k in cls.Options.model_fields}
        try:
            cls.Options(**given)
        except ValidationError as exc:
            for err in exc.errors():
                base = f"{where}.args" if err["loc"] and err["loc"][0] in own else "task_args"
                message = f"{_msg(err)} (task {cls.name}; see `voxeval list tasks {cls.name}`)"
                out.append((yaml_path((base, *err["loc"])), message))
    return out


def _judge(judge: JudgeEntry | None) -> list[Problem]:
    if judge is None:
        return []
    from voxeval.adapter import ADAPTERS
    from voxeval.judge_config import JudgeOptions

    out: list[Problem] = []
    cls = _lookup(ADAPTERS, judge.name, "judge.name", out)
    if cls is None:
        return out
    if "dialogue" not in cls.supports:
        kinds = ", ".join(sorted(cls.supports))
        return [("judge.name", f"{judge.name!r} cannot judge: it answers {kinds}, not text.")]
    raw = cli_values(judge.args)
    own = {k: v for k, v in raw.items() if k in JudgeOptions.model_fields}
    try:
        JudgeOptions(**own)
    except ValidationError as exc:
        out += [(yaml_path(("judge.args", *e["loc"])), _msg(e)) for e in exc.errors()]
    rest = {k: v for k, v in raw.items() if k not in own}
    return out + adapter_arg_problems(cls, rest, "judge.args")
