from __future__ import annotations

import pytest

import numpy as np
from actioncore.sdk.data import VideoSample
from actioncore_pose.records import PoseRecord
from actioncore_pose.state import PoseState


def _make_record(name: str, label: int = 0, *, persons: int = 1, frames: int = 6, joints: int = 17,
                coords: int = 2, score: bool = True, seed: int = 0) -> PoseRecord:
    rng = np.random.default_rng(seed)
    keypoint = rng.uniform(1, 100, size=(persons, frames, joints, coords)).astype(np.float32)
    scores = rng.uniform(0.1, 1, size=(persons, frames, joints)).astype(np.float32) if score else None
    return PoseRecord(name, label, (120, 160), keypoint, scores, (240, 320))


def _pose_sample(keypoint, score=None, *, img_shape=(100, 200), layout="coco", label=0, seed=0) -> VideoSample:
    """A sample whose pose is already loaded (what the first pose step would do)."""
    keypoint = np.asarray(keypoint, dtype=np.float32)
    sample = VideoSample(source="test#record", label=label, index=0, num_frames=keypoint.shape[1],
                         rng=np.random.default_rng(seed))
    sample.meta["pose"] = PoseState(keypoint.copy(), None if score is None else np.asarray(score, np.float32).copy(),
                                    img_shape, img_shape, layout)
    return sample


@pytest.fixture
def make_record():
    """Build a random PoseRecord: ``make_record(name, label, persons=, frames=, joints=, coords=, score=)``."""
    return _make_record


@pytest.fixture
def pose_sample():
    """A VideoSample whose pose is already loaded: ``pose_sample(keypoint, score, img_shape=, layout=)``."""
    return _pose_sample


@pytest.fixture
def records() -> list[PoseRecord]:
    return [_make_record("a", 0, seed=1), _make_record("b", 1, persons=2, frames=4, seed=2),
            _make_record("c", 2, frames=9, seed=3)]
