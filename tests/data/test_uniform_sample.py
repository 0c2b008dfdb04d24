"""uniform_sample: MMAction2 1.2.0's RGB ``UniformSample``, pinned on hand-computed cases.

Expected numbers come from running MMAction2's ``UniformSample._get_sample_clips`` arithmetic by hand
(``seg_size = (T - 1) / clip_len``; start ``int(np.round(seg_size * i))``; training draws
``randint(start, round(seg_size * (i + 1)) + 1)``; test adds ``int(seg_size / (num_clips + 1) * (k + 1))``).
"""
from __future__ import annotations

import numpy as np
import pytest

from actioncore import build
from actioncore.builtin.uniform_sampler import UniformSample, uniform_sample_indices
from actioncore.data.sample import VideoSample
from actioncore.errors import ConfigError, DataError

# (num_frames, clip_len, num_clips) -> MMAction2's test-mode frame_inds (start_index 0), clip after clip
TEST_CASES = {
    (300, 16, 1): [9, 28, 46, 65, 84, 102, 121, 140, 159, 177, 196, 215, 233, 252, 271, 289],
    (100, 8, 4): [2, 14, 27, 39, 52, 64, 76, 89, 4, 16, 29, 41, 54, 66, 78, 91,
                  7, 19, 32, 44, 57, 69, 81, 94, 9, 21, 34, 46, 59, 71, 83, 96],
    (30, 16, 2): [0, 2, 4, 5, 7, 9, 11, 13, 14, 16, 18, 20, 22, 24, 25, 27,
                  1, 3, 5, 6, 8, 10, 12, 14, 15, 17, 19, 21, 23, 25, 26, 28],
    # shorter than the clip: frames repeat; np.round rounds 0.5 and 2.5 down (half to even)
    (5, 8, 1): [0, 0, 1, 2, 2, 2, 3, 4],
    (1, 4, 2): [0] * 8,
}

# (num_frames, clip_len) -> MMAction2's training segments (low, high), both ends possible
TRAIN_SEGMENTS = {
    (100, 8): [(0, 12), (12, 25), (25, 37), (37, 50), (50, 62), (62, 74), (74, 87), (87, 99)],
    (5, 8): [(0, 0), (0, 1), (1, 2), (2, 2), (2, 2), (2, 3), (3, 4), (4, 4)],
}


class RecordingRng:
    """Answers each ``integers(low, high)`` with ``high - 1`` (the largest draw) and records the bounds."""

    def __init__(self):
        self.calls = []

    def integers(self, low, high=None, size=None):
        self.calls.append((np.asarray(low).tolist(), np.asarray(high).tolist()))
        return np.asarray(high) - 1


def sample_of(num_frames, rng=None):
    return VideoSample(source="videos/clip.mp4", num_frames=num_frames, rng=rng or np.random.default_rng(0))


@pytest.mark.parametrize(("case", "expected"), TEST_CASES.items(), ids=str)
def test_test_mode_indices_are_mmaction2s(case, expected):
    num_frames, clip_len, num_clips = case
    out = UniformSample(clip_len=clip_len, num_clips=num_clips, test_mode=True)(sample_of(num_frames))
    assert out.frame_indices.dtype == np.int64
    assert (out.num_clips, out.clip_len) == (num_clips, clip_len)
    assert out.frame_indices.reshape(-1).tolist() == expected


@pytest.mark.parametrize(("case", "segments"), TRAIN_SEGMENTS.items(), ids=str)
def test_training_draws_one_frame_per_segment_both_ends_included(case, segments):
    num_frames, clip_len = case
    rng = RecordingRng()
    out = UniformSample(clip_len=clip_len, num_clips=3)(sample_of(num_frames, rng))
    lows, highs = zip(*segments)
    assert rng.calls == [(list(lows), [h + 1 for h in highs])]
    # MMAction2 ignores num_clips in training: one clip
    assert out.frame_indices.tolist() == [list(highs)]


def test_training_with_a_real_generator_stays_in_segments_and_varies():
    lows, highs = map(np.array, zip(*TRAIN_SEGMENTS[(100, 8)]))
    draws = np.concatenate([uniform_sample_indices(100, clip_len=8, rng=np.random.default_rng(s)) for s in range(50)])
    assert ((draws >= lows) & (draws <= highs)).all()
    assert (draws == lows).any() and (draws == highs).any()  # both segment ends are reachable
    assert len({tuple(row) for row in draws.tolist()}) > 40


def test_registered_as_a_transform_and_checked():
    step = build("transform", "uniform_sample", clip_len=8, num_clips=2, test_mode=True)
    assert isinstance(step, UniformSample)
    with pytest.raises(ConfigError, match="uniform_sample: clip_len"):
        UniformSample(clip_len=0)
    with pytest.raises(DataError, match="clip.mp4"):
        UniformSample(clip_len=8)(VideoSample(source="videos/clip.mp4", num_frames=0))
