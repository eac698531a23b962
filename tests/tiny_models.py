"""Builders of tiny, randomly initialised transformers models saved with their processors.

Everything here runs offline: tokenizers are trained on a few sentences with the `tokenizers`
library, feature extractors use their constructor defaults, and weights are random (seeded).
Each builder writes a folder that `from_pretrained` (and so the hf-* adapters) can load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.tiny_audio_llms.templates import chatml_template

SENTENCES = [
    "Please remember to water the plants before you leave for work.",
    "The bakery on the corner sells fresh bread every morning.",
    "My brother borrowed my umbrella and never gave it back.",
    "She was angry, then happy, then sad, and finally calm and neutral.",
    "A quick brown fox jumps over the lazy dog near the river bank.",
    "What emotion do you hear in this voice? Answer with one word.",
    "Transcribe the audio. Describe the speaker. Reply kindly and briefly.",
]
WHISPER_LANGUAGES = ("en", "de", "fr")
QWEN_SPECIALS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|audio_bos|>",
    "<|AUDIO|>",
    "<|audio_eos|>",
)
# Qwen2-Audio's layout: ChatML turns, "You are a helpful assistant." when there is no system
# turn, each clip numbered and on its own line: "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>".
QWEN_CHAT_TEMPLATE = chatml_template(
    "Audio {n}: <|audio_bos|><|AUDIO|><|audio_eos|>\n", "You are a helpful assistant."
)
# Config keys of the tiny decoders and audio encoders that the audio-LLM builders share.
TINY_DECODER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
}
TINY_WHISPER_ENCODER = {  # Qwen2-Audio's and the Qwen Omni models' Whisper-style encoders
    "d_model": 32,
    "encoder_layers": 2,
    "encoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "num_mel_bins": 128,
}
TINY_AUDIO_ENCODER = {  # encoders with transformers' usual key names (no intermediate size)
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_mel_bins": 128,
}


def _byte_bpe(vocab_size: int, specials: list[str]) -> tuple[dict[str, int], list]:
    """Train a byte-level BPE on SENTENCES; returns (vocab, merges), specials first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(SENTENCES * 4, trainer)
    model = json.loads(tok.to_str())["model"]
    return model["vocab"], [
        tuple(m) if isinstance(m, list) else tuple(m.split()) for m in model["merges"]
    ]


def _pad_vocab(vocab: dict[str, int], size: int | None) -> dict[str, int]:
    """Grow a BPE vocabulary to `size` entries with filler tokens (real models' matrix sizes)."""
    padded = dict(vocab)
    next_id = max(padded.values()) + 1
    while size is not None and len(padded) < size:
        padded[f"filler{next_id}"] = next_id  # no merge produces it: never encoded, decodable
        next_id += 1
    return padded


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def qwen_style_tokenizer(
    specials: tuple[str, ...],
    vocab_size: int | None = None,
    *,
    bpe_size: int = 500,
    named: dict[str, str] | None = None,
) -> Any:
    """A Qwen2 tokenizer: byte-level BPE on SENTENCES, padded to `vocab_size`, with `specials`.

    `specials[0]` is the pad token ("<|endoftext|>"), the others are added as special tokens;
    eos is "<|im_end|>". `named` gives some of them names (e.g. "audio_token").
    """
    from transformers import Qwen2TokenizerFast

    vocab, merges = _byte_bpe(bpe_size, list(specials))
    tokenizer = Qwen2TokenizerFast(
        vocab=_pad_vocab(vocab, vocab_size),
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=named or {},
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": list(specials[1:])}, replace_extra_special_tokens=False
    )
    return tokenizer


def save_tiny(out: Path, model: Any, processor: Any, **generation: Any) -> Path:
    """Give `model` a GenerationConfig(**generation); save it and `processor` (if any) to `out`."""
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(**generation)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    if processor is not None:
        processor.save_pretrained(out)
    return out


def build_whisper(
    out: Path,
    *,
    d_model: int = 32,
    layers: int = 2,
    heads: int = 2,
    ffn: int = 64,
    multilingual: bool = False,
    init_std: float = 0.5,
    seed: int = 0,
    vocab_size: int | None = None,
) -> Path:
    """A tiny Whisper (English-only, or multilingual with en/de/fr) with its processor.

    `init_std` is far above Whisper's 0.02 so that a random model's greedy output depends on
    its input (at 0.02 every clip decodes to the same tokens) and is rarely a near-tie.
    `vocab_size` pads the vocabulary with filler tokens to a real checkpoint's size (51,864
    for the English-only Whisper), so that the output layer costs what the real one does.
    """
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    langs = [f"<|{code}|>" for code in WHISPER_LANGUAGES] if multilingual else []
    vocab, merges = _byte_bpe(400, ["<|endoftext|>"])
    n_added = len(langs) + 7 + 1501  # the special tokens and timestamps added below
    vocab = _pad_vocab(vocab, vocab_size and vocab_size - n_added)
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges)
    specials = [
        "<|startoftranscript|>",
        *langs,
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
    ]
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    # Timestamp tokens right after <|notimestamps|>, as in Whisper: long-form decoding needs them.
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ["<|endoftext|>", *specials]}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    _seed(seed)
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_target_positions=128,
        init_std=init_std,
        decoder_start_token_id=sot,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        begin_suppress_tokens=[eot],
        suppress_tokens=[],
    )
    model = WhisperForConditionalGeneration(config).eval()
    gen: dict[str, Any] = {
        "decoder_start_token_id": sot,
        "eos_token_id": eot,
        "pad_token_id": eot,
        "bos_token_id": eot,
        "no_timestamps_token_id": ids["<|notimestamps|>"],
        "begin_suppress_tokens": [eot],
        "suppress_tokens": [],
        "max_length": 128,
        "is_multilingual": multilingual,
    }
    if multilingual:
        gen["lang_to_id"] = {t: ids[t] for t in langs}
        gen["task_to_id"] = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    processor = WhisperProcessor(WhisperFeatureExtractor(), tokenizer)
    return save_tiny(out, model, processor, **gen)


def _wav2vec2_config(**extra: Any) -> Any:
    from transformers import Wav2Vec2Config

    return Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        classifier_proj_size=16,
        initializer_range=0.2,
        **extra,
    )


def _wav2vec2_extractor() -> Any:
    from transformers import Wav2Vec2FeatureExtractor

    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, do_normalize=True, return_attention_mask=True
    )


def build_wav2vec2_ctc(out: Path, seed: int = 0) -> Path:
    """A tiny wav2vec2 CTC model with a character vocabulary."""
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2ForCTC, Wav2Vec2Processor

    out.mkdir(parents=True, exist_ok=True)
    chars = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ'"]
    (out / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(chars)}))
    tokenizer = Wav2Vec2CTCTokenizer(
        str(out / "vocab.json"), pad_token="<pad>", unk_token="<unk>", word_delimiter_token="|"
    )
    _seed(seed)
    config = _wav2vec2_config(vocab_size=len(chars), pad_token_id=0, ctc_loss_reduction="mean")
    Wav2Vec2ForCTC(config).eval().save_pretrained(out)
    Wav2Vec2Processor(_wav2vec2_extractor(), tokenizer).save_pretrained(out)
    return out


def build_wav2vec2_classifier(
    out: Path, labels: tuple[str, ...] = ("ang", "hap", "sad", "neu"), seed: int = 0
) -> Path:
    """A tiny Wav2Vec2ForSequenceClassification with the given id2label names."""
    from transformers import Wav2Vec2ForSequenceClassification

    _seed(seed)
    config = _wav2vec2_config(
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    out.mkdir(parents=True, exist_ok=True)
    Wav2Vec2ForSequenceClassification(config).eval().save_pretrained(out)
    _wav2vec2_extractor().save_pretrained(out)
    return out


def build_wav2vec2_regressor(
    out: Path, names: tuple[str, ...] = ("arousal", "dominance", "valence"), seed: int = 0
) -> Path:
    """A tiny wav2vec2 with a regression head (problem_type="regression"), e.g. A/D/V."""
    from transformers import Wav2Vec2ForSequenceClassification

    _seed(seed)
    config = _wav2vec2_config(
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        problem_type="regression",
    )
    out.mkdir(parents=True, exist_ok=True)
    Wav2Vec2ForSequenceClassification(config).eval().save_pretrained(out)
    _wav2vec2_extractor().save_pretrained(out)
    return out


def build_qwen2_audio(
    out: Path,
    seed: int = 0,
    *,
    audio: dict[str, Any] | None = None,
    text: dict[str, Any] | None = None,
    vocab_size: int | None = None,
) -> Path:
    """A tiny Qwen2-Audio (Whisper-like encoder + Qwen2 decoder) with processor and template.

    `audio` and `text` override the encoder's and the decoder's config keys, and `vocab_size`
    pads the vocabulary with filler tokens (benches build real models' shapes this way).
    """
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    tokenizer = qwen_style_tokenizer(QWEN_SPECIALS, vocab_size)
    tokenizer.padding_side = "left"
    feature_extractor = WhisperFeatureExtractor(feature_size=128)
    processor = Qwen2AudioProcessor(
        feature_extractor=feature_extractor, tokenizer=tokenizer, chat_template=QWEN_CHAT_TEMPLATE
    )
    audio_id = tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    pad_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    _seed(seed)
    config = Qwen2AudioConfig(
        audio_config={
            "model_type": "qwen2_audio_encoder",
            **TINY_WHISPER_ENCODER,
            "max_source_positions": 1500,
        }
        | (audio or {}),
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(tokenizer),
            **TINY_DECODER,
            "max_position_embeddings": 1024,
            "pad_token_id": pad_id,
            "eos_token_id": eos_id,
        }
        | (text or {}),
        audio_token_index=audio_id,
    )
    model = Qwen2AudioForConditionalGeneration(config).eval()
    return save_tiny(
        out,
        model,
        processor,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        do_sample=False,
        max_new_tokens=16,
    )


BUILDERS = {
    "whisper": build_whisper,
    "whisper-multilingual": lambda out: build_whisper(out, multilingual=True),
    "ctc": build_wav2vec2_ctc,
    "classifier": build_wav2vec2_classifier,
    "regressor": build_wav2vec2_regressor,
    "qwen2-audio": build_qwen2_audio,
}


def build_audeering_style_regressor(
    out: Path, names: tuple[str, ...] = ("arousal", "dominance", "valence"), seed: int = 0
) -> Path:
    """A tiny copy of audeering's A/D/V layout: wav2vec2 + mean pooling + dense/tanh head.

    The classes follow the model card of audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim
    (not transformers' Wav2Vec2ForSequenceClassification), and the saved config names the
    architecture "Wav2Vec2ForSpeechClassification" as that checkpoint does.
    """
    _seed(seed)
    model = audeering_style_class()(
        _wav2vec2_config(
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={name: i for i, name in enumerate(names)},
            problem_type="regression",
            final_dropout=0.1,
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(out)
    _wav2vec2_extractor().save_pretrained(out)
    return out


def audeering_style_class() -> Any:
    """The model card's EmotionModel, named as the checkpoint's config names it."""
    import torch
    from torch import nn
    from transformers.models.wav2vec2.modeling_wav2vec2 import (
        Wav2Vec2Model,
        Wav2Vec2PreTrainedModel,
    )

    class RegressionHead(nn.Module):
        def __init__(self, config: Any) -> None:
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)
            self.dropout = nn.Dropout(config.final_dropout)
            self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

        def forward(self, features: Any) -> Any:
            x = self.dropout(features)
            x = torch.tanh(self.dense(x))
            return self.out_proj(self.dropout(x))

    class Wav2Vec2ForSpeechClassification(Wav2Vec2PreTrainedModel):
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.config = config
            self.wav2vec2 = Wav2Vec2Model(config)
            self.classifier = RegressionHead(config)
            self.post_init()

        def forward(self, input_values: Any) -> Any:
            hidden_states = self.wav2vec2(input_values)[0]
            pooled = torch.mean(hidden_states, dim=1)
            return pooled, self.classifier(pooled)

    return Wav2Vec2ForSpeechClassification


BUILDERS["audeering-style"] = build_audeering_style_regressor
