"""Temporal sampling of pose sequences: ``uniform_sample_frames`` and ``pose_decode``.

The index arithmetic is MMAction2 1.2.0's ``UniformSampleFrames``: a clip of ``clip_len`` frames
takes one frame from each of ``clip_len`` equal segments; shorter sequences loop, and sequences
shorter than twice the clip keep every frame and repeat a random ``clip_len + 1 - T`` of them.
Training draws from ``sample.rng``. Test mode draws from a NumPy ``RandomState(seed)`` created
per sample, which is what MMAction2's ``np.random.seed(seed)`` amounts to, so test clips are the
same as MMAction2's, index for index.

(MMAction2 also computes "transitional" frames where the person count changes and then mixes
the integer indices with themselves; that has no effect and is left out.)
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from actioncore.sdk.data import VideoSample
from actioncore.sdk import ConfigError, DataError

from .state import pose_of, require_decoded

RandomSource = np.random.Generator | np.random.RandomState


def _draw_below(rng: RandomSource, high: np.ndarray | int) -> np.ndarray | int:
    """Uniform integers in ``[0, high)`` from either kind of NumPy random source."""
    return rng.integers(high) if isinstance(rng, np.random.Generator) else rng.randint(high)


def _one_clip(num_frames: int, clip_len: int, clip: int, num_clips: int, rng: RandomSource, test_mode: bool) -> np.ndarray:
    if num_frames < clip_len:
        if test_mode:  # evenly spread starts, no randomness
            start = clip if num_frames < num_clips else clip * num_frames // num_clips
        else:
            start = int(_draw_below(rng, num_frames))
        return np.arange(start, start + clip_len)
    if num_frames < 2 * clip_len:
        # keep every frame once and repeat num_frames - clip_len ... of the clip_len + 1 gaps
        repeated = rng.choice(clip_len + 1, num_frames - clip_len, replace=False)
        offset = np.zeros(clip_len + 1, dtype=np.int64)
        offset[repeated] = 1
        return np.arange(clip_len) + np.cumsum(offset)[:-1]
    bounds = np.array([i * num_frames // clip_len for i in range(clip_len + 1)])
    return bounds[:clip_len] + _draw_below(rng, np.diff(bounds))


def uniform_frame_indices(num_frames: int, *, clip_len: int, num_clips: int = 1, test_mode: bool = False,
                          seed: int = 255, rng: np.random.Generator | None = None) -> np.ndarray:
    """int64 ``[num_clips, clip_len]`` frame indices in ``[0, num_frames)``.

    ``rng`` is used for training; test mode ignores it and uses ``seed``.
    """
    if num_frames < 1:
        raise ValueError(f"uniform_sample_frames: no frames to sample from ({num_frames})")
    source: RandomSource = np.random.RandomState(seed) if test_mode else (rng or np.random.default_rng())
    clips = [_one_clip(num_frames, clip_len, i, num_clips, source, test_mode) for i in range(num_clips)]
    return np.mod(np.stack(clips), num_frames).astype(np.int64)


@attrs.frozen(kw_only=True)
class UniformSampleFrames:
    """Sample ``num_clips`` clips of ``clip_len`` frames each, uniformly over the sequence.

    Train with ``test_mode = false`` (one random frame per segment); validate and test with
    ``test_mode = true`` and e.g. ``num_clips = 10`` (MMAction2's fixed ``seed = 255``).
    """

    needs_pixels: ClassVar[bool] = False
    clip_len: int
    num_clips: int = 1
    test_mode: bool = False
    seed: int = 255

    def __attrs_post_init__(self) -> None:
        if self.clip_len < 1 or self.num_clips < 1:
            raise ValueError(f"uniform_sample_frames: clip_len ({self.clip_len}) and num_clips "
                             f"({self.num_clips}) must be positive")

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "uniform_sample_frames")
        require_decoded(state, "uniform_sample_frames", decoded=False)
        if state.num_frames < 1:
            raise DataError(f"{sample.source}: no frames to sample from", path=sample.source)
        indices = uniform_frame_indices(state.num_frames, clip_len=self.clip_len, num_clips=self.num_clips,
                                        test_mode=self.test_mode, seed=self.seed, rng=sample.rng)
        sample.frame_indices = indices
        sample.num_clips, sample.clip_len = indices.shape
        return sample


@attrs.frozen(kw_only=True)
class PoseDecode:
    """Gather the sampled frames (row-major over clips): ``keypoint [M, num_clips * clip_len, V, C]``.

    Without a sampling step before it, every frame is kept as one clip. Arrays become float32.
    """

    needs_pixels: ClassVar[bool] = False

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_decode")
        if state.decoded:
            raise ConfigError("pose_decode appears twice in the pipeline")
        if sample.frame_indices is None:
            sample.frame_indices = np.arange(state.num_frames, dtype=np.int64)[None]
            sample.num_clips, sample.clip_len = 1, state.num_frames
        indices = np.asarray(sample.frame_indices).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= state.num_frames):
            raise DataError(f"{sample.source}: frame index {int(indices.max())} outside the "
                            f"{state.num_frames} frames of the sequence", path=sample.source)
        state.keypoint = state.keypoint[:, indices].astype(np.float32)
        if state.keypoint_score is not None:
            state.keypoint_score = state.keypoint_score[:, indices].astype(np.float32)
        state.decoded = True
        return sample
