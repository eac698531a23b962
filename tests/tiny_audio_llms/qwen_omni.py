"""Tiny, randomly initialised Qwen Omni models (Qwen2.5-Omni, Qwen3-Omni-MoE), built offline.

Each builder writes the files of the real hub checkpoints: config.json of the full
thinker-talker model, generation_config.json, model.safetensors, the tokenizer (Qwen2
tokenizer with the omni special tokens named audio_token, image_token, ...), one
preprocessor_config.json (WhisperFeatureExtractor, 128 mel bins, chunk_length 300, plus the
Qwen2VL image processor, processor_class Qwen2_5OmniProcessor / Qwen3OmniMoeProcessor) and
chat_template.json; Qwen2.5-Omni also spk_dict.pt (the talker's speakers).

Without torchvision (this venv) `AutoProcessor.from_pretrained` cannot load these folders, nor
the real checkpoints: the processors have a video_processor part, AutoVideoProcessor needs
torchvision, and so does building the processor object (its __init__ checks the part's class).
A subclass whose __init__ lacks video_processor loads the other three parts (the image
processor falls back to Qwen2VLImageProcessorPil), e.g. for Qwen2_5OmniProcessor:

    class NoVideo(Qwen2_5OmniProcessor):
        def __init__(self, image_processor=None, feature_extractor=None, tokenizer=None,
                     chat_template=None):
            ProcessorMixin.__init__(self, image_processor, feature_extractor, tokenizer,
                                    chat_template=chat_template)
            for name in ("audio_token", "audio_token_id", "audio_bos_token", ...):
                setattr(self, name, getattr(self.tokenizer, name))

Text comes out of the thinker: load Qwen2_5OmniThinkerForConditionalGeneration (or
Qwen3OmniMoeThinkerForConditionalGeneration) from the folder; it skips the talker's weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.tiny_audio_llms.templates import chatml_template
from tests.tiny_models import (
    TINY_DECODER,
    TINY_WHISPER_ENCODER,
    _seed,
    qwen_style_tokenizer,
    save_tiny,
)

OMNI_SPECIALS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|AUDIO|>",
    "<|audio_bos|>",
    "<|audio_eos|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_bos|>",
    "<|vision_eos|>",
    "<|vision_pad|>",
    "<|IMAGE|>",
    "<|VIDEO|>",
)
OMNI_NAMED_TOKENS = {
    "audio_token": "<|AUDIO|>",
    "audio_bos_token": "<|audio_bos|>",
    "audio_eos_token": "<|audio_eos|>",
    "image_token": "<|IMAGE|>",
    "video_token": "<|VIDEO|>",
    "vision_bos_token": "<|vision_bos|>",
    "vision_eos_token": "<|vision_eos|>",
}
# Qwen2.5-Omni's layout: ChatML turns, "You are a helpful assistant." when there is no system
# turn, each clip as <|audio_bos|><|AUDIO|><|audio_eos|> in its place among the text.
QWEN2_5_OMNI_CHAT_TEMPLATE = chatml_template(
    "<|audio_bos|><|AUDIO|><|audio_eos|>", "You are a helpful assistant."
)
# The omni models' tiny vision towers (vision_config keys both versions share).
TINY_OMNI_VISION = {
    "depth": 2,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_heads": 2,
    "out_hidden_size": 32,
}


def _save_omni(
    out: Path,
    model: Any,
    tokenizer: Any,
    chat_template: str,
    processor_class: str,
    chunk_length: int = 300,
) -> None:
    """Save `model` (greedy generation config) and the processor files of the hub checkpoints.

    The processor files are tokenizer files, one preprocessor_config.json holding the
    WhisperFeatureExtractor's and the Qwen2VL image processor's keys with "processor_class",
    and chat_template.json.
    The processor object itself cannot be built here: its __init__ checks the video processor's
    class, and every video processor needs torchvision, which is not installed.
    """
    from transformers import WhisperFeatureExtractor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    # As in the real preprocessor_config.json: 128 mel bins, chunk_length 300 s (30000 frames).
    features = WhisperFeatureExtractor(
        feature_size=128, chunk_length=chunk_length, return_attention_mask=True
    )
    config = {**features.to_dict(), **Qwen2VLImageProcessorPil().to_dict()}
    config["processor_class"] = processor_class
    eos_id, pad_id = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    save_tiny(
        out,
        model,
        None,
        eos_token_id=[eos_id, pad_id],
        pad_token_id=pad_id,
        do_sample=False,
        max_new_tokens=16,
    )
    (out / "preprocessor_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "chat_template.json").write_text(
        json.dumps({"chat_template": chat_template}, indent=2) + "\n"
    )
    tokenizer.save_pretrained(out)


def build_qwen2_5_omni(
    out: Path,
    seed: int = 0,
    *,
    talker: bool = True,
    init_std: float = 0.5,
    chunk_length: int = 300,
) -> Path:
    """A tiny Qwen2.5-Omni (thinker, and talker + token2wav unless `talker=False`).

    Saved as Qwen2_5OmniForConditionalGeneration with a Qwen2_5OmniProcessor (Qwen2 tokenizer,
    WhisperFeatureExtractor with 128 mel bins, slow PIL Qwen2VLImageProcessor, no video
    processor: torchvision is not installed). With `talker=True` the config has
    enable_audio_output=True and spk_dict.pt holds the speakers "Chelsie" and "Ethan", as in
    Qwen/Qwen2.5-Omni-7B; `generate` then returns (text_ids, waveform) unless it is given
    generation_mode="text".
    """
    import torch
    from transformers import (
        Qwen2_5OmniConfig,
        Qwen2_5OmniForConditionalGeneration,
    )

    tokenizer = qwen_style_tokenizer(OMNI_SPECIALS, 512, bpe_size=512, named=OMNI_NAMED_TOKENS)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in OMNI_SPECIALS}
    pad_id, eos_id = ids["<|endoftext|>"], ids["<|im_end|>"]
    # Three filler ids stand in for the talker's <tts_text_*> tokens (151859-151861 at Qwen).
    tts_pad, tts_bos, tts_eos = len(tokenizer) - 3, len(tokenizer) - 2, len(tokenizer) - 1
    hidden = 32
    rope = {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]}
    mm_ids = {  # the same keys in the thinker's and the talker's config
        "audio_token_index": ids["<|AUDIO|>"],
        "image_token_index": ids["<|IMAGE|>"],
        "video_token_index": ids["<|VIDEO|>"],
        "audio_start_token_id": ids["<|audio_bos|>"],
        "audio_end_token_id": ids["<|audio_eos|>"],
        "vision_start_token_id": ids["<|vision_bos|>"],
        "vision_end_token_id": ids["<|vision_eos|>"],
    }
    thinker = {
        "audio_config": {
            **TINY_WHISPER_ENCODER,
            "max_source_positions": 1500,
            "n_window": 100,
            "output_dim": hidden,
            "initializer_range": init_std,
        },
        "vision_config": {
            **TINY_OMNI_VISION,
            "fullatt_block_indexes": [1],
            "initializer_range": init_std,
        },
        "text_config": {
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "max_position_embeddings": 2048,
            "rope_parameters": rope,
            "pad_token_id": pad_id,
            "eos_token_id": eos_id,
            "initializer_range": init_std,
        },
        **mm_ids,
        "user_token_id": tokenizer.encode("user")[0],  # unused by the 2.5 modeling code
        "pad_token_id": pad_id,
        "initializer_range": init_std,
    }
    codec = 64  # codec vocabulary; Qwen's 8448 with specials 8292-8296 shrunk to the top end
    talker_config = {
        "vocab_size": codec,
        "tts_codec_pad_token_id": codec - 4,
        "tts_codec_start_token_id": codec - 3,
        "tts_codec_end_token_id": codec - 2,
        "tts_codec_mask_token_id": codec - 1,
        "tts_text_pad_token_id": tts_pad,
        "tts_text_start_token_id": tts_bos,
        "tts_text_end_token_id": tts_eos,
        **mm_ids,
        "embedding_size": hidden,
        **TINY_DECODER,
        "head_dim": 16,
        "max_position_embeddings": 2048,
        "rope_parameters": rope,
    }
    token2wav_config = {
        "dit_config": {
            "hidden_size": hidden,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "ff_mult": 2,
            "emb_dim": 16,
            "head_dim": 16,
            "look_ahead_layers": [1],
            "look_backward_layers": [0],
            "num_embeds": codec,
            "mel_dim": 80,
            "enc_emb_dim": 16,
            "enc_dim": 16,
            "enc_channels": [16, 16, 16, 16, 48],
            "enc_attention_channels": 8,
            "enc_se_channels": 8,
        },
        "bigvgan_config": {
            "mel_dim": 80,
            "upsample_initial_channel": 128,  # halved by each of the 6 upsampling layers
            "resblock_kernel_sizes": [3],
            "resblock_dilation_sizes": [[1, 3, 5]],
        },
    }
    _seed(seed)
    config = Qwen2_5OmniConfig(
        thinker_config=thinker,
        talker_config=talker_config,
        token2wav_config=token2wav_config,
        enable_audio_output=talker,
    )
    model = Qwen2_5OmniForConditionalGeneration(config).eval()
    out.mkdir(parents=True, exist_ok=True)
    speakers = {
        name: {
            "bos_token": tts_bos,
            "cond": torch.randn(1, 16),
            "ref_mel": torch.randn(1, 30, 80),
        }
        for name in ("Chelsie", "Ethan")
    }
    torch.save(speakers, out / "spk_dict.pt")
    _save_omni(
        out, model, tokenizer, QWEN2_5_OMNI_CHAT_TEMPLATE, "Qwen2_5OmniProcessor", chunk_length
    )
    return out


QWEN3_OMNI_SPECIALS = (  # in the order of their ids in Qwen3-Omni (151643-151675)
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|audio_start|>",
    "<|audio_end|>",
    "<tts_pad>",
    "<tts_text_bos>",
    "<tts_text_eod>",
    "<tts_text_bos_single>",
    "<|audio_pad|>",
)
QWEN3_OMNI_NAMED_TOKENS = {
    "audio_token": "<|audio_pad|>",
    "audio_bos_token": "<|audio_start|>",
    "audio_eos_token": "<|audio_end|>",
    "image_token": "<|image_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
}
# Qwen3-Omni's layout without tools or reasoning: ChatML turns, no default system turn, each
# clip as <|audio_start|><|audio_pad|><|audio_end|> in its place among the text.
QWEN3_OMNI_CHAT_TEMPLATE = chatml_template("<|audio_start|><|audio_pad|><|audio_end|>")


def build_qwen3_omni(
    out: Path, seed: int = 0, *, talker: bool = True, init_std: float = 0.2
) -> Path:
    """A tiny Qwen3-Omni-MoE (MoE thinker, and MoE talker + code2wav unless `talker=False`).

    Saved as Qwen3OmniMoeForConditionalGeneration (model_type "qwen3_omni_moe") with the
    Qwen3OmniMoeProcessor files (see `_save_omni`). `talker=True` is the layout of
    Qwen3-Omni-30B-A3B-Instruct (speakers in talker_config.speaker_id); `talker=False` that of
    the -Thinking and -Captioner checkpoints (enable_audio_output=False, thinker weights only).
    "user", "assistant" and "system" are added as whole tokens: the talker finds the turns by
    their ids, as Qwen's vocabulary has them as single tokens.
    """
    from transformers import (
        Qwen3OmniMoeConfig,
        Qwen3OmniMoeForConditionalGeneration,
    )

    tokenizer = qwen_style_tokenizer(
        QWEN3_OMNI_SPECIALS, 509, bpe_size=509, named=QWEN3_OMNI_NAMED_TOKENS
    )
    tokenizer.add_tokens(["system", "user", "assistant"])
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN3_OMNI_SPECIALS}
    role = {t: tokenizer.convert_tokens_to_ids(t) for t in ("system", "user", "assistant")}
    pad_id, eos_id = ids["<|endoftext|>"], ids["<|im_end|>"]
    hidden, head_dim = 32, 16
    rope = {
        "rope_type": "default",
        "rope_theta": 1000000.0,
        "mrope_section": [4, 2, 2],  # Qwen's [24, 20, 20] for head_dim 128, scaled to 16
        "interleaved": True,
        "mrope_interleaved": True,
    }
    moe = {
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 32,
        "decoder_sparse_step": 1,
    }
    thinker = {
        "audio_config": {
            **TINY_WHISPER_ENCODER,
            "output_dim": hidden,
            "downsample_hidden_size": 16,
            "initializer_range": init_std,
        },
        "vision_config": {
            **TINY_OMNI_VISION,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
            "initializer_range": init_std,
        },
        "text_config": {
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "head_dim": head_dim,
            "max_position_embeddings": 2048,
            "rope_parameters": rope,
            "pad_token_id": pad_id,
            "eos_token_id": eos_id,
            "initializer_range": init_std,
            **moe,
        },
        "audio_token_id": ids["<|audio_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "audio_start_token_id": ids["<|audio_start|>"],
        "audio_end_token_id": ids["<|audio_end|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "position_id_per_seconds": 13,
        "user_token_id": role["user"],
        "initializer_range": init_std,
    }
    codebook, groups = 64, 4  # Qwen: 2048 codes, 16 groups; talker vocab = codebook + 1024
    talker_config = {
        "text_config": {
            "vocab_size": codebook + 1024,
            **TINY_DECODER,
            "head_dim": head_dim,
            "max_position_embeddings": 2048,
            "rope_parameters": rope,
            "shared_expert_intermediate_size": 32,  # not a declared field, but read by the talker
            **moe,
        },
        "code_predictor_config": {
            "vocab_size": codebook,
            **TINY_DECODER,
            "num_hidden_layers": 1,
            "head_dim": head_dim,
            "num_code_groups": groups,
        },
        "num_code_groups": groups,
        "thinker_hidden_size": hidden,
        "spatial_merge_size": 2,  # not a declared field, but read by the talker
        "accept_hidden_layer": 1,
        "codec_pad_id": codebook + 100,
        "codec_bos_id": codebook + 101,
        "codec_eos_token_id": codebook + 102,
        "codec_nothink_id": codebook + 107,
        "codec_think_bos_id": codebook + 108,
        "codec_think_eos_id": codebook + 109,
        "speaker_id": {"chelsie": codebook + 205, "ethan": codebook + 206, "aiden": codebook + 207},
        "audio_token_id": ids["<|audio_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "audio_start_token_id": ids["<|audio_start|>"],
        "position_id_per_seconds": 13,
    }
    code2wav_config = {
        "codebook_size": codebook,
        "hidden_size": hidden,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "num_quantizers": groups,
        "decoder_dim": 64,  # halved by each of the 4 decoder blocks
    }
    _seed(seed)
    config = Qwen3OmniMoeConfig(
        thinker_config=thinker,
        talker_config=talker_config,
        code2wav_config=code2wav_config,
        enable_audio_output=talker,
        im_start_token_id=ids["<|im_start|>"],
        im_end_token_id=eos_id,
        tts_pad_token_id=ids["<tts_pad>"],
        tts_bos_token_id=ids["<tts_text_bos>"],
        tts_eos_token_id=ids["<tts_text_eod>"],
        system_token_id=role["system"],
        user_token_id=role["user"],
        assistant_token_id=role["assistant"],
    )
    model = Qwen3OmniMoeForConditionalGeneration(config).eval()
    _save_omni(out, model, tokenizer, QWEN3_OMNI_CHAT_TEMPLATE, "Qwen3OmniMoeProcessor")
    return out
