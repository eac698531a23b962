"""Tiny, randomly initialised Gemma-3n, Audio Flamingo 3 and GLM-ASR models, built offline.

Each builder writes a folder with the model's real processor class (feature extractor, tokenizer
and a chat template with the family's turn layout), so that an audio-chat adapter can load
it with `AutoProcessor.from_pretrained(folder)` and the model class's `from_pretrained(folder)`.
Tokenizers are trained on a few sentences with the `tokenizers` library (see tests/tiny_models.py)
and every size is as small as the config allows; nothing is fetched from the Hugging Face hub.

Gemma-3n's vision tower is a timm model (`TimmWrapperModel`), and transformers counts timm as
available only when torchvision is installed too. Where it is not, `gemma3n_vision_stub()`
stands in for the vision tower while the model is built or loaded: audio and text work, images
raise. The saved folder holds no vision-tower weights and names the tiny timm test model
`test_efficientnet`, so that where timm is installed the real class should load it with a
small, randomly initialised vision tower instead (untested: timm cannot be imported here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.tiny_audio_llms.templates import chat_template, chatml_template
from tests.tiny_models import (
    SENTENCES,
    TINY_AUDIO_ENCODER,
    TINY_DECODER,
    _byte_bpe,
    _pad_vocab,
    _seed,
    qwen_style_tokenizer,
    save_tiny,
)
from voxeval.adapters.audio_only import gemma3n_vision_stub

# --------------------------------------------------------------------------------------------
# Gemma-3n
# --------------------------------------------------------------------------------------------

GEMMA_SPECIALS = ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")
GEMMA_TURN_TOKENS = ("<start_of_turn>", "<end_of_turn>")
GEMMA_MM_NAMES = {
    "image_token": "<image_soft_token>",
    "boi_token": "<start_of_image>",
    "eoi_token": "<end_of_image>",
    "audio_token": "<audio_soft_token>",
    "boa_token": "<start_of_audio>",
    "eoa_token": "<end_of_audio>",
}
# Gemma's layout: <bos> first, turns <start_of_turn>{user|model}\n ... <end_of_turn>\n (the
# assistant is called "model"), no system turn (its text and a blank line open the first user
# turn), each clip one <audio_soft_token> that the processor expands.
GEMMA3N_CHAT_TEMPLATE = chat_template(
    turn_start={"user": "<start_of_turn>user\n", "assistant": "<start_of_turn>model\n"},
    turn_end="<end_of_turn>\n",
    audio="<audio_soft_token>",
    generation_prompt="<start_of_turn>model\n",
    system_into_first_user=True,
    bos="<bos>",
)


def _gemma_bpe(vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a SentencePiece-style BPE ("▁" for spaces, byte fallback) on SENTENCES.

    Returns (vocab, merges) with Gemma's layout: special tokens first, then the 256
    `<0xNN>` byte-fallback tokens, then the learned pieces.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False)
    tok.train_from_iterator(SENTENCES * 4, trainer)
    model = json.loads(tok.to_str())["model"]
    heads = [*GEMMA_SPECIALS, *GEMMA_TURN_TOKENS, GEMMA_MM_NAMES["boi_token"]]
    heads += [GEMMA_MM_NAMES["boa_token"], *(f"<0x{b:02X}>" for b in range(256))]
    vocab = {token: i for i, token in enumerate(heads)}
    for piece in sorted(model["vocab"], key=model["vocab"].__getitem__):
        vocab.setdefault(piece, len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split()) for m in model["merges"]]
    return vocab, merges


def build_gemma3n(
    out: Path,
    seed: int = 0,
    *,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    text_vocab_size: int = 512,
    initializer_range: float = 0.3,
) -> Path:
    """A tiny Gemma-3n (USM conformer audio encoder + Gemma-3n decoder) with Gemma3nProcessor.

    The token-id layout follows the real checkpoints: text ids below `text_vocab_size`
    (262,144 in Gemma-3n; also the size of the per-layer embedding table), then 8 vision ids
    starting with `<end_of_image>`, `<image_soft_token>`, then 8 audio ids starting with
    `<end_of_audio>`, `<audio_soft_token>` (128 + 128 in Gemma-3n); the last audio id pads
    clips shorter than 30 s. The processor puts 188 audio soft tokens per clip, as the real one
    does. `audio` and `text` override keys of the audio and the text config. The vision tower
    is never saved (see `gemma3n_vision_stub`, needed to load the folder without timm). The
    generation config is google/gemma-3n-E2B-it's (sampling; stops at `<eos>` or
    `<end_of_turn>`). `initializer_range` is far above 0.02 so that greedy output depends on
    the audio (at 0.02 every clip decodes to the same tokens).
    """
    from transformers import (
        AutoModel,
        Gemma3nAudioFeatureExtractor,
        Gemma3nConfig,
        Gemma3nForConditionalGeneration,
        Gemma3nProcessor,
        GemmaTokenizer,
        SiglipImageProcessorPil,
    )
    from transformers.utils import is_timm_available

    mm_size = 8  # vision and audio "hard token" tables (128 each in Gemma-3n)
    vocab, merges = _gemma_bpe(200)
    if len(vocab) > text_vocab_size:
        raise ValueError(f"text_vocab_size {text_vocab_size} < {len(vocab)} trained tokens")
    vocab = _pad_vocab(vocab, text_vocab_size)
    vision_offset, audio_offset = text_vocab_size, text_vocab_size + mm_size
    for offset, first, soft in (
        (vision_offset, GEMMA_MM_NAMES["eoi_token"], GEMMA_MM_NAMES["image_token"]),
        (audio_offset, GEMMA_MM_NAMES["eoa_token"], GEMMA_MM_NAMES["audio_token"]),
    ):
        vocab[first], vocab[soft] = offset, offset + 1
        for i in range(2, mm_size):
            vocab[f"filler{offset + i}"] = offset + i
    tokenizer = GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        extra_special_tokens=dict(GEMMA_MM_NAMES),
        add_bos_token=True,
        add_eos_token=False,
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": list(GEMMA_TURN_TOKENS)}, replace_extra_special_tokens=False
    )
    tokenizer.padding_side = "left"
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in [*GEMMA_SPECIALS, *GEMMA_TURN_TOKENS]}
    processor = Gemma3nProcessor(
        feature_extractor=Gemma3nAudioFeatureExtractor(),
        image_processor=SiglipImageProcessorPil(
            size={"height": 768, "width": 768},
            image_mean=[0.0, 0.0, 0.0],
            image_std=[1.0, 1.0, 1.0],
            resample=2,
        ),
        tokenizer=tokenizer,
        chat_template=GEMMA3N_CHAT_TEMPLATE,
        audio_seq_length=188,
        image_seq_length=256,
    )
    config = Gemma3nConfig(
        text_config={
            "vocab_size": audio_offset + mm_size,
            "vocab_size_per_layer_input": text_vocab_size,
            **TINY_DECODER,
            "layer_types": ["sliding_attention", "full_attention"],
            "head_dim": 16,
            "hidden_size_per_layer_input": 8,
            "laurel_rank": 4,
            "altup_num_inputs": 2,
            "num_kv_shared_layers": 0,
            "max_position_embeddings": 2048,
            "initializer_range": initializer_range,
            "pad_token_id": ids["<pad>"],
            "eos_token_id": ids["<eos>"],
            "bos_token_id": ids["<bos>"],
        }
        | (text or {}),
        audio_config={
            "vocab_size": mm_size,
            "vocab_offset": audio_offset,
            "hidden_size": 32,
            "conf_num_attention_heads": 2,
            "conf_num_hidden_layers": 2,
            "sscp_conv_channel_size": [8, 8],
            "initializer_range": initializer_range,
        }
        | (audio or {}),
        vision_config={
            "architecture": "test_efficientnet",
            "hidden_size": 32,
            "vocab_size": mm_size,
            "vocab_offset": vision_offset,
        },
        boi_token_id=tokenizer.boi_token_id,
        eoi_token_id=tokenizer.eoi_token_id,
        image_token_id=tokenizer.image_token_id,
        boa_token_id=tokenizer.boa_token_id,
        eoa_token_id=tokenizer.eoa_token_id,
        audio_token_id=tokenizer.audio_token_id,
        audio_soft_tokens_per_image=188,
        vision_soft_tokens_per_image=256,
        initializer_range=initializer_range,
    )
    _seed(seed)
    with gemma3n_vision_stub(force=True):
        model = Gemma3nForConditionalGeneration(config).eval()
    if is_timm_available():
        # Saved with a real (tiny, random) vision tower, as a real checkpoint has one; built
        # last, so that the audio and text weights are the same with and without timm.
        model.model.vision_tower = AutoModel.from_config(config.vision_config).eval()
    # As google/gemma-3n-E2B-it's generation_config.json: sampling by default, two stop ids.
    return save_tiny(
        out,
        model,
        processor,
        bos_token_id=ids["<bos>"],
        eos_token_id=[ids["<eos>"], ids["<end_of_turn>"]],
        pad_token_id=ids["<pad>"],
        do_sample=True,
        top_k=64,
        top_p=0.95,
    )


# --------------------------------------------------------------------------------------------
# Audio Flamingo 3
# --------------------------------------------------------------------------------------------

AF3_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<sound>")
# Audio Flamingo 3's layout: ChatML turns with Qwen's default system turn, each clip one <sound>
# (the processor expands it to one token per frame); the adapter puts the clip before the text.
AF3_CHAT_TEMPLATE = chatml_template("<sound>", "You are a helpful assistant.")


def build_audio_flamingo3(
    out: Path,
    seed: int = 0,
    *,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    vocab_size: int | None = None,
    initializer_range: float = 0.3,
) -> Path:
    """A tiny Audio Flamingo 3 (Whisper-style encoder + avg-pool + Qwen2 decoder).

    Processor: AudioFlamingo3Processor (WhisperFeatureExtractor with 128 mel bins and
    Qwen2Tokenizer with `<sound>`), which cuts audio into 30 s windows, pads each to 30 s and
    puts one `<sound>` per 40 ms of audio. The generation config is the real checkpoint's
    (sampling, repetition_penalty 1.05). `initializer_range` is far above 0.02 so that greedy
    output depends on the audio.
    """
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
        WhisperFeatureExtractor,
    )

    tokenizer = qwen_style_tokenizer(AF3_SPECIALS, vocab_size)
    tokenizer.padding_side = "left"
    processor = AudioFlamingo3Processor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128, return_attention_mask=True),
        tokenizer=tokenizer,
        chat_template=AF3_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in AF3_SPECIALS}
    config = AudioFlamingo3Config(
        audio_config={
            "model_type": "audioflamingo3_encoder",
            **TINY_AUDIO_ENCODER,
            "intermediate_size": 64,
            "max_source_positions": 1500,
            "initializer_range": initializer_range,
        }
        | (audio or {}),
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "max_position_embeddings": 2048,
            "initializer_range": initializer_range,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        }
        | (text or {}),
        audio_token_id=ids["<sound>"],
    )
    _seed(seed)
    model = AudioFlamingo3ForConditionalGeneration(config).eval()
    # As nvidia/audio-flamingo-3-hf's generation_config.json (convert_audioflamingo3_to_hf.py).
    return save_tiny(
        out,
        model,
        processor,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=True,
        repetition_penalty=1.05,
        temperature=0.7,
        top_k=20,
        top_p=0.8,
    )


# --------------------------------------------------------------------------------------------
# GLM-ASR
# --------------------------------------------------------------------------------------------

# GLM-4's special tokens, in its order (GLM-ASR-Nano-2512: <|endoftext|> 59246, <|user|> 59253,
# <|observation|> 59255 are the stop ids, <|pad|> 59260 is the audio placeholder).
GLM_SPECIALS = (
    "<|endoftext|>",
    "[MASK]",
    "[gMASK]",
    "[sMASK]",
    "<sop>",
    "<eop>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|observation|>",
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<|begin_of_video|>",
    "<|end_of_video|>",
    "<|pad|>",
    "<|begin_of_audio|>",
    "<|end_of_audio|>",
)
# GLM-ASR's layout: GLM-4 role markers each followed by a newline, no turn end; a clip is
# <|begin_of_audio|><|pad|><|end_of_audio|> (the processor expands <|pad|>) and then a second
# <|user|> marker, so the request text that follows is a user turn of its own.
GLM_ASR_CHAT_TEMPLATE = chat_template(
    turn_start={role: f"<|{role}|>\n" for role in ("system", "user", "assistant")},
    turn_end="",
    audio="<|begin_of_audio|><|pad|><|end_of_audio|><|user|>\n",
    generation_prompt="<|assistant|>\n",
)


def build_glm_asr(
    out: Path,
    seed: int = 0,
    *,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    vocab_size: int | None = None,
    initializer_range: float = 0.3,
) -> Path:
    """A tiny GLM-ASR (rotary Whisper-style encoder, 4-frame merge projector, Llama decoder).

    Processor: GlmAsrProcessor (WhisperFeatureExtractor with 128 mel bins, a byte-level BPE
    `TokenizersBackend` with GLM-4's special tokens, pad = eos = `<|endoftext|>` as in the
    conversion script); `<|pad|>` is the audio placeholder, one per 80 ms of audio. The
    encoder's `intermediate_size` must be 4 x `hidden_size` (the projector reshapes 4 frames
    into one). `initializer_range` is far above 0.02 so that greedy output depends on the audio.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        GlmAsrConfig,
        GlmAsrForConditionalGeneration,
        GlmAsrProcessor,
        TokenizersBackend,
        WhisperFeatureExtractor,
    )

    vocab, merges = _byte_bpe(500, [])
    vocab = _pad_vocab(vocab, vocab_size and vocab_size - len(GLM_SPECIALS))
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    tokenizer = TokenizersBackend(
        tokenizer_object=backend,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=list(GLM_SPECIALS[1:]),
    )
    tokenizer.add_special_tokens({"eos_token": "<|endoftext|>"})
    tokenizer.padding_side = "left"
    processor = GlmAsrProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tokenizer,
        chat_template=GLM_ASR_CHAT_TEMPLATE,
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in GLM_SPECIALS}
    stop_ids = [ids["<|endoftext|>"], ids["<|user|>"], ids["<|observation|>"]]
    config = GlmAsrConfig(
        audio_config={
            "model_type": "glmasr_encoder",
            **TINY_AUDIO_ENCODER,
            "intermediate_size": 4 * TINY_AUDIO_ENCODER["hidden_size"],
            "max_position_embeddings": 1500,
            "initializer_range": initializer_range,
        }
        | (audio or {}),
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "max_position_embeddings": 2048,
            "initializer_range": initializer_range,
            "eos_token_id": stop_ids,
            "pad_token_id": ids["<|endoftext|>"],
        }
        | (text or {}),
        audio_token_id=ids["<|pad|>"],
    )
    _seed(seed)
    model = GlmAsrForConditionalGeneration(config).eval()
    return save_tiny(
        out,
        model,
        processor,
        eos_token_id=stop_ids,
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
    )


BUILDERS = {
    "gemma3n": build_gemma3n,
    "audio-flamingo3": build_audio_flamingo3,
    "glm-asr": build_glm_asr,
}
