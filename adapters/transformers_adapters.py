"""Hugging Face transformers adapters: local models run in-process with torch.

  hf-asr               Whisper (generate) or wav2vec2-style CTC          → text
  hf-audio-classifier  AutoModelForAudioClassification (or dense-tanh)   → label + scores
  hf-regressor         regression heads, e.g. audeering's A/D/V model    → values
  hf-audio-chat        audio LLMs such as Qwen2-Audio, via chat template → text (label/scores)
  empathic-insight-voice  LAION's Whisper encoder + per-dimension MLP heads → scores / values
  wav2small            the Wav2Small A/D/V student (PyTorch weights)     → values

Common --model-args: model (local folder or hub id, required), revision, device
(auto|cpu|cuda|mps), dtype (float32|float16|bfloat16), trust_remote_code, batch_size.
Needs `pip install 'voxeval[local]'`; torch and transformers are imported on load only.
The implementations live in hf_common, hf_asr, hf_classify, hf_labels and hf_chat; the two
seed-paper models in empathic_insight (+ seed_heads, seed_files) and wav2small, with their
own --model-args (`voxeval list models NAME`).
"""

from __future__ import annotations

from collections.abc import Callable

from voxeval.adapters.empathic_insight import EmpathicInsightVoiceAdapter
from voxeval.adapters.hf_asr import HFAsrAdapter
from voxeval.adapters.hf_chat import HFAudioChatAdapter
from voxeval.adapters.hf_classify import HFAudioClassifierAdapter, HFRegressorAdapter
from voxeval.adapters.wav2small import Wav2SmallAdapter
from voxeval.hookspecs import hookimpl

ADAPTER_CLASSES = (
    HFAsrAdapter,
    HFAudioClassifierAdapter,
    HFRegressorAdapter,
    HFAudioChatAdapter,
    EmpathicInsightVoiceAdapter,
    Wav2SmallAdapter,
)

__all__ = [
    "ADAPTER_CLASSES",
    "EmpathicInsightVoiceAdapter",
    "HFAsrAdapter",
    "HFAudioChatAdapter",
    "HFAudioClassifierAdapter",
    "HFRegressorAdapter",
    "Wav2SmallAdapter",
    "register_adapters",
]


@hookimpl
def register_adapters(register: Callable[..., None]) -> None:
    """Register the transformers adapters and the two seed-paper models."""
    for cls in ADAPTER_CLASSES:
        register(cls)
