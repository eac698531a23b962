"""Audio decoding: mono down-mix, resampling, formats, in-memory sources, decode errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voxeval.audio import load_audio
from voxeval.errors import SampleError


def _sine(freq: float, sr: int, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(waveform: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(waveform * np.hanning(len(waveform))))
    return float(np.fft.rfftfreq(len(waveform), 1 / sr)[np.argmax(spectrum)])


def _write(path: Path, data: np.ndarray, sr: int, **kwargs: str) -> Path:
    sf.write(str(path), data, sr, **kwargs)
    return path


def test_mono_16k_wav_round_trip(tmp_path: Path) -> None:
    data = _sine(440, 16000)
    path = _write(tmp_path / "a.wav", data, 16000, subtype="FLOAT")
    waveform, sr = load_audio(path, 16000)
    assert sr == 16000
    assert waveform.dtype == np.float32
    assert waveform.ndim == 1
    np.testing.assert_array_equal(waveform, data)


def test_pcm16_wav_is_scaled_to_unit_range(tmp_path: Path) -> None:
    data = _sine(440, 16000)
    path = _write(tmp_path / "a.wav", data, 16000, subtype="PCM_16")
    waveform, _ = load_audio(str(path), 16000)
    np.testing.assert_allclose(waveform, data, atol=1 / 32768 + 1e-6)


def test_stereo_is_mean_of_channels(tmp_path: Path) -> None:
    left = _sine(440, 16000)
    right = _sine(1000, 16000, amp=0.25)
    path = _write(tmp_path / "s.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    waveform, _ = load_audio(path, 16000)
    assert waveform.shape == left.shape
    np.testing.assert_allclose(waveform, (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize("orig_sr", [8000, 22050, 44100])
def test_resampled_to_16k(tmp_path: Path, orig_sr: int) -> None:
    data = _sine(440, orig_sr)
    path = _write(tmp_path / f"r{orig_sr}.wav", data, orig_sr, subtype="FLOAT")
    waveform, sr = load_audio(path, 16000)
    assert sr == 16000
    assert waveform.dtype == np.float32
    assert abs(len(waveform) - len(data) * 16000 / orig_sr) <= 1
    assert abs(_peak_hz(waveform, 16000) - 440) <= 5
    # The tone keeps its level (no gain change from resampling), away from the edges.
    middle = waveform[1000:-1000]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_target_sr_none_keeps_rate(tmp_path: Path) -> None:
    data = _sine(440, 22050)
    path = _write(tmp_path / "k.wav", data, 22050, subtype="FLOAT")
    waveform, sr = load_audio(path, None)
    assert sr == 22050
    assert len(waveform) == len(data)


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"), [("flac", "FLAC", "PCM_16"), ("ogg", "OGG", "VORBIS")]
)
def test_compressed_formats_decode(tmp_path: Path, suffix: str, fmt: str, subtype: str) -> None:
    if fmt not in sf.available_formats():
        pytest.skip(f"libsndfile lacks {fmt}")
    data = _sine(440, 16000)
    path = _write(tmp_path / f"c.{suffix}", data, 16000, format=fmt, subtype=subtype)
    waveform, sr = load_audio(path, 16000)
    assert sr == 16000
    assert abs(len(waveform) - len(data)) <= 1
    assert abs(_peak_hz(waveform, 16000) - 440) <= 5


def test_bytes_input(tmp_path: Path) -> None:
    data = _sine(440, 8000)
    path = _write(tmp_path / "b.wav", data, 8000, subtype="FLOAT")
    waveform, sr = load_audio(path.read_bytes(), 16000)
    assert sr == 16000
    assert abs(len(waveform) - 2 * len(data)) <= 1
    assert abs(_peak_hz(waveform, 16000) - 440) <= 5


def test_array_tuple_input() -> None:
    data = _sine(440, 16000)
    waveform, sr = load_audio((data, 16000), 16000)
    assert sr == 16000
    np.testing.assert_array_equal(waveform, data)
    stereo = np.stack([data, np.zeros_like(data)], axis=1)
    mixed, _ = load_audio((stereo, 16000), None)
    np.testing.assert_allclose(mixed, data / 2)
    resampled, sr = load_audio((data.astype(np.float64), 16000), 8000)
    assert sr == 8000
    assert resampled.dtype == np.float32
    assert abs(len(resampled) - len(data) / 2) <= 1


def _decode_error(source: object) -> SampleError:
    with pytest.raises(SampleError) as info:
        load_audio(source, 16000)  # type: ignore[arg-type]
    assert info.value.kind == "decode"
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    err = _decode_error(path)
    assert "not found" in str(err)
    assert str(path) in str(err)
    assert "not found" in str(_decode_error(str(path)))


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    err = _decode_error(path)
    assert str(path) in str(err)


def test_zero_length_wav(tmp_path: Path) -> None:
    path = _write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 16000)
    err = _decode_error(path)
    assert str(path) in str(err)
    assert "empty" in str(err)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    err = _decode_error(path)
    assert str(path) in str(err)


def test_nan_samples(tmp_path: Path) -> None:
    data = _sine(440, 16000, seconds=0.1)
    data[100] = np.nan
    path = _write(tmp_path / "nan.wav", data, 16000, subtype="FLOAT")
    err = _decode_error(path)
    assert str(path) in str(err)
    assert "NaN" in str(err)


def test_corrupt_bytes_and_bad_arrays() -> None:
    assert "bytes" in str(_decode_error(b"not audio at all"))
    assert "empty" in str(_decode_error((np.zeros(0, dtype=np.float32), 16000)))
    bad = np.array([0.0, np.inf, 0.0], dtype=np.float32)
    assert "NaN or infinite" in str(_decode_error((bad, 16000)))


def test_integer_pcm_arrays_are_scaled_like_files() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    audio, sr = load_audio((pcm, 16000), None)
    assert sr == 16000 and audio.dtype == np.float32
    np.testing.assert_allclose(audio, [0.0, 0.5, -1.0, 32767 / 32768])
