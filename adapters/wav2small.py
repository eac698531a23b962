"""wav2small: the Wav2Small student (arXiv 2408.13920) for arousal/dominance/valence.

What the authors publish (audeering/wav2small on the hub, CC BY-NC-SA 4.0): PyTorch weights,
`model.safetensors` (+ config.json), with the model code in the model card. No ONNX file is
published (the paper's quantised ONNX is not in the repository), so this adapter runs the
PyTorch weights with its own implementation of that code. The released model ("Wav2Small
2.0", ~17 K parameters; the paper's has 72 K) takes a raw 16-kHz waveform and returns
arousal, dominance, valence, in that order, "in range [0, 1]" (its card): the task's own
0–1 scale, so the mapping is the identity unless `output_scale` says otherwise.

The network, as the card's code reads (key names are the checkpoint's):
  per-clip mean/variance normalisation of the waveform;
  vgg7.spectrogram_extractor: a 64-sample DFT as two Conv1d (conv_real, conv_imag; 33 bins,
      hop 32) → magnitude (an earlier card revision used the power: `spectrogram=power`);
  vgg7.logmel_extractor: a (26 × 33) mel matrix, then log(x + 1e-7);
  vgg7.l1..l7: Conv2d 3×3 + BatchNorm + ReLU (13 channels), a (2, 1) max-pool over the mel
      axis after l3; attention pooling over time: lin(x) · softmax_time(sof(x)), summed;
  the pooled (13 × 13) map and its Gram matrix, flattened (338) → adv: Linear(338 → 3).
The card's snippet pools "dim 2", which only fits a 338-wide head if time is that axis;
time is pooled here, the one reading whose shapes match the checkpoint. Channel and mel
counts are read from the weights, so other sizes load too. One clip per forward pass: the
time pooling has no padding mask. The teacher (dkounadis/wav2small) is not released as
weights: its card assembles it from audeering's Dawn model, which `hf-regressor` runs, and
a WavLM model with custom code.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxeval.adapter import Adapter, AdapterArgs, TaskContext
from voxeval.adapters.hf_common import import_backend, resolve_device, to_mono_arrays
from voxeval.adapters.seed_files import (
    checked_file,
    folder_fingerprint,
    parse_range,
    resolve_folder,
)
from voxeval.errors import VoxevalError
from voxeval.types import ModelInput, Response, TaskKind

SAMPLING_RATE = 16000
WEIGHTS, CONFIG = "model.safetensors", "config.json"
MEL_KEYS = ("vgg7.logmel_extractor.mel", "vgg7.logmel_extractor.melW")
TASK_SCALE = (0.0, 1.0)  # adv-regression's declared scale


class Wav2SmallArgs(AdapterArgs):
    """--model-args of wav2small."""

    model: str = Field(
        "audeering/wav2small", description="folder or hub id holding model.safetensors"
    )
    revision: str | None = Field(None, description="hub revision; recorded in run.json")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "cpu", description="torch device (the model is tiny: cpu is the sensible default)"
    )
    spectrogram: Literal["magnitude", "power"] = Field(
        "magnitude", description="|DFT| as the current model card, or |DFT|^2 as an older one"
    )
    output_order: str = Field(
        "arousal,dominance,valence", description="names of the three outputs, in order"
    )
    output_scale: str = Field(
        "0:1", description="range of the outputs (card: [0, 1]), mapped onto the task's 0-1"
    )
    clip: bool = Field(False, description="clip mapped values into 0-1")
    batch_size: int = Field(
        16, ge=1, le=100_000, description="clips per predict call (each its own forward pass)"
    )


@cache
def _classes() -> dict[str, type]:
    """The network's modules, built on first use so that importing stays light."""
    import torch
    from torch import nn

    class Conv(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x: Any) -> Any:
            return self.bn(self.conv(x)).relu()

    class Spectrogram(nn.Module):
        def __init__(self, bins: int, n_fft: int, hop: int, power: bool) -> None:
            super().__init__()
            self.conv_real = nn.Conv1d(1, bins, n_fft, stride=hop, bias=False)
            self.conv_imag = nn.Conv1d(1, bins, n_fft, stride=hop, bias=False)
            self.power = power

        def forward(self, x: Any) -> Any:
            x = x[:, None, :]
            energy = self.conv_real(x) ** 2 + self.conv_imag(x) ** 2
            return energy if self.power else energy.sqrt()

    class LogMel(nn.Module):
        def __init__(self, name: str, mels: int, bins: int) -> None:
            super().__init__()
            self.key = name
            self.register_parameter(name, nn.Parameter(torch.zeros(mels, bins)))

        def forward(self, x: Any) -> Any:
            return torch.log(torch.matmul(getattr(self, self.key), x) + 1e-7)

    class Vgg7(nn.Module):
        def __init__(self, dims: dict[str, Any]) -> None:
            super().__init__()
            c = dims["channels"]
            for i in range(1, 8):
                setattr(self, f"l{i}", Conv(1 if i == 1 else c, c))
            self.lin = nn.Conv2d(c, c, 1)
            self.sof = nn.Conv2d(c, c, 1)
            self.maxpool_A = nn.MaxPool2d(kernel_size=(2, 1))
            self.spectrogram_extractor = Spectrogram(
                dims["bins"], dims["n_fft"], dims["hop"], dims["power"]
            )
            self.logmel_extractor = LogMel(dims["mel_name"], dims["mels"], dims["bins"])

        def forward(self, x: Any) -> Any:
            x = x - x.mean(1, keepdim=True)
            x = x / torch.sqrt((x * x).mean(1, keepdim=True) + 1e-7)
            x = self.logmel_extractor(self.spectrogram_extractor(x))[:, None]  # (b, 1, mel, t)
            for i in range(1, 8):
                x = getattr(self, f"l{i}")(x)
                x = self.maxpool_A(x) if i == 3 else x
            x = (self.lin(x) * self.sof(x).softmax(-1)).sum(-1)  # (b, c, mel/2)
            return torch.cat([x, torch.bmm(x, x.transpose(1, 2))], 2).flatten(1)

    class Wav2SmallNet(nn.Module):
        def __init__(self, dims: dict[str, Any]) -> None:
            super().__init__()
            self.vgg7 = Vgg7(dims)
            self.adv = nn.Linear(dims["features"], dims["outputs"])

        def forward(self, x: Any) -> Any:
            return self.adv(self.vgg7(x))

    return {"net": Wav2SmallNet}


def net_dims(state: dict[str, Any], hop: Any, power: bool) -> dict[str, Any]:
    """The network's sizes, read from the checkpoint (a clear error when a key is missing).

    The hop is not in the weights: config.json's `hop`, else half the DFT size (the card's).
    """
    need = [
        "vgg7.l1.conv.weight",
        "vgg7.spectrogram_extractor.conv_real.weight",
        "adv.weight",
    ]
    mel_name = next((k for k in MEL_KEYS if k in state), None)
    missing = [k for k in need if k not in state] + ([] if mel_name else [MEL_KEYS[0]])
    if missing:
        raise VoxevalError(
            f"{WEIGHTS} lacks {', '.join(missing)}: not a Wav2Small checkpoint (expected "
            "the vgg7.* / adv.* keys of audeering/wav2small)."
        )
    channels = int(state["vgg7.l1.conv.weight"].shape[0])
    bins, _, n_fft = (int(n) for n in state["vgg7.spectrogram_extractor.conv_real.weight"].shape)
    mels = int(state[mel_name].shape[0])
    outputs, features = (int(n) for n in state["adv.weight"].shape)
    expected = channels * (mels // 2) + channels * channels
    if features != expected:
        raise VoxevalError(
            f"{WEIGHTS}: adv.weight takes {features} features, but {channels} channels × "
            f"{mels // 2} pooled mel bands + the {channels}×{channels} Gram matrix make "
            f"{expected}. The checkpoint does not match the Wav2Small layout."
        )
    return {
        "channels": channels, "bins": bins, "n_fft": n_fft, "hop": int(hop or n_fft // 2),
        "mels": mels,
        "features": features, "outputs": outputs, "power": power,
        "mel_name": mel_name.rsplit(".", 1)[1],
    }  # fmt: skip


class Wav2SmallAdapter(Adapter):
    """The released Wav2Small student: raw waveform → arousal, dominance, valence."""

    name: ClassVar[str] = "wav2small"
    description: ClassVar[str] = (
        "Wav2Small A/D/V student (audeering/wav2small, PyTorch weights) (task: adv-regression)"
    )
    supports: ClassVar[frozenset[TaskKind]] = frozenset({"regression"})
    Args: ClassVar[type[AdapterArgs]] = Wav2SmallArgs
    args: Wav2SmallArgs

    def __init__(self, args: Wav2SmallArgs) -> None:
        super().__init__(args)
        self.net: Any = None
        self.device: Any = None
        self.info: dict[str, Any] = {}
        self.order = [n.strip() for n in args.output_order.split(",") if n.strip()]
        self.scale = parse_range(args.output_scale, "output_scale")
        self.clipped = 0

    def load(self) -> None:
        """Read model.safetensors (and config.json when present) and build the network."""
        if self.net is not None:
            return
        torch, _ = import_backend()
        from safetensors.torch import load_file

        self.device = resolve_device(torch, self.args.device)
        snap = resolve_folder(self.args.model, self.args.revision, [WEIGHTS, CONFIG], "model")
        if not (snap.path / WEIGHTS).exists():
            raise VoxevalError(
                f"No {WEIGHTS} in {snap.path}: Wav2Small is released as PyTorch weights in "
                f"that file (audeering/wav2small); point model= at the folder holding it."
            )
        weights = checked_file(snap.path / WEIGHTS, snap.root)
        config = self._config(snap.path / CONFIG, snap.root)
        state = load_file(str(weights))
        dims = net_dims(state, config.get("hop"), self.args.spectrogram == "power")
        self.net = self._build(dims, state)
        files = {WEIGHTS: weights, **({CONFIG: snap.path / CONFIG} if config else {})}
        digest, method = folder_fingerprint(files)
        self.info = {
            "revision": self.args.revision or snap.commit,
            "content_hash": digest,
            "hash_method": method,
            "dims": {k: v for k, v in dims.items() if k != "mel_name"},
            "hop_source": CONFIG if config.get("hop") else "n_fft / 2 (card)",
            "config": {k: config[k] for k in sorted(config) if not isinstance(config[k], dict)},
        }
        if dims["outputs"] != len(self.order):
            raise VoxevalError(
                f"The model has {dims['outputs']} outputs but output_order names "
                f"{len(self.order)} ({', '.join(self.order)})."
            )

    def _config(self, path: Any, root: Any) -> dict[str, Any]:
        if not path.exists():
            return {}
        try:
            config = json.loads(checked_file(path, root).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise VoxevalError(f"{path} is not valid JSON: {exc}") from None
        return config if isinstance(config, dict) else {}

    def _build(self, dims: dict[str, Any], state: dict[str, Any]) -> Any:
        net = _classes()["net"](dims)
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            detail = " ".join(str(exc).split())[:400]
            raise VoxevalError(
                f"{WEIGHTS} does not fit the Wav2Small layout ({detail}). Check that it is "
                "audeering/wav2small's file."
            ) from None
        return net.to(self.device).eval()

    def predict(self, batch: list[ModelInput], task: TaskContext) -> list[Response]:
        """values {arousal, dominance, valence} per clip, on the task's 0-1 scale."""
        import torch

        self.load()
        wanted = list(task.labels or self.order)
        unknown = [d for d in wanted if d not in self.order]
        if unknown:
            raise VoxevalError(
                f"Task {task.name!r} wants {', '.join(unknown)}; wav2small gives "
                f"{', '.join(self.order)} (output_order)."
            )
        out = []
        n_fft = self.net.vgg7.spectrogram_extractor.conv_real.kernel_size[0]
        for audio in to_mono_arrays(batch, SAMPLING_RATE):
            if len(audio) < n_fft:
                out.append(Response(error=f"clip shorter than {n_fft} samples"))
                continue
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(audio))[None].to(self.device)
                row = self.net(x)[0].float().cpu().numpy()
            values = dict(zip(self.order, (self._map(float(v)) for v in row), strict=True))
            out.append(Response(values={d: values[d] for d in wanted}))
        return out

    def _map(self, value: float) -> float:
        (low, high), (t_low, t_high) = self.scale, TASK_SCALE
        mapped = t_low + (value - low) / (high - low) * (t_high - t_low)
        if self.args.clip and not t_low <= mapped <= t_high:
            self.clipped += 1
            mapped = min(max(mapped, t_low), t_high)
        return mapped

    def model_info(self) -> dict[str, Any]:
        """Source, revision, content hash, size, input handling and output mapping."""
        info: dict[str, Any] = {"model": self.args.model, "revision": self.args.revision}
        if self.net is None:
            return info
        import torch

        info.update(self.info)
        info.update(
            architecture="Wav2Small (Vgg7 on a log-mel DFT front end, attention pooling)",
            format="safetensors (PyTorch), as published",
            # DFT and mel matrices are parameters of the release too (frozen, but counted)
            parameters=sum(p.numel() for p in self.net.parameters()),
            buffers=sum(b.numel() for b in self.net.buffers()),
            input="raw 16-kHz waveform, mean/variance normalised per clip; one clip per pass",
            spectrogram=self.args.spectrogram,
            pooling="attention over time (softmax of sof, weights on lin), then a Gram matrix",
            outputs=self.order,
            rescaling={
                "from": list(self.scale),
                "to": list(TASK_SCALE),
                "identity": self.scale == TASK_SCALE,
                "clip": self.args.clip,
                "clipped_values": self.clipped,
            },
            device=str(self.device),
            torch=torch.__version__,
        )
        return info

    def close(self) -> None:
        """Drop the network."""
        self.net = None
