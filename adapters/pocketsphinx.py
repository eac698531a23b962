"""pocketsphinx: CMU's small offline recogniser with its bundled US-English model.

Decoder options go through `config`: any pocketsphinx `Config` key (see
`pocketsphinx.Config().describe()`), e.g. `--model-args config.lw=9,config.beam=1e-60`
or, from Python, `config={"lw": 9.0, "bestpath": False}`. Values are converted to the
type pocketsphinx declares for the key (bools accept true/false/yes/no/1/0), and an
unknown key, a value of the wrong type, or a key the adapter owns (samprate: audio is
16 kHz; hmm/lm/dict: use the `hmm`, `lm` and `dictionary` options) fails with an error
naming it. The overrides are recorded in `model_info()["config"]`.

No batching: a pocketsphinx Decoder searches one utterance at a time, so a batch is
decoded clip by clip (batch_size only sets how many clips the runner hands over at once).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib import metadata
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator, model_validator

from voxeval.adapter import Adapter, AdapterArgs, TaskContext, prefixed_args
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind

OWNED_KEYS = {
    "samprate": "the adapter feeds 16 kHz audio",
    "hmm": "use the `hmm` option",
    "lm": "use the `lm` option",
    "dict": "use the `dictionary` option",
}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


class PocketsphinxArgs(AdapterArgs):
    """Options of the pocketsphinx adapter (paths default to the bundled en-us model)."""

    hmm: str | None = Field(None, description="acoustic model folder; None: bundled en-us")
    lm: str | None = Field(None, description="language model file; None: bundled en-us")
    dictionary: str | None = Field(
        None, description="pronunciation dictionary (pocketsphinx's dict); None: bundled"
    )
    config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="other pocketsphinx Config keys, as config.KEY=VALUE"
    )

    @model_validator(mode="before")
    @classmethod
    def _dotted_config(cls, data: Any) -> Any:
        # `--model-args` is flat key=value, so `config.lw=9` stands for config={"lw": "9"}.
        dotted = prefixed_args(data, "config") if isinstance(data, dict) else {}
        if not dotted:
            return data
        rest = {k: v for k, v in data.items() if not str(k).startswith("config.")}
        return rest | {"config": dict(rest.get("config") or {}) | dotted}

    @field_validator("config")
    @classmethod
    def _plain_keys(cls, config: dict[str, Any]) -> dict[str, Any]:
        # pocketsphinx's own command line spells keys "-lw"; both mean the same key.
        return {key.lstrip("-"): value for key, value in config.items()}


def coerce_option(key: str, value: Any, kind: type) -> str | int | float | bool:
    """`value` as the type pocketsphinx declares for `key`; VoxevalError naming it if not."""
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in TRUE_WORDS | FALSE_WORDS:
                return word in TRUE_WORDS
            raise ValueError
        if isinstance(value, bool):  # True would silently become 1 or 1.0
            raise ValueError
        if kind is int:
            return int(value) if isinstance(value, int) else int(str(value).strip())
        if kind is float:
            return float(value)
        return str(value)
    except ValueError:
        raise VoxevalError(
            f"pocketsphinx: config.{key}={value!r} is not a valid {kind.__name__}."
        ) from None


def decoder_config(args: PocketsphinxArgs) -> Any:
    """A pocketsphinx Config with the adapter's paths and the validated overrides."""
    from pocketsphinx import Config

    config = Config(samprate=16000, loglevel="FATAL")
    for key, option in (("hmm", "hmm"), ("lm", "lm"), ("dictionary", "dict")):
        if getattr(args, key):
            config[option] = getattr(args, key)
    kinds = {arg.name: arg.type for arg in config.describe()}
    for key, value in args.config.items():
        if key in OWNED_KEYS:
            raise VoxevalError(f"pocketsphinx: config.{key} is not allowed: {OWNED_KEYS[key]}.")
        if key not in kinds:
            close = difflib.get_close_matches(key, kinds, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise VoxevalError(f"pocketsphinx: unknown config key {key!r}.{hint}")
        config[key] = coerce_option(key, value, kinds[key])
    return config


class PocketsphinxAdapter(Adapter):
    """Offline ASR with pocketsphinx 5 and its bundled en-us acoustic and language models."""

    name: ClassVar[str] = "pocketsphinx"
    description: ClassVar[str] = "CMU pocketsphinx 5, bundled en-us model, offline"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    Args: ClassVar[type[AdapterArgs]] = PocketsphinxArgs
    args: PocketsphinxArgs

    def __init__(self, args: PocketsphinxArgs) -> None:
        super().__init__(args)
        self.decoder: Any = None
        self.overrides: dict[str, Any] = dict(args.config)

    def load(self) -> None:
        """Build the decoder (16 kHz, quiet logging, the validated config overrides)."""
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise VoxevalError(
                "pocketsphinx is not installed: `pip install 'voxeval[asr]'`."
            ) from None
        config = decoder_config(self.args)
        self.overrides = {key: config[key] for key in self.args.config}
        try:
            self.decoder = Decoder(config)
        except (RuntimeError, ValueError) as exc:
            raise VoxevalError(
                f"pocketsphinx could not start with hmm={self.args.hmm!r} lm={self.args.lm!r} "
                f"dictionary={self.args.dictionary!r} config={self.overrides!r}: {exc}"
            ) from None

    def model_info(self) -> dict[str, Any]:
        """Backend version, which model files are used and the decoder overrides."""
        paths = {k: getattr(self.args, k) for k in ("hmm", "lm", "dictionary")}
        paths = {k: v for k, v in paths.items() if v}
        info: dict[str, Any] = {
            "model_name": "pocketsphinx en-us" if not paths else "pocketsphinx custom",
            "revision": f"pocketsphinx=={metadata.version('pocketsphinx')}",
            **paths,
        }
        if self.overrides:
            info["config"] = dict(self.overrides)
        return info

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Decode each clip as one utterance (pocketsphinx cannot batch)."""
        return [Response(text=self._decode(item.audio)) for item in batch]

    def _decode(self, audio: np.ndarray) -> str:
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp else ""


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register pocketsphinx."""
    register(PocketsphinxAdapter)
