"""pocketsphinx: CMU's small offline recogniser with its bundled US-English model."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind


class PocketsphinxArgs(AdapterArgs):
    """Options of the pocketsphinx adapter (paths default to the bundled en-us model)."""

    hmm: str | None = None
    lm: str | None = None
    dictionary: str | None = None  # pronunciation dictionary (pocketsphinx's `dict`)


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

    def load(self) -> None:
        """Build the decoder (16 kHz, quiet logging)."""
        try:
            from pocketsphinx import Config, Decoder
        except ImportError:
            raise VoxevalError(
                "pocketsphinx is not installed: `pip install 'voxeval[asr]'`."
            ) from None
        config = Config(samprate=16000, loglevel="FATAL")
        for key, option in (("hmm", "hmm"), ("lm", "lm"), ("dictionary", "dict")):
            if getattr(self.args, key):
                config[option] = getattr(self.args, key)
        self.decoder = Decoder(config)

    def model_info(self) -> dict[str, Any]:
        """Backend version and which model files are used."""
        overrides = {k: v for k, v in self.args.model_dump().items() if k != "batch_size" and v}
        return {
            "model_name": "pocketsphinx en-us" if not overrides else "pocketsphinx custom",
            "revision": f"pocketsphinx=={metadata.version('pocketsphinx')}",
            **overrides,
        }

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Decode each clip as one utterance."""
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
