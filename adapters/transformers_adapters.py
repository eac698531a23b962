"""Hugging Face transformers adapters: local models run in-process with torch.

  hf-asr               Whisper (generate) or wav2vec2-style CTC          → text
  hf-audio-classifier  AutoModelForAudioClassification (or dense-tanh)   → label + scores
  hf-regressor         regression heads, e.g. audeering's A/D/V model    → values
  hf-audio-chat        audio LLMs such as Qwen2-Audio, via chat template → text (label/scores)

Common --model-args: model (local folder or hub id, required), revision, device
(auto|cpu|cuda|mps), dtype (float32|float16|bfloat16), trust_remote_code, batch_size.
Needs `pip install 'voxeval[local]'`; torch and transformers are imported on load only.
The implementations live in hf_common, hf_asr, hf_classify, hf_labels and hf_chat.
"""

from __future__ import annotations

from collections.abc import Callable

from voxeval.adapters.hf_asr import HFAsrAdapter
from voxeval.adapters.hf_chat import HFAudioChatAdapter
from voxeval.adapters.hf_classify import HFAudioClassifierAdapter, HFRegressorAdapter
from voxeval.hookspecs import hookimpl

ADAPTER_CLASSES = (HFAsrAdapter, HFAudioClassifierAdapter, HFRegressorAdapter, HFAudioChatAdapter)

__all__ = [
    "ADAPTER_CLASSES",
    "HFAsrAdapter",
    "HFAudioChatAdapter",
    "HFAudioClassifierAdapter",
    "HFRegressorAdapter",
    "register_adapters",
]


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register the four transformers adapters."""
    for cls in ADAPTER_CLASSES:
        register(cls)
