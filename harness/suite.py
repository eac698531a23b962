"""Suites: models × tasks from a YAML/JSON file or from the `run` flags, one pydantic schema.

A file is input, not state: it is read once, validated whole (every problem named by its
YAML path, e.g. `models[1].args.beam`), and only then does any model load. The checks
beyond the schema (names, adapter and task arguments) are in voxeval.suite_checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from voxeval.errors import VoxevalError

if TYPE_CHECKING:
    from voxeval.judge_config import JudgeConfig
    from voxeval.plan import RunConfig

MAX_SUITE_BYTES = 1 << 20  # a suite is a short list; a bigger file is a wrong path
MAX_NODES = 100_000  # YAML aliases can expand a small file into a huge tree
MAX_SHOWN = 20  # problems listed in one error

Name = Annotated[str, Field(min_length=1, max_length=200)]
Args = dict[str, JsonValue]
PathText = Annotated[str, Field(min_length=1, max_length=4096)]


class SuiteError(VoxevalError):
    """A suite file or suite flags that cannot be run; the message lists every problem."""


class _Strict(BaseModel):
    # Strict: a YAML string is not silently taken for a number; unknown keys are errors.
    model_config = ConfigDict(strict=True, extra="forbid")


class _Entry(_Strict):
    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        # `- faster-whisper` is short for `- name: faster-whisper`.
        return {"name": data} if isinstance(data, str) else data


class Resources(_Strict):
    """What one Ray worker of a model asks the cluster for (`executor: ray`)."""

    num_gpus: Annotated[float, Field(ge=0, le=1024, allow_inf_nan=False)] | None = None
    num_cpus: Annotated[float, Field(ge=0, le=4096, allow_inf_nan=False)] | None = None


class ModelEntry(_Entry):
    """One model: a registered adapter name and its arguments (as --model-args)."""

    name: Name
    args: Args = Field(default_factory=dict)
    resources: Resources | None = None


class TaskEntry(_Entry):
    """One task (or task group) and arguments for it alone (merged over task_args)."""

    name: Name
    args: Args = Field(default_factory=dict)


class JudgeEntry(_Entry):
    """The judge model, its arguments (as --judge-args) and ratings per item."""

    name: Name
    args: Args = Field(default_factory=dict)
    samples: Annotated[int, Field(ge=1, le=100)] = 1


class Suite(_Strict):
    """Models × tasks and how to run them; `voxeval run` flags build a one-model Suite."""

    models: list[ModelEntry] = Field(min_length=1, max_length=1000)
    tasks: list[TaskEntry] = Field(min_length=1, max_length=1000)
    task_args: Args = Field(default_factory=dict)
    judge: JudgeEntry | None = None
    limit: Annotated[int, Field(ge=1, le=10**9)] | None = None
    data_dir: PathText | None = None
    output_dir: PathText = "runs"
    max_error_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    wait: bool = False
    rerun: bool = False
    executor: Literal["local", "ray"] = "local"
    shards: Annotated[int, Field(ge=1, le=100_000)] = 1
    ray_address: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


def load_suite(path: Path) -> Suite:
    """Read, validate and check a suite file; paths written in it are relative to its folder."""
    path = Path(path).expanduser()
    source = f"Suite file {path}"
    data = _parse(_read(path, source), path, source)
    suite = validate_suite(data, source)
    from voxeval.suite_checks import check_suite

    fail(source, check_suite(suite))
    return _resolved(suite, path.absolute().parent)


def validate_suite(data: Any, source: str) -> Suite:
    """The Suite in already-parsed data; schema errors name their YAML path."""
    if not isinstance(data, dict):
        got = "nothing" if data is None else type(data).__name__
        raise SuiteError(f"{source}: expected a mapping with models: and tasks:, got {got}.")
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        from voxeval.suite_checks import schema_problems

        fail(source, schema_problems(exc))
    raise AssertionError("unreachable")


def fail(source: str, problems: list[tuple[str, str]]) -> None:
    """Raise one SuiteError listing `problems` as (YAML path, message); none: return."""
    if not problems:
        return
    if len(problems) == 1:
        where, what = problems[0]
        raise SuiteError(f"{source}: {where}: {what}" if where else f"{source}: {what}")
    lines = [f"  {where or '(top)'}: {what}" for where, what in problems[:MAX_SHOWN]]
    if len(problems) > MAX_SHOWN:
        lines.append(f"  … and {len(problems) - MAX_SHOWN} more")
    raise SuiteError(f"{source} has {len(problems)} problems:\n" + "\n".join(lines))


def _read(path: Path, source: str) -> str:
    # A link is refused so "relative to the file's folder" has one meaning.
    if path.is_symlink():
        raise SuiteError(f"{source} is a symbolic link; pass the file it points to.")
    if not path.exists():
        raise SuiteError(f"{source} does not exist; check the path given to --config.")
    if path.is_dir():
        raise SuiteError(f"{source} is a folder; pass a .yaml, .yml or .json file.")
    if not path.is_file():
        raise SuiteError(f"{source} is not a regular file; pass a .yaml, .yml or .json file.")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SUITE_BYTES + 1)
    except OSError as exc:
        raise SuiteError(f"{source} cannot be read: {exc.strerror or exc}.") from None
    if len(raw) > MAX_SUITE_BYTES:
        raise SuiteError(f"{source} is larger than 1 MiB; is it a suite file?")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SuiteError(f"{source} is not UTF-8 text; save it as UTF-8.") from None


def _parse(text: str, path: Path, source: str) -> Any:
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise SuiteError(f"{source}: name it .yaml, .yml or .json (got {suffix or 'no suffix'!r}).")
    try:
        data = _json(text) if suffix == ".json" else _yaml(text, source)
    except RecursionError:
        raise SuiteError(f"{source} is nested too deeply to be a suite.") from None
    except ValueError as exc:  # json's errors, and numbers too long to convert
        raise SuiteError(f"{source} is not valid {suffix[1:].upper()}: {exc}.") from None
    _check_size(data, source)
    return data


def _json(text: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:  # json keeps the last silently; a repeated `models` would lose entries
            raise ValueError(f"key {twice[0]!r} appears twice in one object")
        return dict(items)

    return json.loads(text, object_pairs_hook=pairs)


def _yaml(text: str, source: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise SuiteError(
            f"{source}: reading YAML needs PyYAML (pip install pyyaml); or write the suite "
            "as .json."
        ) from None
    try:
        _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader), source)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SuiteError(f"{source} is not valid YAML: {where}{problem}.") from None


def _refuse_repeated_keys(root: Any, source: str) -> None:
    """PyYAML keeps the last of two equal keys silently; name the repeat instead."""
    import yaml

    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            for key in keys:
                if key != "<<" and keys.count(key) > 1:
                    line = node.start_mark.line + 1
                    raise SuiteError(
                        f"{source}: key {key!r} appears twice in the mapping at line {line}; "
                        "keep one."
                    )
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_size(data: Any, source: str) -> None:
    """Refuse trees of more than MAX_NODES values (an alias can repeat a subtree)."""
    stack, count = [data], 0
    while stack:
        value = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise SuiteError(f"{source} expands to more than {MAX_NODES} values; simplify it.")
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _resolved(suite: Suite, base: Path) -> Suite:
    """Paths written in the file, made absolute against its folder (~ expanded)."""

    def absolute(text: str) -> str:
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else base / path)

    update: dict[str, Any] = {}
    for key in ("data_dir", "output_dir"):
        if key in suite.model_fields_set and getattr(suite, key) is not None:
            update[key] = absolute(getattr(suite, key))
    judge = suite.judge
    if judge is not None and isinstance(judge.args.get("prompt_file"), str):
        args = {**judge.args, "prompt_file": absolute(str(judge.args["prompt_file"]))}
        update["judge"] = judge.model_copy(update={"args": args})
    return suite.model_copy(update=update)


def cli_values(value: Any) -> Any:
    """A YAML/JSON value as `--model-args` would give it: scalars become their command-line
    text (true, 10, 0.5), so a file and the equivalent flags make the same run."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError:  # an int too long to print: the argument's check refuses it
            return value
    if isinstance(value, dict):
        return {k: cli_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cli_values(v) for v in value]
    return value


def judge_config(judge: JudgeEntry | None) -> JudgeConfig | None:
    """The runner's JudgeConfig for a suite's judge entry."""
    if judge is None:
        return None
    from voxeval.judge_config import JudgeConfig

    return JudgeConfig(judge.name, cli_values(judge.args), judge.samples)


def run_configs(suite: Suite) -> list[RunConfig]:
    """One RunConfig per model, in the suite's order (each lands in output_dir/<model>/)."""
    from voxeval.plan import RunConfig

    by_task = per_task_args(suite.tasks)
    judge = judge_config(suite.judge)
    return [
        RunConfig(
            model=model.name,
            tasks=[t.name for t in suite.tasks],
            model_args=cli_values(model.args),
            limit=suite.limit,
            data_dir=Path(suite.data_dir) if suite.data_dir else None,
            task_args=cli_values(suite.task_args),
            task_args_by_task=by_task,
            output_dir=Path(suite.output_dir),
            judge=judge,
            wait=suite.wait,
            rerun=suite.rerun,
            executor=suite.executor,
            shards=suite.shards,
            ray_address=suite.ray_address,
            resources=model.resources.model_dump(exclude_none=True) if model.resources else None,
        )
        for model in suite.models
    ]


def per_task_args(tasks: list[TaskEntry]) -> dict[str, dict[str, Any]]:
    """Each entry's args by real task name: a group's go to each member that takes them."""
    with_args = [t for t in tasks if t.args]
    if not with_args:
        return {}
    from voxeval.task import TASKS, expand_task_names

    out: dict[str, dict[str, Any]] = {}
    for entry in with_args:
        for name in expand_task_names([entry.name]):
            fields = TASKS.get(name).Options.model_fields
            taken = {k: cli_values(v) for k, v in entry.args.items() if k in fields}
            if taken:
                out[name] = taken
    return out
