"""Tiny replicas of the seed papers' released models, in their released file layouts, offline.

  build_eiv       laion/Empathic-Insight-Voice-Small/-Large: a Whisper checkpoint (here a
                  4-s window, d_model 8) plus one model_<Dimension>_best.pth per emotion or
                  attribute (55, named as released), LAION's FullEmbeddingMLP state dicts
                  with their widths divided by 4; every other file saved with the
                  `_orig_mod.` key prefix that torch.compile leaves in the release.
  build_wav2small audeering/wav2small: model.safetensors + config.json at the real size
                  (13 channels, 26 mel bands, ~17 K parameters) or smaller, random weights
                  with a real DFT front end.
Weights are random (seeded); the reference modules here rebuild each head and the Wav2Small
pipeline independently of the adapters' code, for direct reference computations.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EMOTION_FILES = (
    "Amusement", "Elation", "Pleasure_Ecstasy", "Contentment", "Thankfulness_Gratitude",
    "Affection", "Infatuation", "Hope_Enthusiasm_Optimism", "Triumph", "Pride", "Interest",
    "Awe", "Astonishment_Surprise", "Concentration", "Contemplation", "Relief", "Longing",
    "Teasing", "Impatience_and_Irritability", "Sexual_Lust", "Doubt", "Fear", "Distress",
    "Confusion", "Embarrassment", "Shame", "Disappointment", "Sadness", "Bitterness",
    "Contempt", "Disgust", "Anger", "Malevolence_Malice", "Sourness", "Pain", "Helplessness",
    "Fatigue_Exhaustion", "Emotional_Numbness", "Intoxication_Altered_States_of_Consciousness",
    "Jealousy_&_Envy",
)  # fmt: skip
ATTRIBUTE_FILES = (
    "Valence", "Arousal", "Submissive_vs._Dominant", "Age", "Gender", "Serious_vs._Humorous",
    "Vulnerable_vs._Emotionally_Detached", "Confident_vs._Hesitant", "Warm_vs._Cold",
    "Monotone_vs._Expressive", "High-Pitched_vs._Low-Pitched", "Soft_vs._Harsh",
    "Authenticity", "Recording_Quality", "Background_Noise",
)  # fmt: skip
# (projection, hidden widths) of the released heads; replicas divide them by 4.
HEAD_SIZES = {"small": (64, (64, 32, 16)), "large": (128, (128, 64, 32))}
WINDOW_S, D_MODEL = 4, 8


def reference_head(in_dim: int, proj: int, hidden: tuple[int, ...]) -> Any:
    """LAION's FullEmbeddingMLP, rebuilt: flatten, proj, then ReLU/Dropout/Linear blocks."""
    from torch import nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(in_dim, proj)
            layers: list[nn.Module] = [nn.ReLU(), nn.Dropout(0.0)]
            for a, b in zip((proj, *hidden), hidden, strict=False):
                layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(0.1)]
            layers.append(nn.Linear(hidden[-1], 1))
            self.mlp = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return self.mlp(self.proj(x.flatten(1)))

    return Head()


def build_whisper_encoder(out: Path, seed: int = 0) -> Path:
    """A tiny WhisperForConditionalGeneration (4-s window) and its feature extractor."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor
    from transformers import WhisperForConditionalGeneration as Whisper

    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=64, num_mel_bins=80, d_model=D_MODEL, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=16,
        decoder_ffn_dim=16, max_source_positions=WINDOW_S * 50, max_target_positions=16,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, init_std=0.5,
    )  # fmt: skip
    Whisper(config).eval().save_pretrained(out)
    WhisperFeatureExtractor(chunk_length=WINDOW_S).save_pretrained(out)
    return out


def build_eiv(
    out: Path, variant: str = "small", names: tuple[str, ...] | None = None, seed: int = 0
) -> dict[str, Path]:
    """{"encoder": folder, "heads": folder} in the released layout (see module doc)."""
    import torch

    proj, hidden = HEAD_SIZES[variant]
    proj, hidden = proj // 4, tuple(w // 4 for w in hidden)
    encoder = build_whisper_encoder(out / "encoder", seed)
    heads = out / "heads"
    heads.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed + 1)
    for i, name in enumerate(names or (*EMOTION_FILES, *ATTRIBUTE_FILES)):
        head = reference_head(WINDOW_S * 50 * D_MODEL, proj, hidden)
        with torch.no_grad():  # outputs spread over a few units, like the trained heads
            head.mlp[-1].weight.mul_(10.0)
            head.mlp[-1].bias.fill_(1.5 + 0.05 * i)
        state = head.state_dict()
        prefix = "_orig_mod." if i % 2 else ""
        torch.save({prefix + k: v for k, v in state.items()}, heads / f"model_{name}_best.pth")
    return {"encoder": encoder, "heads": heads}


def load_reference_heads(folder: Path) -> dict[str, Any]:
    """{dimension: reference module} loaded strictly from every head file of a folder."""
    import torch

    out = {}
    for path in sorted(folder.glob("model_*_best.pth")):
        state = torch.load(path, weights_only=True)
        state = {k.removeprefix("_orig_mod."): v for k, v in state.items()}
        widths = [state[k].shape[0] for k in sorted(state, key=_order) if k.endswith("weight")]
        head = reference_head(state["proj.weight"].shape[1], widths[0], tuple(widths[1:-1]))
        head.load_state_dict(state, strict=True)
        out[path.name.removeprefix("model_").removesuffix("_best.pth")] = head.eval()
    return out


def reference_eiv(eiv: dict[str, Path], clips: list[Any]) -> dict[str, Any]:
    """{head: (clips,) raw outputs} from transformers' encoder and the rebuilt heads."""
    import torch
    from transformers import WhisperFeatureExtractor, WhisperModel

    extractor = WhisperFeatureExtractor.from_pretrained(eiv["encoder"])
    encoder = WhisperModel.from_pretrained(eiv["encoder"]).get_encoder().eval()
    heads = load_reference_heads(eiv["heads"])
    with torch.no_grad():
        features = extractor(clips, sampling_rate=16000, return_tensors="pt").input_features
        hidden = encoder(features).last_hidden_state
        return {name: head(hidden)[:, 0].numpy() for name, head in heads.items()}


@contextlib.contextmanager
def count_calls(module: object) -> Iterator[list[int]]:
    """Clips per forward call of `module` while the block runs (a forward hook)."""
    calls: list[int] = []
    handle = module.register_forward_hook(lambda _m, args, _out: calls.append(len(args[0])))
    try:
        yield calls
    finally:
        handle.remove()


def _order(key: str) -> int:
    return -1 if key.startswith("proj") else int(key.split(".")[1])


def dft_weights(n_fft: int = 64) -> tuple[Any, Any]:
    """Hann-windowed DFT rows (bins, 1, n_fft), real and imaginary, as the card builds them."""
    import numpy as np
    import torch

    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    bins = np.arange(n_fft // 2 + 1)[:, None]
    matrix = np.exp(-2j * np.pi * bins * n[None, :] / n_fft) * window[None, :]
    to = lambda x: torch.tensor(x[:, None, :], dtype=torch.float32)  # noqa: E731
    return to(matrix.real), to(matrix.imag)


def build_wav2small(
    out: Path, channels: int = 13, mels: int = 26, seed: int = 0, config: bool = True
) -> Path:
    """model.safetensors (+ config.json) with audeering/wav2small's keys and random weights."""
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(seed)
    rand = lambda *shape, s=0.3: torch.randn(*shape, generator=gen) * s  # noqa: E731
    real, imag = dft_weights()
    state = {
        "vgg7.spectrogram_extractor.conv_real.weight": real,
        "vgg7.spectrogram_extractor.conv_imag.weight": imag,
        "vgg7.logmel_extractor.mel": torch.rand(mels, real.shape[0], generator=gen),
        "adv.weight": rand(3, channels * (mels // 2) + channels * channels, s=0.05),
        "adv.bias": torch.tensor([0.5, 0.5, 0.5]),
    }
    for i in range(1, 8):
        cin = 1 if i == 1 else channels
        p = f"vgg7.l{i}."
        state |= {p + "conv.weight": rand(channels, cin, 3, 3), p + "conv.bias": rand(channels)}
        state |= {p + "bn.weight": 1 + rand(channels, s=0.1), p + "bn.bias": rand(channels)}
        state |= {
            p + "bn.running_mean": rand(channels),
            p + "bn.running_var": 0.5 + rand(channels).abs(),
        }
        state[p + "bn.num_batches_tracked"] = torch.tensor(100)
    for name in ("lin", "sof"):
        state |= {
            f"vgg7.{name}.weight": rand(channels, channels, 1, 1),
            f"vgg7.{name}.bias": rand(channels),
        }
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    if config:
        meta = {"architectures": ["Wav2Small"], "model_type": "wav2vec2", "half_mel": mels // 2}
        (out / "config.json").write_text(json.dumps({**meta, "n_fft": 64, "hop": 32}))
    return out


def reference_wav2small(state: dict[str, Any], audio: Any, hop: int = 32) -> Any:
    """Wav2Small's forward pass written out with torch.nn.functional, from a state dict."""
    import torch
    import torch.nn.functional as F

    x = torch.as_tensor(audio, dtype=torch.float32)[None]
    x = (x - x.mean()) / torch.sqrt(((x - x.mean()) ** 2).mean() + 1e-7)
    re = F.conv1d(x[:, None], state["vgg7.spectrogram_extractor.conv_real.weight"], stride=hop)
    im = F.conv1d(x[:, None], state["vgg7.spectrogram_extractor.conv_imag.weight"], stride=hop)
    h = torch.log(state["vgg7.logmel_extractor.mel"] @ torch.sqrt(re**2 + im**2) + 1e-7)[:, None]
    for i in range(1, 8):
        p = f"vgg7.l{i}."
        h = F.conv2d(h, state[p + "conv.weight"], state[p + "conv.bias"], padding=1)
        mean, var = state[p + "bn.running_mean"], state[p + "bn.running_var"]
        scale = state[p + "bn.weight"] / torch.sqrt(var + 1e-5)
        h = torch.relu(
            (h - mean[:, None, None]) * scale[:, None, None] + state[p + "bn.bias"][:, None, None]
        )
        h = F.max_pool2d(h, (2, 1)) if i == 3 else h
    lin = F.conv2d(h, state["vgg7.lin.weight"], state["vgg7.lin.bias"])
    sof = F.conv2d(h, state["vgg7.sof.weight"], state["vgg7.sof.bias"])
    pooled = (lin * torch.softmax(sof, dim=3)).sum(3)[0]  # (channels, mel/2)
    features = torch.cat([pooled, pooled @ pooled.T], 1).flatten()
    return state["adv.weight"] @ features + state["adv.bias"]


def write_emonet_data(root: Path, clips: list[Path]) -> Path:
    """EmoNet-Voice's local layout: labels.csv (audioId, label) + audio/, three raters."""
    from voxeval.tasks.emonet_voice_data import EMOTIONS

    (root / "audio").mkdir(parents=True, exist_ok=True)
    with (root / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["audioId", "label"])
        for i, clip in enumerate(clips):
            shutil.copy(clip, root / "audio" / clip.name)
            raters = [
                {f"r{r}": {e: (i + r + j) % 3 for j, e in enumerate(EMOTIONS)}} for r in range(3)
            ]
            writer.writerow([clip.name, repr(raters)])
    return root


def write_adv_data(root: Path, clips: list[Path]) -> Path:
    """adv-regression's simple layout: labels.csv (0-1 values, split test) + audio/."""
    (root / "audio").mkdir(parents=True, exist_ok=True)
    with (root / "labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "arousal", "dominance", "valence", "split"])
        for i, clip in enumerate(clips):
            shutil.copy(clip, root / "audio" / clip.name)
            writer.writerow([clip.name, 0.2 + 0.2 * i, 0.7 - 0.15 * i, 0.3 + 0.1 * i, "test"])
    return root
