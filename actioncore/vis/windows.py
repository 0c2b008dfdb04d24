"""A sliding window over a frame stream: score each window, hand every frame on with the labels
of the window it is shown under, hold no more than one window of frames.

Window ``k`` covers frames ``[k * stride, k * stride + window)``; frames ``[k * stride, (k + 1) *
stride)`` are emitted with window ``k``'s predictions once it is scored (the "current" window of
a frame is the latest one that starts at or before it). When the stream ends, the frames no window
has covered yet are scored as one last, shorter window; a stream shorter than one window is one
window.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import ConfigError

Predictions = list[dict[str, Any]]


def window_frames(seconds: float, fps: float, what: str) -> int:
    """``seconds`` of video in frames (at least one); a non-positive length is a ConfigError."""
    if not seconds > 0:
        raise ConfigError(f"--{what} must be a positive number of seconds, got {seconds}")
    return max(1, round(seconds * fps))


def slide(frames: Iterable[np.ndarray], *, fps: float, window: float, stride: float,
          score: Callable[[np.ndarray], Predictions],
          emit: Callable[[np.ndarray, Predictions], None]) -> list[dict[str, Any]]:
    """Run ``score`` on each window (uint8 ``[N, H, W, 3]``) and ``emit`` every frame with its
    window's predictions; returns the timeline ``[{start, end, predictions}]`` in seconds."""
    size, step = window_frames(window, fps, "window"), window_frames(stride, fps, "stride")
    if step > size:
        raise ConfigError(f"--stride ({stride} s) must not exceed --window ({window} s): frames between "
                          "windows would go unscored")
    timeline: list[dict[str, Any]] = []
    buffer: deque[np.ndarray] = deque()
    start = covered = 0  # first frame in the buffer; end of the frames the last window scored

    def scored(count: int) -> Predictions:
        nonlocal covered
        predictions = score(np.stack(list(buffer)[:count]))
        covered = start + count
        timeline.append({"start": round(start / fps, 3), "end": round((start + count) / fps, 3),
                         "predictions": predictions})
        return predictions

    for frame in frames:
        buffer.append(frame)
        if len(buffer) == size:
            predictions = scored(size)
            for _ in range(step):
                emit(buffer.popleft(), predictions)
            start += step
    if buffer:
        predictions = scored(len(buffer)) if not timeline or start + len(buffer) > covered \
            else timeline[-1]["predictions"]
        while buffer:
            emit(buffer.popleft(), predictions)
    return timeline
