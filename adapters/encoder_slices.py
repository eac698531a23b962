"""Audio encoders on a CPU: one clip per pass; only decoding is batched.

An audio encoder is compute-bound on a CPU, so batching it saves nothing and costs twice:
a batched pass over large activations spills out of the caches, and variable-length
models pay for the padding. Measured on a 2-core VM (torch 2.13, random weights):
  Whisper encoder (tiny.en shape, fixed 30-s window), 16 clips: one call 3.1 s, one clip per
      call 2.4 s; CTranslate2 int8 (faster-whisper tiny.en): 4.1 s vs 3.2 s
  wav2vec2-base-shaped CTC, 16 demo clips (2-6 s): batch 8 padded 6.9-7.1 s, 4: 5.5-5.6 s,
      2: 4.9-5.2 s, 1: 4.3-4.7 s
Decoding is where batching pays (each step reads every weight once, whatever the batch),
so generate() keeps the whole batch and only the encoder call is sliced. On a GPU the
whole batch goes through the encoder at once. `encoder_batch_size` overrides either.
"""

from __future__ import annotations

from typing import Any

CPU_ENCODER_SLICE = 1  # clips per encoder call on a CPU when the user does not choose


def encoder_slice(device_type: str, asked: int) -> int | None:
    """Clips per encoder call: `asked` if set (> 0), else 1 on a CPU and all elsewhere."""
    if asked > 0:
        return asked
    return CPU_ENCODER_SLICE if device_type == "cpu" else None


def slice_batches(module: Any, size: int | None) -> None:
    """Make `module.forward` run its batch in slices of `size` and join the outputs."""
    if size is None or getattr(module, "_voxeval_slice", None) == size:
        return
    original = getattr(module, "_voxeval_forward", module.forward)

    def forward(*args: Any, **kwargs: Any) -> Any:
        n = _batch_size(args, kwargs)
        if n is None or n <= size:
            return original(*args, **kwargs)
        parts = [
            original(*_take(args, n, start, size), **_take(kwargs, n, start, size))
            for start in range(0, n, size)
        ]
        return _join(parts)

    module._voxeval_forward = original
    module._voxeval_slice = size
    module.forward = forward


def _batch_size(args: tuple, kwargs: dict[str, Any]) -> int | None:
    first = args[0] if args else kwargs.get("input_features")
    return int(first.shape[0]) if hasattr(first, "shape") and first.ndim > 0 else None


def _take(values: Any, n: int, start: int, size: int) -> Any:
    """Slice every tensor whose first dimension is the batch; leave the rest as they are."""
    if isinstance(values, dict):
        return {k: _take(v, n, start, size) for k, v in values.items()}
    if isinstance(values, tuple):
        return tuple(_take(v, n, start, size) for v in values)
    if hasattr(values, "shape") and values.ndim > 0 and values.shape[0] == n:
        return values[start : start + size]
    return values


def _join(parts: list[Any]) -> Any:
    """Concatenate slice outputs along the batch: tensors, tuples of them, or ModelOutputs."""
    import torch

    first = parts[0]
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(parts, dim=0)
    if isinstance(first, tuple) and not hasattr(first, "keys"):
        return tuple(_join([p[i] for p in parts]) for i in range(len(first)))
    # A ModelOutput: rebuild the same class from the joined fields it has.
    return type(first)(**{key: _join([p[key] for p in parts]) for key in first})
