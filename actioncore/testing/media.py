"""Tiny media files for tests: a video with a sound track (the synthetic data sets have none)."""
from __future__ import annotations

import math
import os
from fractions import Fraction

import av
import numpy as np


def write_tone_video(path: str | os.PathLike[str], *, tone_hz: float | None = None, seconds: float = 1.0,
                     rate: int = 44100, fps: int = 8, size: int = 32) -> None:
    """An mp4 of ``seconds``: gray MPEG-4 frames and, when ``tone_hz`` is set, a sine tone of that
    frequency (amplitude 0.5, AAC stereo at ``rate`` Hz); without it the file has no audio stream."""
    with av.open(os.fspath(path), "w") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.width = video.height = size
        video.pix_fmt = "yuv420p"
        audio = None
        if tone_hz is not None:
            audio = out.add_stream("aac", rate=rate)
            audio.layout = "stereo"
        for i in range(int(fps * seconds)):
            image = np.full((size, size, 3), (16 * i) % 256, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())
        if audio is None:
            return
        t = np.arange(int(rate * seconds)) / rate
        wave = (0.5 * np.sin(2 * math.pi * tone_hz * t)).astype(np.float32)
        for start in range(0, wave.size, 1024):
            packed = np.repeat(wave[start:start + 1024], 2)[None]  # packed stereo: L R L R ...
            frame = av.AudioFrame.from_ndarray(packed, format="flt", layout="stereo")
            frame.sample_rate = rate
            frame.pts, frame.time_base = start, Fraction(1, rate)
            out.mux(audio.encode(frame))
        out.mux(audio.encode())
