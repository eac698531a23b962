"""A tiny, randomly initialised Voxtral saved with its real processor, built offline.

Voxtral's processor (`VoxtralProcessor`) pairs a `WhisperFeatureExtractor` with transformers'
`MistralCommonBackend`, which wraps mistral-common's tekken tokenizer read from `tekken.json`.
There is no tekken file small enough to ship, so `build_voxtral` writes one: a byte-level BPE
trained on `tests.tiny_models.SENTENCES` (256 byte tokens plus a few hundred merges), the
special tokens of Voxtral-Mini-3B-2507 at their ranks (the processor hard-codes `[AUDIO]` = 24),
and Voxtral's audio section (16 kHz, 12.5 audio tokens per second, 30 s chunks, 128 mel bins).
The model keeps Voxtral's shapes where the processor depends on them: an encoder whose
`intermediate_size` is four times its hidden size, so that a 30 s chunk (3000 mel frames, 1500
encoder positions) becomes 375 audio embeddings, as the tokenizer's 12.5 tokens/s expects.

Needs `mistral-common` (with its audio extra: soundfile) installed; nothing is downloaded.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from tests.tiny_models import TINY_AUDIO_ENCODER, TINY_DECODER, _byte_bpe, _seed, save_tiny

# tiktoken pattern of Mistral's tekken tokenizers (the `config.pattern` of their tekken.json).
TEKKEN_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Special tokens by rank, as in Voxtral-Mini-3B-2507's tekken.json; the file lists every rank
# (mistral-common indexes the list by position), so the ranks left out here (20-23, 26-31 and
# 35 up) are written as "<SPECIAL_n>" fillers, as in real files.
VOXTRAL_SPECIALS = {
    0: "<unk>",
    1: "<s>",
    2: "</s>",
    3: "[INST]",
    4: "[/INST]",
    5: "[AVAILABLE_TOOLS]",
    6: "[/AVAILABLE_TOOLS]",
    7: "[TOOL_RESULTS]",
    8: "[/TOOL_RESULTS]",
    9: "[TOOL_CALLS]",
    10: "[IMG]",
    11: "<pad>",
    12: "[IMG_BREAK]",
    13: "[IMG_END]",
    14: "[PREFIX]",
    15: "[MIDDLE]",
    16: "[SUFFIX]",
    17: "[SYSTEM_PROMPT]",
    18: "[/SYSTEM_PROMPT]",
    19: "[TOOL_CONTENT]",
    24: "[AUDIO]",
    25: "[BEGIN_AUDIO]",
    32: "[ARGS]",
    33: "[CALL_ID]",
    34: "[TRANSCRIBE]",
}
NUM_SPECIAL_TOKENS = 40  # real checkpoints reserve 1000; ids 0..39 keep every rank above
BOS_ID, EOS_ID, PAD_ID, AUDIO_ID = 1, 2, 11, 24
AUDIO_SECTION = {
    "sampling_rate": 16000,
    "frame_rate": 12.5,
    "audio_encoding_config": {"num_mel_bins": 128, "hop_length": 160, "window_size": 400},
    "chunk_length_s": 30.0,
}


def _byte_decoder() -> dict[str, int]:
    """Map GPT-2 byte-level characters (what `tokenizers`' ByteLevel emits) back to bytes."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


def tekken_json(merges: int = 300) -> dict[str, Any]:
    """A small valid tekken tokenizer file (as a dict) with Voxtral's specials and audio config.

    The vocabulary is the 256 single bytes (ranks 0-255, as tekken requires) followed by the
    tokens of a byte-level BPE trained on `SENTENCES`, in merge order, so that tiktoken's
    rank-ordered merging reproduces the trained BPE.
    """
    _, merge_pairs = _byte_bpe(256 + merges, [])
    to_byte = _byte_decoder()
    tokens = [bytes([i]) for i in range(256)]
    seen = set(tokens)
    for left, right in merge_pairs:
        token = bytes(to_byte[c] for c in left + right)
        if token not in seen:
            seen.add(token)
            tokens.append(token)
    vocab = []
    for rank, token in enumerate(tokens):
        try:
            text: str | None = token.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        vocab.append(
            {
                "rank": rank,
                "token_bytes": base64.b64encode(token).decode("ascii"),
                "token_str": text,
            }
        )
    specials = [
        {
            "rank": rank,
            "token_str": VOXTRAL_SPECIALS.get(rank, f"<SPECIAL_{rank}>"),
            "is_control": True,
        }
        for rank in range(NUM_SPECIAL_TOKENS)
    ]
    return {
        "config": {
            "pattern": TEKKEN_PATTERN,
            "num_vocab_tokens": len(vocab),
            "default_vocab_size": len(vocab) + NUM_SPECIAL_TOKENS,
            "default_num_special_tokens": NUM_SPECIAL_TOKENS,
            "version": "v11",
        },
        "vocab": vocab,
        "special_tokens": specials,
        "audio": AUDIO_SECTION,
    }


def build_voxtral(
    out: Path,
    seed: int = 0,
    *,
    text: dict[str, Any] | None = None,
    audio: dict[str, Any] | None = None,
    init_std: float = 0.5,
) -> Path:
    """Write a tiny `VoxtralForConditionalGeneration` (model_type "voxtral") and its processor.

    The folder holds `tekken.json`, the feature extractor's config, `config.json`, the
    generation config and safetensors weights; `AutoProcessor.from_pretrained(out)` gives a
    `VoxtralProcessor` and `VoxtralForConditionalGeneration.from_pretrained(out)` the model.
    `text` and `audio` override the decoder's (llama) and the encoder's config keys, and
    `init_std` is far above the usual 0.02 so that greedy output depends on the audio.
    """
    from transformers import (
        MistralCommonBackend,
        VoxtralConfig,
        VoxtralForConditionalGeneration,
        VoxtralProcessor,
        WhisperFeatureExtractor,
    )

    out.mkdir(parents=True, exist_ok=True)
    tekken = tekken_json()
    (out / "tekken.json").write_text(json.dumps(tekken, ensure_ascii=False), encoding="utf-8")
    tokenizer = MistralCommonBackend.from_pretrained(str(out))
    feature_extractor = WhisperFeatureExtractor(
        feature_size=128, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400
    )
    processor = VoxtralProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)
    vocab_size = tekken["config"]["default_vocab_size"]
    _seed(seed)
    config = VoxtralConfig(
        audio_config={
            "model_type": "voxtral_encoder",
            **TINY_AUDIO_ENCODER,
            "intermediate_size": 128,  # 4 x hidden: 1500 positions -> 375 audio tokens / 30 s
            "max_source_positions": 1500,
            "initializer_range": init_std,
        }
        | (audio or {}),
        text_config={
            "model_type": "llama",
            "vocab_size": vocab_size,
            **TINY_DECODER,
            "head_dim": 16,
            "max_position_embeddings": 4096,
            "rope_theta": 100000000.0,
            "rms_norm_eps": 1e-5,
            "initializer_range": init_std,
            "bos_token_id": BOS_ID,
            "eos_token_id": EOS_ID,
            "pad_token_id": PAD_ID,
        }
        | (text or {}),
        audio_token_id=AUDIO_ID,
        projector_hidden_act="gelu",
    )
    model = VoxtralForConditionalGeneration(config).eval()
    return save_tiny(
        out,
        model,
        processor,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        do_sample=False,
    )
