"""``uniform_sample``: MMAction2 1.2.0's RGB ``UniformSample`` (SlowFast's Something-Something V2 sampler).

A clip of ``clip_len`` frames takes one frame from each of ``clip_len`` equal segments of the
``num_frames - 1`` frame gaps. Training draws one frame per segment (both segment ends included);
test mode takes, for clip ``k`` of ``num_clips``, the frame ``(k + 1) / (num_clips + 1)`` of a segment
past its start. Segment starts are rounded with ``np.round`` (half to even), as MMAction2 does, so
index for index the clips are MMAction2's (its ``frame_inds`` minus ``start_index``). Videos shorter
than the clip repeat frames instead of looping.

This is not the pose plugin's ``uniform_sample_frames`` (MMAction2's ``UniformSampleFrames``): that
one splits ``num_frames`` (not ``num_frames - 1``) with integer division, loops short sequences and
draws its test clips from a seeded random state, so its indices differ (e.g. 300 frames, 16 per clip).
"""
from __future__ import annotations

import numpy as np

from actioncore.data.sample import VideoSample

from .samplers import _num_frames, _positive, _store

__all__ = ["UniformSample", "uniform_sample_indices"]


def uniform_sample_indices(
    num_frames: int,
    *,
    clip_len: int,
    num_clips: int = 1,
    test_mode: bool = False,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """int64 ``[clips, clip_len]`` frame indices in ``[0, num_frames)``.

    Training gives one clip (MMAction2 ignores ``num_clips`` there); test mode gives ``num_clips``.
    """
    _positive("uniform_sample", num_frames=num_frames, clip_len=clip_len, num_clips=num_clips)
    seg_size = float(num_frames - 1) / clip_len
    starts = np.round(seg_size * np.arange(clip_len)).astype(np.int64)
    if not test_mode:
        ends = np.round(seg_size * np.arange(1, clip_len + 1)).astype(np.int64)
        rng = rng if rng is not None else np.random.default_rng()
        return rng.integers(starts, ends + 1)[None].astype(np.int64)
    duration = seg_size / (num_clips + 1)
    # MMAction2 truncates each offset with int() (toward zero; offsets are >= 0)
    offsets = np.array([int(duration * (k + 1)) for k in range(num_clips)], dtype=np.int64)
    return starts[None, :] + offsets[:, None]


class UniformSample:
    """One frame from each of ``clip_len`` equal segments (random in training, fixed in test).

    MMAction2 uses it for its Something-Something V2 transformer recipes (MViT ``u16``/``u32``/``u40``)
    and for UniFormer V2 (``u8``).
    """

    needs_pixels = False

    def __init__(self, *, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> None:
        _positive("uniform_sample", clip_len=clip_len, num_clips=num_clips)
        self.clip_len = clip_len
        self.num_clips = num_clips
        self.test_mode = test_mode

    def __call__(self, sample: VideoSample) -> VideoSample:
        indices = uniform_sample_indices(_num_frames(sample), clip_len=self.clip_len, num_clips=self.num_clips,
                                         test_mode=self.test_mode, rng=sample.frame_rng)
        return _store(sample, indices)

    def __repr__(self) -> str:
        return f"UniformSample(clip_len={self.clip_len}, num_clips={self.num_clips}, test_mode={self.test_mode})"
