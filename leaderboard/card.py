"""The model card `voxeval publish --card` stores as card.json beside a published run."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from voxeval.leaderboard.identity import parse_parameters


class ModelCard(BaseModel):
    """What the leaderboard shows about a model beyond run.json; every field optional."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, description="name shown on the board")
    parameters: int | float | str | None = Field(None, description='count or "244M", "7B"')
    open_weights: bool | None = Field(None, description="weights downloadable")
    licence: str | None = Field(None, validation_alias=AliasChoices("licence", "license"))
    hardware: str | None = Field(None, description="what the run ran on")
    architecture: Literal["cascade", "end-to-end"] | None = None
    url: str | None = Field(None, description="model page (http or https)")
    paper: str | None = Field(None, description="the model's paper (http or https)")

    @field_validator("parameters")
    @classmethod
    def _size(cls, value: int | float | str | None) -> int | float | str | None:
        if value is not None and parse_parameters(value) is None:
            raise ValueError('give a positive count or a size such as "244M" or "7B"')
        return value

    @field_validator("url", "paper")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value
