"""Omni models without their vision parts, where those need torchvision (audio evaluation only).

Gemma-3n builds its vision tower with `AutoModel.from_config(config.vision_config)`, a timm
model that transformers counts as available only with timm *and* torchvision installed; the
Qwen Omni processors build a video processor, which needs torchvision. An audio evaluation
never runs either, so where torchvision is missing hf-audio-chat loads Gemma-3n with a
weightless stub for the tower and the Qwen Omni processors without their video part (both
recorded in run.json). With torchvision installed nothing here is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class VisionStubError(RuntimeError):
    """Raised when the stand-in vision tower is asked to encode an image."""


def _gemma3n_vision_stub_class() -> type:
    from transformers import Gemma3nVisionConfig, PreTrainedModel

    class Gemma3nVisionTowerStub(PreTrainedModel):
        """A weightless stand-in for Gemma-3n's timm vision tower (audio and text only)."""

        config_class = Gemma3nVisionConfig
        main_input_name = "pixel_values"
        input_modalities = ("image",)

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.post_init()

        def forward(self, pixel_values: Any = None, **kwargs: Any) -> Any:
            raise VisionStubError(
                "this Gemma-3n was loaded without timm/torchvision: its vision tower is a stub, "
                "so images cannot be encoded (audio and text work)"
            )

    return Gemma3nVisionTowerStub


@contextlib.contextmanager
def gemma3n_vision_stub(force: bool = False) -> Iterator[bool]:
    """Build or load Gemma-3n without timm: swap a weightless stub in for its vision tower.

    Gemma3nModel builds its vision tower with `AutoModel.from_config(config.vision_config)`,
    which maps "gemma3n_vision" to `TimmWrapperModel`, and that raises ImportError unless
    timm *and* torchvision are installed. Inside this context (only where timm is not
    available, unless `force`) AutoModel maps the vision config to a stub instead; the mapping
    is restored on exit. Yields whether the stub is in use. Checkpoint weights of a real vision
    tower are then left unused (a load-report warning), the audio tower and text model load.
    """
    from transformers import AutoModel, Gemma3nVisionConfig
    from transformers.utils import is_timm_available

    if is_timm_available() and not force:
        yield False
        return
    mapping = AutoModel._model_mapping
    extra = mapping._extra_content
    previous = extra.get(Gemma3nVisionConfig)
    AutoModel.register(Gemma3nVisionConfig, _gemma3n_vision_stub_class(), exist_ok=True)
    try:
        yield True
    finally:
        if previous is None:
            extra.pop(Gemma3nVisionConfig, None)
        else:
            extra[Gemma3nVisionConfig] = previous


# Token attributes the Qwen Omni processors copy from their tokenizer in __init__.
OMNI_TOKEN_ATTRS = (
    "image_token",
    "audio_token",
    "video_token",
    "image_token_id",
    "audio_token_id",
    "video_token_id",
    "vision_bos_token",
    "vision_eos_token",
    "audio_bos_token",
    "audio_eos_token",
)


def without_video(cls: type) -> type:
    """A subclass of a Qwen Omni processor class that has no video processor.

    ProcessorMixin finds a processor's parts from its __init__ signature, so `from_pretrained`
    of this subclass loads the image processor (PIL), feature extractor and tokenizer only.
    """
    from transformers.processing_utils import ProcessorMixin

    class NoVideo(cls):  # type: ignore[misc, valid-type]
        def __init__(
            self,
            image_processor: Any = None,
            feature_extractor: Any = None,
            tokenizer: Any = None,
            chat_template: Any = None,
        ) -> None:
            ProcessorMixin.__init__(
                self, image_processor, feature_extractor, tokenizer, chat_template=chat_template
            )
            for name in OMNI_TOKEN_ATTRS:
                setattr(self, name, getattr(self.tokenizer, name, None))

        @property
        def model_input_names(self) -> list[str]:
            names = (
                self.tokenizer.model_input_names
                + self.feature_extractor.model_input_names
                + self.image_processor.model_input_names
                + ["feature_attention_mask"]
            )
            return list(dict.fromkeys(names))

    NoVideo.__name__ = NoVideo.__qualname__ = f"{cls.__name__}WithoutVideo"
    return NoVideo
