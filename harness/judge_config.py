"""Who judges and how: the judge model's arguments, the protocol, parse rule and prompt file.

`--judge-args` mixes two kinds of key: the judge's own (protocol, parse, prompt_file) and
the judge model's (model, base_url, seed, temperature, …). Every judge samples with seed
1337 and temperature 0 unless told otherwise, as SD-Eval's official judge does, so that a
score can be reproduced; both are recorded with the result and in every judge row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voxeval.adapter import ADAPTERS
from voxeval.errors import VoxevalError
from voxeval.secrets import redact

if TYPE_CHECKING:
    from voxeval.rubrics import Rubric
    from voxeval.task import Task

JUDGE_DEFAULTS: dict[str, Any] = {"seed": 1337, "temperature": 0.0}
DEFAULT_PROTOCOL = "voxeval"


class JudgeOptions(BaseModel):
    """The judge's own --judge-args; the rest go to the judge model."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built when a judge runs
    protocol: str = Field(
        DEFAULT_PROTOCOL,
        min_length=1,
        max_length=40,
        description="judging protocol: voxeval (default) or one the task declares (official)",
    )
    parse: Literal["agree", "first", "last", "sd-eval"] | None = Field(
        None, description="how a rating is read from a reply; default: the protocol's own"
    )
    prompt_file: Path | None = Field(
        None,
        description="a benchmark's own prompt file (.py read without running, .json, .yaml)",
    )


@dataclass
class JudgeConfig:
    """Which model judges, with what arguments, and how many samples per item."""

    adapter: str
    args: dict[str, Any] = field(default_factory=dict)
    n_samples: int = 1
    options: JudgeOptions = field(init=False)

    def __post_init__(self) -> None:
        own = {k: v for k, v in self.args.items() if k in JudgeOptions.model_fields}
        try:
            self.options = JudgeOptions(**own)
        except ValidationError as exc:
            problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
            raise VoxevalError(f"Bad --judge-args: {problems}.") from None
        model_args = {k: v for k, v in self.args.items() if k not in own}
        self.args = {**_defaults_for(self.adapter, model_args), **model_args}

    def identity(self) -> dict[str, Any]:
        """The settings that determine the judge's answers (no secrets, no speed knobs)."""
        speed = ADAPTERS.get(self.adapter).speed_args
        kept = {k: v for k, v in redact(self.args).items() if k not in speed}
        return {"adapter": self.adapter, "args": kept}

    def rubric_for(self, task: Task | type[Task]) -> Rubric:
        """The rubric this judge applies to `task`: protocol, then prompt file, then parse."""
        import dataclasses

        from voxeval.rubrics import RUBRICS

        rubric = RUBRICS.get(_rubric_name(task, self.options.protocol))
        if self.options.prompt_file is not None:
            from voxeval.prompt_file import rubric_from_file

            rubric = rubric_from_file(self.options.prompt_file, task.judge_prompt_key(), rubric)
        if self.options.parse is not None:
            rubric = dataclasses.replace(rubric, parse=self.options.parse)
        return rubric

    def sampling(self) -> dict[str, Any]:
        """The seed and temperature the judge model samples with (None: not set)."""
        return {"seed": self.args.get("seed"), "temperature": self.args.get("temperature")}


def _defaults_for(adapter: str, given: dict[str, Any]) -> dict[str, Any]:
    """JUDGE_DEFAULTS for the arguments this judge model has and the user did not give."""
    accepted = ADAPTERS.get(adapter).Args.model_fields
    return {k: v for k, v in JUDGE_DEFAULTS.items() if k in accepted and k not in given}


def _rubric_name(task: Task | type[Task], protocol: str) -> str:
    protocols = {DEFAULT_PROTOCOL: task.judge_rubric or "", **task.judge_protocols}
    if protocol not in protocols:
        raise VoxevalError(
            f"Task {task.name!r} has no judge protocol {protocol!r}; it has: "
            f"{', '.join(protocols)} (--judge-args protocol=NAME)."
        )
    return protocols[protocol]
