"""Decode any audio source to mono float32 at the rate an adapter asks for."""

from __future__ import annotations

import io
from math import gcd
from pathlib import Path

import numpy as np

from voxeval.errors import SampleError
from voxeval.types import AudioSource


def load_audio(source: AudioSource, target_sr: int | None) -> tuple[np.ndarray, int]:
    """Decode `source`, down-mix to mono and resample to `target_sr` (None keeps the rate).

    Raises SampleError(kind="decode") with a message naming the file for anything unusable.
    """
    waveform, sr = _decode(source)
    if waveform.ndim == 2:
        waveform = waveform.mean(axis=1)
    if waveform.size == 0:
        raise SampleError("decode", f"{_describe(source)} is empty (zero-length audio)")
    if not np.isfinite(waveform).all():
        raise SampleError("decode", f"{_describe(source)} contains NaN or infinite samples")
    if target_sr and sr != target_sr:
        waveform, sr = resample(waveform, sr, target_sr), target_sr
    return waveform.astype(np.float32, copy=False), sr


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for integer rate ratios."""
    from scipy.signal import resample_poly

    g = gcd(orig_sr, target_sr)
    return resample_poly(waveform, target_sr // g, orig_sr // g).astype(np.float32)


def _decode(source: AudioSource) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if isinstance(source, tuple):
        array, sr = np.asarray(source[0]), int(source[1])
        if np.issubdtype(array.dtype, np.integer):  # PCM integers → [-1, 1), as soundfile does
            return array.astype(np.float32) / -float(np.iinfo(array.dtype).min), sr
        return array.astype(np.float32, copy=False), sr
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        raise SampleError("decode", f"audio file not found: {source}")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        return sf.read(handle, dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise SampleError("decode", f"could not decode {_describe(source)}: {exc}") from exc


def _describe(source: AudioSource) -> str:
    if isinstance(source, bytes):
        return f"audio bytes ({len(source)} B)"
    if isinstance(source, tuple):
        return "audio array"
    return f"audio file {source}"
