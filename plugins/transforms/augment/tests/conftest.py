"""Shared fixtures: frames to augment and a tiny embedded data set."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from actioncore.sdk.data import VideoSample, synthesize


def sample_image(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A non-square RGB frame with gradients, a flat block and noise: every op changes it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([xx * 3, yy * 4, (xx + yy) * 2], -1).astype(np.float64) + rng.normal(0, 20, (height, width, 3))
    img[10:30, 20:40] = [200, 30, 90]
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def image():
    """``image(seed=0)``: :func:`sample_image`."""
    return sample_image


@pytest.fixture
def clip_sample():
    """``clip_sample(seed, frames=4)``: a sample of distinct frames with a person mask."""
    def make(seed: int = 0, frames: int = 4) -> VideoSample:
        pixels = torch.from_numpy(np.stack([sample_image(seed=i) for i in range(frames)]))
        mask = torch.zeros(frames, 48, 64, dtype=torch.uint8)
        mask[:, 12:30, 8:24] = 1
        return VideoSample(source="clip.mp4", frames=pixels, person_mask=mask, clip_len=frames,
                           rng=np.random.default_rng(seed))
    return make


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    synthesize("recognition", root, seed=0, size="tiny")
    return root
