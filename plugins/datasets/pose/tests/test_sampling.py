"""uniform_sample_frames and pose_decode: MMAction2's index arithmetic."""
from __future__ import annotations

import numpy as np
import pytest

from actioncore.sdk import ConfigError
from actioncore_pose.sampling import PoseDecode, UniformSampleFrames, uniform_frame_indices


@pytest.mark.parametrize("frames, clip_len, clips, expected", [
    # printed by MMAction2 1.2.0's UniformSampleFrames(test_mode=True) (seed 255) for these sizes
    (10, 4, 2, [[1, 3, 6, 8], [0, 3, 6, 7]]),
    (6, 4, 3, [[1, 2, 4, 5], [0, 1, 3, 4], [0, 1, 3, 5]]),
    (3, 5, 2, [[0, 1, 2, 0, 1], [1, 2, 0, 1, 2]]),
    (2, 5, 3, [[0, 1, 0, 1, 0], [1, 0, 1, 0, 1], [0, 1, 0, 1, 0]]),
])
def test_test_mode_gives_mmaction2s_clips(frames, clip_len, clips, expected):
    indices = uniform_frame_indices(frames, clip_len=clip_len, num_clips=clips, test_mode=True)
    assert indices.tolist() == expected
    assert indices.dtype == np.int64


def test_train_mode_takes_one_frame_per_segment():
    rng = np.random.default_rng(0)
    for _ in range(20):
        (clip,) = uniform_frame_indices(100, clip_len=8, rng=rng)
        bounds = [i * 100 // 8 for i in range(9)]
        assert all(bounds[i] <= clip[i] < bounds[i + 1] for i in range(8))


def test_train_mode_on_short_sequences():
    rng = np.random.default_rng(1)
    (loop,) = uniform_frame_indices(3, clip_len=7, rng=rng)  # shorter than the clip: consecutive, looped
    assert np.array_equal(loop, (np.arange(loop[0], loop[0] + 7)) % 3)
    (mid,) = uniform_frame_indices(11, clip_len=8, rng=rng)  # clip_len <= T < 2 clip_len: all frames, 3 skipped
    assert np.all(np.diff(mid) >= 1) and np.all(np.diff(mid) <= 2) and mid[-1] <= 10
    assert (np.diff(mid) == 2).sum() + (mid[0] == 1) + (mid[-1] == 9) <= 3


def test_sampler_step_and_decode(pose_sample):
    kp = np.arange(1 * 10 * 2 * 2, dtype=np.float32).reshape(1, 10, 2, 2)
    score = np.arange(20, dtype=np.float32).reshape(1, 10, 2)
    sample = pose_sample(kp, score)
    sample = UniformSampleFrames(clip_len=4, num_clips=2, test_mode=True)(sample)
    assert sample.frame_indices.tolist() == [[1, 3, 6, 8], [0, 3, 6, 7]]
    assert (sample.num_clips, sample.clip_len) == (2, 4)
    sample = PoseDecode()(sample)
    state = sample.meta["pose"]
    assert state.keypoint.shape == (1, 8, 2, 2) and state.decoded
    assert state.keypoint[0, :, 0, 0].tolist() == [4 * i for i in (1, 3, 6, 8, 0, 3, 6, 7)]
    assert state.keypoint_score[0, :, 1].tolist() == [2 * i + 1 for i in (1, 3, 6, 8, 0, 3, 6, 7)]
    with pytest.raises(ConfigError, match="before pose_decode"):
        UniformSampleFrames(clip_len=4)(sample)


def test_decode_without_sampler_keeps_every_frame(pose_sample):
    sample = PoseDecode()(pose_sample(np.zeros((2, 5, 17, 2))))
    assert sample.meta["pose"].keypoint.shape == (2, 5, 17, 2) and (sample.num_clips, sample.clip_len) == (1, 5)


def test_training_draws_come_from_the_sample_rng(pose_sample):
    draws = [UniformSampleFrames(clip_len=5)(pose_sample(np.zeros((1, 50, 17, 2)), seed=s)).frame_indices.tolist()
             for s in (0, 0, 1)]
    assert draws[0] == draws[1] != draws[2]


def test_bad_parameters():
    with pytest.raises(ValueError, match="clip_len"):
        UniformSampleFrames(clip_len=0)
