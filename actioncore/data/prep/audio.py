"""``actioncore data audio-features``: log-mel spectrograms of videos' sound tracks, as MMAction2 0.24.

MMAction2 0.24 prepares audio in two steps, ``tools/data/extract_audio.py`` (ffmpeg, video ->
audio file) and ``tools/data/build_audio_features.py`` (``AudioTools(fft_size=512,
hop_size=256)``, its default ``spectrogram_type='lws'``). This module does both in one pass,
from the video file, with these numbers of the 0.24 tool:

- the sound is decoded with PyAV and resampled to 16 kHz mono (``librosa.load(sr=16000)``);
- RMS normalisation to 0.1 (``audio_normalize``: ``rms = max(1e-4, sqrt(mean(x**2)))``);
- the STFT of ``lws.lws(512, 256, mode='speech')``: frames of 512 samples (32 ms) every 256
  (16 ms), the signal zero-padded by 512 - 256 samples on both sides and at the end to whole
  frames (lws's ``perfectrec``), analysis window ``sqrt(hann_sym(512) * 2 * 256 / 512)`` with
  lws's half-sample-offset symmetric Hann, no FFT zero-padding: 257 bins;
- 80 mel filters, 125-7600 Hz, librosa's Slaney scale and Slaney (area) normalisation;
- ``20 log10(max(1e-5, mel)) - 20`` dB (``min_level_db`` -100, ``ref_level_db`` 20), then
  ``clip((S + 100) / 100, 0, 1)``;
- written as float32 ``[frames, 80]`` ``.npy`` (about 62.5 frames per second of sound).

The 0.24 tool applies no pre-emphasis (its ``AudioTools`` has none); neither does this. The
resampler is FFmpeg's (swresample) rather than librosa's soxr, so samples differ by resampling
noise, not in level or timing. torchaudio has no build for this torch version, hence
``torch.fft`` and a mel matrix computed here (checked against the closed form in the tests).
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch

from ...errors import DataError
from .jobs import JobReport, VideoJob, find_videos, run_jobs

SAMPLE_RATE = 16000
FFT_SIZE = 512
HOP_SIZE = 256
NUM_MELS = 80
FMIN = 125.0
FMAX = 7600.0
MIN_LEVEL_DB = -100.0
REF_LEVEL_DB = 20.0
DESIRED_RMS = 0.1
RMS_EPS = 1e-4


def decode_audio(path: str | os.PathLike[str], *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The first audio stream of ``path`` as float32 mono samples at ``sample_rate`` (PyAV's resampler).

    A file without an audio stream (or with no decodable sound) raises :class:`DataError` naming it.
    """
    path = os.fspath(path)
    chunks: list[np.ndarray] = []
    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise DataError(f"{path}: no audio stream (the video has no sound track to take "
                                "audio features from)", path=path)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(audio=0):
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as exc:
        raise DataError(f"{path}: cannot decode the audio: {exc}", path=path) from None
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise DataError(f"{path}: the audio stream holds no samples", path=path)
    return samples


def rms_normalize(samples: torch.Tensor) -> torch.Tensor:
    """``audio_normalize`` of the 0.24 tool: scaled to an RMS of 0.1 (silence, RMS < 1e-4, is amplified by 1e3)."""
    rms = samples.square().mean().sqrt().clamp(min=RMS_EPS)
    return samples * (DESIRED_RMS / rms)


def lws_window(frame_size: int, hop: int) -> torch.Tensor:
    """lws's default analysis window: ``sqrt(hann(n, symmetric=True) * 2 * hop / n)``, float64.

    lws's "symmetric" Hann is sampled at half-sample offsets, ``0.5 (1 - cos(pi (2k + 1) / n))``,
    not torch's (periodic) or numpy's (end points at 0) Hann.
    """
    k = torch.arange(frame_size, dtype=torch.float64)
    hann = 0.5 * (1 - torch.cos(math.pi * (2 * k + 1) / frame_size))
    return (hann * 2 * hop / frame_size).sqrt()


def lws_stft_magnitude(samples: torch.Tensor, *, frame_size: int = FFT_SIZE, hop: int = HOP_SIZE) -> torch.Tensor:
    """``|lws.lws(frame_size, hop).stft(x)|``: float64 ``[frames, frame_size // 2 + 1]``."""
    pad = frame_size - hop
    x = torch.nn.functional.pad(samples.to(torch.float64), (pad, pad))
    length = x.numel()
    frames = (length - frame_size) // hop + (1 if length % hop == 0 else 2)
    x = torch.nn.functional.pad(x, (0, (frames - 1) * hop + frame_size - length))
    windowed = x.unfold(0, frame_size, hop) * lws_window(frame_size, hop)
    return torch.fft.rfft(windowed, n=frame_size).abs()


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """librosa's Slaney mel scale: linear (3 mels per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (math.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((math.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@lru_cache(maxsize=4)
def mel_filters(*, sample_rate: int = SAMPLE_RATE, n_fft: int = FFT_SIZE, n_mels: int = NUM_MELS,
                fmin: float = FMIN, fmax: float = FMAX) -> torch.Tensor:
    """``librosa.filters.mel(sr, n_fft, n_mels=, fmin=, fmax=)`` (Slaney scale and norm): float64 ``[n_mels, bins]``.

    Triangles between n_mels + 2 points equally spaced in mel from fmin to fmax, each scaled by
    ``2 / (f[i + 2] - f[i])`` so that filters have equal area.
    """
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"mel filters need 0 <= fmin < fmax <= sample_rate / 2, got {fmin}, {fmax}, {sample_rate}")
    bins = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return torch.from_numpy(weights)


def log_mel_features(samples: np.ndarray | torch.Tensor) -> np.ndarray:
    """The 0.24 tool's ``audio_to_spectrogram(read_audio(...))`` of 16 kHz mono samples:
    float32 ``[frames, 80]`` in [0, 1]."""
    wav = rms_normalize(torch.as_tensor(samples, dtype=torch.float64))
    mel = lws_stft_magnitude(wav) @ mel_filters().T
    decibels = 20 * torch.log10(mel.clamp(min=10 ** (MIN_LEVEL_DB / 20))) - REF_LEVEL_DB
    return ((decibels - MIN_LEVEL_DB) / -MIN_LEVEL_DB).clamp(0, 1).to(torch.float32).numpy()


def video_features(job: VideoJob, *, out: str) -> dict[str, Any]:
    """``out/<job.name>.npy`` for one video; an existing file is kept (as the 0.24 tool does)."""
    target = Path(out) / f"{job.name}.npy"
    if target.is_file():
        return {"frames": int(np.load(target, mmap_mode="r").shape[0]), "skipped": True}
    features = log_mel_features(decode_audio(job.source))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as stream:
        np.save(stream, features, allow_pickle=False)
    os.replace(partial, target)  # a stopped run never leaves a truncated .npy behind
    return {"frames": int(features.shape[0]), "skipped": False}


def extract_audio_features(source: str | os.PathLike[str], out: str | os.PathLike[str], *, workers: int = 1,
                           progress: bool = True) -> JobReport:
    """Audio features of ``source`` (a video, or every video under a folder) in ``out``; a video
    without sound is reported among the failures, by name."""
    jobs = find_videos(source)
    Path(out).mkdir(parents=True, exist_ok=True)
    return run_jobs(video_features, jobs, workers=workers, progress=progress, out=os.fspath(out))
