"""Tiny, random Phi-4-multimodal and Granite-Speech models, saved with their real processors.

Both builders run offline (byte-level BPE tokenizers trained on `tests.tiny_models.SENTENCES`,
seeded random weights) and write a folder that `AutoProcessor.from_pretrained(folder)` and the
model class's `from_pretrained(folder)` load:

* `build_phi4_multimodal`: `Phi4MultimodalForCausalLM` (model_type "phi4_multimodal") with a
  `Phi4MultimodalProcessor` (`audio_processor` = `Phi4MultimodalFeatureExtractor`). Its image
  processor, `Phi4MultimodalImageProcessor`, has only a torchvision backend; where torchvision is
  missing, a PIL SigLIP image processor of the same size and normalisation stands in for it, so
  that the folder loads (audio and text work; images would not: it does not count image tokens).
  The processor cannot be built without an image processor (its type is checked).
* `build_granite_speech`: `GraniteSpeechForConditionalGeneration` (model_type "granite_speech")
  with a `GraniteSpeechProcessor` (`audio_processor` = `GraniteSpeechFeatureExtractor`). That
  feature extractor computes its mel spectrogram with torchaudio and refuses to be created
  without it. Its saved config holds no torchaudio object, so where torchaudio is missing it is
  created with a stand-in for the (unsaved) mel transform, only to be saved: the folder is the
  same as one built with torchaudio, and loading its processor still needs torchaudio.

Chat templates (built by `templates.chat_template`) follow the official layouts. Phi-4:
`<|system|>Be brief.<|end|><|user|><|endoftext11|>What is said?<|end|><|assistant|>`, where
`<|endoftext11|>` is the tokenizer's `audio_token`, the one placeholder transformers' processor
expands (it does not know the remote-code aliases `<|audio_1|>`). Granite:
`<|start_of_role|>user<|end_of_role|><|audio|>What is said?<|end_of_text|>` + newline, then
`<|start_of_role|>assistant<|end_of_role|>`.

Note for loaders: `Phi4MultimodalProcessor.from_pretrained` (transformers 5.17 and 5.24) does
not load `chat_template.jinja`, as its `__init__` takes no `chat_template`; the tokenizer loads
the same file, so use `processor.chat_template = processor.tokenizer.chat_template`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.tiny_audio_llms.templates import chat_template
from tests.tiny_models import TINY_DECODER, _byte_bpe, _seed, save_tiny

PHI4_ENDOFTEXT = "<|endoftext|>"
PHI4_IMAGE = "<|endoftext10|>"
PHI4_AUDIO = "<|endoftext11|>"
PHI4_ROLES = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|tool|>", "<|/tool|>")
PHI4_CHAT_TEMPLATE = chat_template(
    turn_start={role: f"<|{role}|>" for role in ("system", "user", "assistant")},
    turn_end="<|end|>",
    audio=PHI4_AUDIO,
    generation_prompt="<|assistant|>",
)

GRANITE_EOT = "<|end_of_text|>"
GRANITE_AUDIO = "<|audio|>"
GRANITE_ROLES = ("<|start_of_role|>", "<|end_of_role|>")
GRANITE_CHAT_TEMPLATE = chat_template(
    turn_start={
        role: f"<|start_of_role|>{role}<|end_of_role|>" for role in ("system", "user", "assistant")
    },
    turn_end=GRANITE_EOT + "\n",
    audio=GRANITE_AUDIO,
    generation_prompt="<|start_of_role|>assistant<|end_of_role|>",
)


def _gpt2_tokenizer(specials: list[str], added: list[str], **names: Any) -> Any:
    """A GPT2Tokenizer (byte-level BPE on SENTENCES with `specials`, `specials[0]` as unk, bos,
    eos and pad) with `added` added as special tokens; `names` go to the constructor."""
    from transformers import GPT2Tokenizer

    vocab, merges = _byte_bpe(500, specials)
    eot = specials[0]
    tokenizer = GPT2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=eot,
        bos_token=eot,
        eos_token=eot,
        pad_token=eot,
        **names,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": added})
    return tokenizer


def _phi4_image_processor() -> Any:
    """Phi-4's own image processor where torchvision is installed, else a PIL SigLIP stand-in."""
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        from transformers import Phi4MultimodalImageProcessor

        return Phi4MultimodalImageProcessor()
    from transformers import SiglipImageProcessorPil

    return SiglipImageProcessorPil(
        size={"height": 448, "width": 448}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )


def build_phi4_multimodal(out: Path, seed: int = 0) -> Path:
    """A tiny Phi-4-multimodal (conformer audio encoder, SigLIP vision tower, Phi-3 decoder).

    Sizes: decoder hidden 32, 2 layers; conformer 2 blocks of width 32 with the real 8x time
    reduction (so the feature extractor's `audio_compression_rate` of 8 holds); vision tower
    2 layers of width 32. Long-RoPE and the partial rotary factor are set as in the real config.
    The initialiser ranges (0.5, and 0.2 in the conformer) are far above the real 0.02 so that
    greedy output depends on the audio (at 0.02 every clip decodes to one repeated token).
    """
    from transformers import (
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
        Phi4MultimodalProcessor,
    )

    specials = [PHI4_ENDOFTEXT, PHI4_IMAGE, PHI4_AUDIO, *PHI4_ROLES]
    tokenizer = _gpt2_tokenizer(
        specials,
        list(PHI4_ROLES),
        extra_special_tokens={"image_token": PHI4_IMAGE, "audio_token": PHI4_AUDIO},
    )
    processor = Phi4MultimodalProcessor(
        image_processor=_phi4_image_processor(),
        audio_processor=Phi4MultimodalFeatureExtractor(),
        tokenizer=tokenizer,
        chat_template=PHI4_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    eot, end = ids[PHI4_ENDOFTEXT], ids["<|end|>"]
    head_dim, partial = 32 // 2, 0.75
    n_factors = int(head_dim * partial) // 2
    _seed(seed)
    config = Phi4MultimodalConfig(
        vocab_size=len(tokenizer),
        **TINY_DECODER,
        max_position_embeddings=131072,
        original_max_position_embeddings=4096,
        rope_parameters={
            "rope_type": "longrope",
            "rope_theta": 10000.0,
            "partial_rotary_factor": partial,
            "short_factor": [1.0] * n_factors,
            "long_factor": [1.0] * n_factors,
        },
        bos_token_id=eot,
        pad_token_id=eot,
        eos_token_id=[eot, end],
        tie_word_embeddings=True,
        initializer_range=0.5,
        audio_config={
            "initializer_range": 0.2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_blocks": 2,
            "num_attention_heads": 2,
            "ext_pw_out_channel": 32,
            "depthwise_separable_out_channel": 32,
            "nemo_conv_channels": 32,
            "input_size": 80,
            "time_reduction": 8,
            "audio_token_id": ids[PHI4_AUDIO],
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_token_id": ids[PHI4_IMAGE],
        },
    )
    model = Phi4MultimodalForCausalLM(config).eval()
    return save_tiny(
        out,
        model,
        processor,
        bos_token_id=eot,
        eos_token_id=[eot, end],
        pad_token_id=eot,
        do_sample=False,
    )


@contextmanager
def _granite_extractor_without_torchaudio() -> Iterator[None]:
    """Let `GraniteSpeechFeatureExtractor()` be made, to be saved only, where torchaudio is missing.

    Its `__init__` builds a `torchaudio.transforms.MelSpectrogram`, which `to_dict` drops (as
    "mel_filters"), so the saved config is the same as with torchaudio. Calling it still needs it.
    """
    from types import SimpleNamespace
    from unittest import mock

    from transformers.models.granite_speech import feature_extraction_granite_speech as fe
    from transformers.utils import is_torchaudio_available

    if is_torchaudio_available():
        yield
        return
    stub = SimpleNamespace(transforms=SimpleNamespace(MelSpectrogram=lambda **_: None))
    with (
        mock.patch.object(fe, "torchaudio", stub, create=True),
        mock.patch.object(fe, "requires_backends", lambda *_: None),
    ):
        yield


def build_granite_speech(out: Path, seed: int = 0) -> Path:
    """A tiny Granite-Speech (CTC conformer encoder, Q-Former projector, Granite decoder).

    Sizes: decoder hidden 32, 2 layers; conformer 2 layers of width 32 (input 160 = two stacked
    80-bin mel frames, as the feature extractor makes); Q-Former 1 layer of width 32 with the
    real window 15 / downsample 5 (3 audio tokens per 15 encoder frames). No LoRA adapter
    (`has_lora_adapter=False`), so peft is not needed. Initialiser ranges 0.5 (real: 0.02) so
    that greedy output depends on the audio.
    """
    from transformers import (
        GraniteSpeechConfig,
        GraniteSpeechFeatureExtractor,
        GraniteSpeechForConditionalGeneration,
        GraniteSpeechProcessor,
    )

    specials = [GRANITE_EOT, *GRANITE_ROLES, GRANITE_AUDIO]
    tokenizer = _gpt2_tokenizer(specials, specials[1:])
    with _granite_extractor_without_torchaudio():
        extractor = GraniteSpeechFeatureExtractor()
    processor = GraniteSpeechProcessor(
        audio_processor=extractor,
        tokenizer=tokenizer,
        audio_token=GRANITE_AUDIO,
        chat_template=GRANITE_CHAT_TEMPLATE,
    )
    eot = tokenizer.convert_tokens_to_ids(GRANITE_EOT)
    _seed(seed)
    config = GraniteSpeechConfig(
        text_config={
            "model_type": "granite",
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "max_position_embeddings": 4096,
            "bos_token_id": eot,
            "eos_token_id": eot,
            "pad_token_id": eot,
            "tie_word_embeddings": True,
            "initializer_range": 0.5,
        },
        encoder_config={
            "input_dim": 160,
            "num_layers": 2,
            "hidden_dim": 32,
            "feedforward_mult": 2,
            "num_heads": 2,
            "output_dim": 8,
            "context_size": 200,
            "max_pos_emb": 512,
            "conv_kernel_size": 15,
        },
        projector_config={
            "model_type": "blip_2_qformer",
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "encoder_hidden_size": 32,
            "cross_attention_frequency": 1,
        },
        audio_token_index=tokenizer.convert_tokens_to_ids(GRANITE_AUDIO),
        has_lora_adapter=False,
        initializer_range=0.5,
        downsample_rate=5,
        window_size=15,
    )
    model = GraniteSpeechForConditionalGeneration(config).eval()
    return save_tiny(
        out,
        model,
        processor,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        do_sample=False,
    )
