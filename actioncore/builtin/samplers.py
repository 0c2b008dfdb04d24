"""Frame-index samplers: which frames of a video make up each clip.

Samplers only do index arithmetic. They read ``num_frames`` (and ``fps`` where time matters) from a
:class:`~actioncore.data.sample.VideoSample` and set ``frame_indices`` to an int64 array
``[num_clips, clip_len]`` of 0-based indices in presentation order; the decoder applies
``start_index`` and reads the frames. Every random draw comes from ``sample.rng``, which the data
loader seeds per (seed, epoch, rank, worker, index), so a sample's clips are reproducible.

The index-based samplers reproduce MMAction2 1.2.0's arithmetic exactly (its ``frame_inds`` minus
``start_index``), given the same random draws; the time-based one follows PyTorchVideo's clip
samplers. The arithmetic is exposed as plain functions so it can be tested and reused directly.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal

import numpy as np
import torch

from actioncore.data.sample import VideoSample
from actioncore.errors import ConfigError, DataError

OutOfBound = Literal["loop", "repeat_last"]

__all__ = [
    "DenseSampleFrames",
    "OutOfBound",
    "SampleFrames",
    "TimeClipSampler",
    "UntrimmedSampleFrames",
    "apply_out_of_bound",
    "clip_span",
    "dense_clip_offsets",
    "dense_frame_indices",
    "eval_clip_offsets",
    "sample_frame_indices",
    "time_clip_starts",
    "time_frame_indices",
    "train_clip_offsets",
    "uniform_temporal_subsample",
    "untrimmed_frame_indices",
    "window_frame_indices",
]


def _positive(owner: str, **values: int | float | None) -> None:
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ConfigError(f"{owner}: {name} must be positive, got {value!r}")


def _check_out_of_bound(owner: str, value: str) -> None:
    if value not in ("loop", "repeat_last"):
        raise ConfigError(f"{owner}: out_of_bound_opt must be 'loop' or 'repeat_last', got {value!r}")


def _num_frames(sample: VideoSample) -> int:
    """The frame count to sample from; a video without frames cannot give a clip."""
    if not sample.num_frames or sample.num_frames < 1:
        raise DataError(
            f"{sample.source}: the number of frames is {sample.num_frames!r}, so no frames can be "
            "sampled (an empty or unreadable video, or an annotation with a frame count of 0)",
            path=sample.source,
        )
    return int(sample.num_frames)


def _store(sample: VideoSample, frame_indices: np.ndarray) -> VideoSample:
    sample.frame_indices = frame_indices
    sample.num_clips, sample.clip_len = frame_indices.shape
    return sample


def clip_span(
    clip_len: int,
    frame_interval: int = 1,
    *,
    test_mode: bool = False,
    fps_scale_ratio: float | None = None,
) -> float:
    """Frames a clip covers, as MMAction2 measures it when placing clip offsets.

    Training reserves ``clip_len * frame_interval`` frames (the interval after the last frame
    included), testing only up to the last sampled frame. With a target frame rate
    (``fps_scale_ratio = fps / target_fps``) both modes use the training span scaled to the
    video's rate, as PySlowFast does; it may be fractional.
    """
    if fps_scale_ratio is not None:
        return float(max(1.0, clip_len * frame_interval * fps_scale_ratio))
    if test_mode:
        return (clip_len - 1) * frame_interval + 1
    return clip_len * frame_interval


def train_clip_offsets(
    num_frames: int,
    span: float,
    num_clips: int,
    rng: np.random.Generator,
    *,
    keep_tail_frames: bool = False,
) -> np.ndarray:
    """Random first-frame offsets, one per segment of the video (TSN-style segment sampling).

    The video minus one clip span is cut into ``num_clips`` equal segments and each clip starts at
    a random frame of its segment. Videos too short for that fall back, in MMAction2's order, to
    sorted random starts, evenly rounded starts, or all-zero starts. ``keep_tail_frames`` uses
    fractional segments so the last frames of the video can be drawn as well.
    """
    room = num_frames - span + 1
    if keep_tail_frames:
        avg_interval = room / num_clips
        if num_frames > span - 1:
            base = np.arange(num_clips) * avg_interval
            return np.trunc(base + avg_interval * rng.random(num_clips))
        return np.zeros(num_clips)
    avg_interval = room // num_clips
    if avg_interval > 0:
        base = np.arange(num_clips) * avg_interval
        return (base + rng.integers(int(avg_interval), size=num_clips)).astype(np.float64)
    if num_frames > max(num_clips, span):
        return np.sort(rng.integers(int(room), size=num_clips)).astype(np.float64)
    if avg_interval == 0:
        return np.around(np.arange(num_clips) * (room / num_clips))
    return np.zeros(num_clips)


def eval_clip_offsets(
    num_frames: int,
    span: float,
    num_clips: int,
    *,
    clip_len: int,
    twice_sample: bool = False,
    floor_spacing: bool = False,
) -> np.ndarray:
    """Deterministic, evenly spread first-frame offsets for evaluation.

    Single-frame clips (2D models) sit at the centre of ``num_clips`` equal segments; offsets are
    fractional and truncated only once the frame indices are complete, as in MMAction2.
    ``twice_sample`` (TSM's accurate test) adds the segment starts as a second set of clips.
    Longer clips are spread from the first to the last possible start; a single clip is centred.

    For longer clips with ``twice_sample``, the ``2 * num_clips`` starts are spread evenly over
    the video (MMAction2 0.x). MMAction2 1.2.0 spaces them by ``max_offset / (num_clips - 1)``,
    which runs past the end for the second half (and divides by zero for one clip).
    ``floor_spacing`` floors the spacing instead of rounding each offset (the target-fps path).
    """
    if clip_len == 1:
        avg_interval = num_frames / float(num_clips)
        base = np.arange(num_clips) * avg_interval
        offsets = base + avg_interval / 2.0
        return np.concatenate([offsets, base]) if twice_sample else offsets
    total = num_clips * 2 if twice_sample else num_clips
    max_offset = max(num_frames - span, 0)
    if total == 1:
        return np.array([max_offset // 2], dtype=np.float64)
    if floor_spacing:
        return np.arange(total) * np.floor(max_offset / float(total - 1))
    return np.round(np.arange(total) * (max_offset / float(total - 1)))


def apply_out_of_bound(frame_inds: np.ndarray, num_frames: int, opt: OutOfBound) -> np.ndarray:
    """Bring indices past the last frame back into the video.

    ``loop`` wraps around to the start; ``repeat_last`` repeats each clip's largest valid index
    (0 when a clip has none), so a short video gives a clip that freezes on its last frame.
    """
    if opt == "loop":
        return np.mod(frame_inds, num_frames)
    if opt == "repeat_last":
        safe = frame_inds < num_frames
        last = np.max(np.where(safe, frame_inds, 0), axis=1, keepdims=True)
        return np.where(safe, frame_inds, last)
    raise ConfigError(f"out_of_bound_opt must be 'loop' or 'repeat_last', got {opt!r}")


def _finish(
    offsets: np.ndarray,
    steps: np.ndarray,
    num_frames: int,
    *,
    frame_interval: int,
    temporal_jitter: bool,
    out_of_bound_opt: OutOfBound,
    rng: np.random.Generator | None,
) -> np.ndarray:
    frame_inds = offsets[:, None] + steps[None, :]
    if temporal_jitter:
        frame_inds = frame_inds + rng.integers(frame_interval, size=frame_inds.size).reshape(
            frame_inds.shape
        )
    frame_inds = apply_out_of_bound(frame_inds, num_frames, out_of_bound_opt)
    return frame_inds.astype(np.int64)


def sample_frame_indices(
    num_frames: int,
    *,
    clip_len: int,
    frame_interval: int = 1,
    num_clips: int = 1,
    test_mode: bool = False,
    twice_sample: bool = False,
    out_of_bound_opt: OutOfBound = "loop",
    keep_tail_frames: bool = False,
    temporal_jitter: bool = False,
    fps: float | None = None,
    target_fps: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """MMAction2's ``SampleFrames`` as a function: int64 indices ``[clips, clip_len]``.

    There are ``2 * num_clips`` clips with ``twice_sample`` in test mode. With ``target_fps`` and a
    known ``fps`` a clip covers ``clip_len * frame_interval`` frames at the target rate, sampled
    with ``clip_len`` evenly spaced indices; without ``fps`` the ratio is taken as 1.
    ``rng`` is needed in training and for ``temporal_jitter``.
    """
    ratio = None
    if target_fps is not None:
        ratio = fps / target_fps if fps else 1.0
    span = clip_span(clip_len, frame_interval, test_mode=test_mode, fps_scale_ratio=ratio)
    if test_mode:
        offsets = eval_clip_offsets(
            num_frames,
            span,
            num_clips,
            clip_len=clip_len,
            twice_sample=twice_sample,
            floor_spacing=target_fps is not None,
        )
    else:
        offsets = train_clip_offsets(
            num_frames, span, num_clips, rng, keep_tail_frames=keep_tail_frames
        )
    if target_fps is not None:
        steps = np.linspace(0, span - 1, clip_len).astype(np.int64)
    else:
        steps = np.arange(clip_len) * frame_interval
    return _finish(
        offsets,
        steps,
        num_frames,
        frame_interval=frame_interval,
        temporal_jitter=temporal_jitter,
        out_of_bound_opt=out_of_bound_opt,
        rng=rng,
    )


class SampleFrames:
    """Segment-based clip sampling (TSN, TSM, I3D, SlowFast...), MMAction2's ``SampleFrames``.

    ``clip_len x frame_interval x num_clips`` reads as in MMAction2 config names: 1x1x8 takes one
    frame from each of 8 segments, 32x2x1 one clip of 32 frames two apart. Training draws a
    random start per segment; test mode places clips deterministically.
    """

    needs_pixels = False

    def __init__(
        self,
        *,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        test_mode: bool = False,
        twice_sample: bool = False,
        out_of_bound_opt: OutOfBound = "loop",
        keep_tail_frames: bool = False,
        temporal_jitter: bool = False,
        target_fps: float | None = None,
    ) -> None:
        _positive(
            "sample_frames",
            clip_len=clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
            target_fps=target_fps,
        )
        _check_out_of_bound("sample_frames", out_of_bound_opt)
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.num_clips = num_clips
        self.test_mode = test_mode
        self.twice_sample = twice_sample
        self.out_of_bound_opt = out_of_bound_opt
        self.keep_tail_frames = keep_tail_frames
        self.temporal_jitter = temporal_jitter
        self.target_fps = target_fps

    def __call__(self, sample: VideoSample) -> VideoSample:
        indices = sample_frame_indices(
            _num_frames(sample),
            clip_len=self.clip_len,
            frame_interval=self.frame_interval,
            num_clips=self.num_clips,
            test_mode=self.test_mode,
            twice_sample=self.twice_sample,
            out_of_bound_opt=self.out_of_bound_opt,
            keep_tail_frames=self.keep_tail_frames,
            temporal_jitter=self.temporal_jitter,
            fps=sample.fps,
            target_fps=self.target_fps,
            rng=sample.frame_rng,
        )
        return _store(sample, indices)

    def __repr__(self) -> str:
        return (
            f"SampleFrames(clip_len={self.clip_len}, frame_interval={self.frame_interval}, "
            f"num_clips={self.num_clips}, test_mode={self.test_mode}, "
            f"twice_sample={self.twice_sample}, out_of_bound_opt={self.out_of_bound_opt!r}, "
            f"keep_tail_frames={self.keep_tail_frames}, temporal_jitter={self.temporal_jitter}, "
            f"target_fps={self.target_fps})"
        )


def dense_clip_offsets(
    num_frames: int,
    *,
    sample_range: int,
    num_clips: int,
    num_sample_positions: int = 10,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """First-frame offsets for dense sampling: clips packed into one ``sample_range`` window.

    The window starts at a random frame in training and at ``num_sample_positions`` evenly spaced
    frames in test mode (``num_sample_positions * num_clips`` clips, window by window); inside it
    the clips are ``sample_range // num_clips`` frames apart.
    """
    sample_position = max(1, 1 + num_frames - sample_range)
    base = np.arange(num_clips) * (sample_range // num_clips)
    if test_mode:
        starts = np.linspace(0, sample_position - 1, num=num_sample_positions, dtype=int)
    elif sample_position == 1:
        starts = np.zeros(1, dtype=int)
    else:
        starts = np.array([rng.integers(0, sample_position - 1)])
    return ((starts[:, None] + base[None, :]) % num_frames).reshape(-1)


def dense_frame_indices(
    num_frames: int,
    *,
    clip_len: int,
    frame_interval: int = 1,
    num_clips: int = 1,
    sample_range: int = 64,
    num_sample_positions: int = 10,
    test_mode: bool = False,
    temporal_jitter: bool = False,
    out_of_bound_opt: OutOfBound = "loop",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """MMAction2's ``DenseSampleFrames`` as a function: int64 indices ``[clips, clip_len]``."""
    offsets = dense_clip_offsets(
        num_frames,
        sample_range=sample_range,
        num_clips=num_clips,
        num_sample_positions=num_sample_positions,
        test_mode=test_mode,
        rng=rng,
    )
    return _finish(
        offsets,
        np.arange(clip_len) * frame_interval,
        num_frames,
        frame_interval=frame_interval,
        temporal_jitter=temporal_jitter,
        out_of_bound_opt=out_of_bound_opt,
        rng=rng,
    )


class DenseSampleFrames:
    """Dense sampling (non-local I3D, R(2+1)D on Kinetics), MMAction2's ``DenseSampleFrames``.

    All clips come from one window of ``sample_range`` frames rather than from the whole video;
    test mode repeats that at ``num_sample_positions`` window positions.
    """

    needs_pixels = False

    def __init__(
        self,
        *,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        sample_range: int = 64,
        num_sample_positions: int = 10,
        test_mode: bool = False,
        temporal_jitter: bool = False,
        out_of_bound_opt: OutOfBound = "loop",
    ) -> None:
        _positive(
            "dense_sample_frames",
            clip_len=clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
            sample_range=sample_range,
            num_sample_positions=num_sample_positions,
        )
        _check_out_of_bound("dense_sample_frames", out_of_bound_opt)
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.num_clips = num_clips
        self.sample_range = sample_range
        self.num_sample_positions = num_sample_positions
        self.test_mode = test_mode
        self.temporal_jitter = temporal_jitter
        self.out_of_bound_opt = out_of_bound_opt

    def __call__(self, sample: VideoSample) -> VideoSample:
        indices = dense_frame_indices(
            _num_frames(sample),
            clip_len=self.clip_len,
            frame_interval=self.frame_interval,
            num_clips=self.num_clips,
            sample_range=self.sample_range,
            num_sample_positions=self.num_sample_positions,
            test_mode=self.test_mode,
            temporal_jitter=self.temporal_jitter,
            out_of_bound_opt=self.out_of_bound_opt,
            rng=sample.frame_rng,
        )
        return _store(sample, indices)

    def __repr__(self) -> str:
        return (
            f"DenseSampleFrames(clip_len={self.clip_len}, frame_interval={self.frame_interval}, "
            f"num_clips={self.num_clips}, sample_range={self.sample_range}, "
            f"num_sample_positions={self.num_sample_positions}, test_mode={self.test_mode}, "
            f"temporal_jitter={self.temporal_jitter}, "
            f"out_of_bound_opt={self.out_of_bound_opt!r})"
        )


def untrimmed_frame_indices(
    num_frames: int, *, clip_len: int = 1, clip_interval: int = 16, frame_interval: int = 1
) -> np.ndarray:
    """Clips centred every ``clip_interval`` frames over the whole video (feature extraction).

    Centres are ``clip_interval // 2, + clip_interval, ...`` below ``num_frames``; each clip takes
    ``clip_len`` frames ``frame_interval`` apart around its centre, clamped to the video.
    Returns ``[0, clip_len]`` when the video ends before the first centre.
    """
    centres = np.arange(clip_interval // 2, num_frames, clip_interval)
    steps = np.arange(
        -(clip_len // 2 * frame_interval),
        frame_interval * (clip_len - clip_len // 2),
        frame_interval,
    )
    return np.clip(centres[:, None] + steps[None, :], 0, num_frames - 1).astype(np.int64)


class UntrimmedSampleFrames:
    """Regular clips over an untrimmed video, MMAction2's ``UntrimmedSampleFrames``.

    Used to extract per-snippet features for temporal localization (BMN, BSN); the number of
    clips depends on the video's length.
    """

    needs_pixels = False

    def __init__(self, *, clip_len: int = 1, clip_interval: int = 16, frame_interval: int = 1):
        _positive(
            "untrimmed_sample_frames",
            clip_len=clip_len,
            clip_interval=clip_interval,
            frame_interval=frame_interval,
        )
        self.clip_len = clip_len
        self.clip_interval = clip_interval
        self.frame_interval = frame_interval

    def __call__(self, sample: VideoSample) -> VideoSample:
        num_frames = _num_frames(sample)
        indices = untrimmed_frame_indices(
            num_frames,
            clip_len=self.clip_len,
            clip_interval=self.clip_interval,
            frame_interval=self.frame_interval,
        )
        if not len(indices):
            raise DataError(
                f"{sample.source}: {num_frames} frames is too short for clips centred every "
                f"{self.clip_interval} frames (the first centre is frame {self.clip_interval // 2})",
                path=sample.source,
            )
        return _store(sample, indices)

    def __repr__(self) -> str:
        return (
            f"UntrimmedSampleFrames(clip_len={self.clip_len}, "
            f"clip_interval={self.clip_interval}, frame_interval={self.frame_interval})"
        )


def time_clip_starts(
    duration: Fraction,
    *,
    clip_duration: Fraction,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
) -> list[Fraction]:
    """Clip start times in seconds, as PyTorchVideo's clip samplers choose them.

    Training draws each start uniformly in ``[0, duration - clip_duration]``
    (``RandomClipSampler``, ``RandomMultiClipSampler``); test mode puts clip ``i`` at
    ``i * max_start / num_clips`` (``ConstantClipsPerVideoSampler``), so one clip starts at 0.
    Times are exact fractions, so window edges that fall on a frame are not lost to rounding.
    """
    max_start = max(duration - clip_duration, Fraction(0))
    if test_mode:
        return [max_start * i / num_clips for i in range(num_clips)]
    return [Fraction(float(max_start) * float(draw)) for draw in rng.random(num_clips)]


def uniform_temporal_subsample(num_available: int, num_samples: int) -> np.ndarray:
    """``num_samples`` evenly spaced positions among ``num_available`` frames, first and last
    included, repeating frames when there are too few: PyTorchVideo's
    ``UniformTemporalSubsample``, computed as it does (float32 linspace, then truncation)."""
    positions = torch.linspace(0, num_available - 1, num_samples, dtype=torch.float32)
    return positions.clamp(0, num_available - 1).long().numpy()


def _as_written(value: float) -> Fraction:
    """A configured number as the decimal it was written as (2.56 is 64/25, not the float's binary
    approximation, which would put a frame exactly on a window's end inside the window)."""
    return Fraction(str(float(value)))


def window_frame_indices(
    start_sec: Fraction,
    end_sec: Fraction,
    *,
    fps: float,
    num_frames: int,
    num_samples: int,
) -> np.ndarray:
    """Subsample the frames shown in ``[start_sec, end_sec)`` to ``num_samples`` indices.

    Frame ``i`` is shown at ``i / fps``; the window holds the frames PyTorchVideo's PyAV reader
    returns for it (from ``ceil(start * fps)`` up to, not including, ``ceil(end * fps)``), cut at
    the end of the video. A window with no frame in it uses the frame at its start. ``fps`` is
    taken as the decimal it prints as.
    """
    rate = _as_written(fps)
    first = min(math.ceil(start_sec * rate), num_frames - 1)
    stop = min(math.ceil(end_sec * rate), num_frames)
    return first + uniform_temporal_subsample(max(stop - first, 1), num_samples)


def time_frame_indices(
    num_frames: int,
    fps: float,
    *,
    clip_duration: float,
    num_frames_per_clip: int,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Time-based sampling as a function: int64 indices ``[num_clips, num_frames_per_clip]``.

    The video lasts ``num_frames / fps`` seconds; each clip is a ``clip_duration``-second window
    (:func:`time_clip_starts`) subsampled to ``num_frames_per_clip`` frames. ``fps`` and
    ``clip_duration`` are taken as the decimals they print as, where PyTorchVideo uses the binary
    value of the float; the two differ only when a window edge falls exactly on a frame.
    """
    duration = num_frames / _as_written(fps)
    length = _as_written(clip_duration)
    starts = time_clip_starts(
        duration, clip_duration=length, num_clips=num_clips, test_mode=test_mode, rng=rng
    )
    clips = [
        window_frame_indices(
            start, start + length, fps=fps, num_frames=num_frames, num_samples=num_frames_per_clip
        )
        for start in starts
    ]
    return np.stack(clips).astype(np.int64)


class TimeClipSampler:
    """Clips defined in seconds rather than frames, like PyTorchVideo's clip samplers.

    A clip is a ``clip_duration``-second window, random in training and evenly placed in test
    mode, from which ``num_frames_per_clip`` evenly spaced frames are taken; the frames a clip
    spans therefore follow the video's frame rate. Needs ``sample.fps``.
    """

    needs_pixels = False

    def __init__(
        self,
        *,
        clip_duration: float,
        num_frames_per_clip: int,
        num_clips: int = 1,
        test_mode: bool = False,
    ) -> None:
        _positive(
            "time_clip_sampler",
            clip_duration=clip_duration,
            num_frames_per_clip=num_frames_per_clip,
            num_clips=num_clips,
        )
        self.clip_duration = clip_duration
        self.num_frames_per_clip = num_frames_per_clip
        self.num_clips = num_clips
        self.test_mode = test_mode

    def __call__(self, sample: VideoSample) -> VideoSample:
        num_frames = _num_frames(sample)
        if not sample.fps or not sample.fps > 0:
            raise DataError(
                f"{sample.source}: the frame rate is unknown ({sample.fps!r}), and time-based "
                "clip sampling needs it to turn seconds into frames",
                path=sample.source,
            )
        indices = time_frame_indices(
            num_frames,
            sample.fps,
            clip_duration=self.clip_duration,
            num_frames_per_clip=self.num_frames_per_clip,
            num_clips=self.num_clips,
            test_mode=self.test_mode,
            rng=sample.frame_rng,
        )
        return _store(sample, indices)

    def __repr__(self) -> str:
        return (
            f"TimeClipSampler(clip_duration={self.clip_duration}, "
            f"num_frames_per_clip={self.num_frames_per_clip}, num_clips={self.num_clips}, "
            f"test_mode={self.test_mode})"
        )
