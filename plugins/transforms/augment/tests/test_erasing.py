"""random_erasing: MMAction2's patch statistics, one region for every frame, fills, uint8."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from actioncore.sdk import ConfigError

from actioncore_augment.erasing import RandomErasing

pytestmark = pytest.mark.actioncore_plugins("actioncore_augment.hooks")


def test_patch_area_and_aspect_follow_the_drawn_distributions():
    step = RandomErasing(min_area_ratio=0.02, max_area_ratio=1 / 3, aspect_range=(0.3, 1 / 0.3))
    rng = np.random.default_rng(0)
    patches = [step.patch(rng, 400, 400) for _ in range(4000)]
    area = np.array([p.height * p.width / 400 ** 2 for p in patches])
    log_aspect = np.log([p.height / p.width for p in patches])
    # area ~ U(0.02, 1/3) (rounding of h, w moves it by < 1 %): mean 0.1767, sd 0.0904
    assert area.min() > 0.019 and area.max() < 0.34
    assert abs(area.mean() - (0.02 + 1 / 3) / 2) < 0.006
    # log(h / w) ~ U(log 0.3, log 3.33): mean 0, sd log(1/0.3) / sqrt(3) = 0.695
    assert abs(log_aspect.mean()) < 0.04
    assert abs(log_aspect.std() - math.log(1 / 0.3) / math.sqrt(3)) < 0.03
    assert all(0 <= p.top <= 400 - p.height and 0 <= p.left <= 400 - p.width for p in patches)


def test_a_clamped_patch_covers_the_whole_side():
    step = RandomErasing(min_area_ratio=1.0, max_area_ratio=1.0, aspect_range=(4.0, 4.0))
    patch = step.patch(np.random.default_rng(1), 40, 40)
    assert (patch.top, patch.height, patch.width) == (0, 40, 20)


def test_const_erases_the_same_region_of_every_frame(clip_sample):
    sample = clip_sample(seed=3, frames=4)
    before = sample.frames.clone()
    out = RandomErasing(erase_prob=1.0, fill_color=(10.7, 20, 30))(sample)
    top, left, h, w = out.meta["random_erasing"]
    assert h * w > 0 and out.frames.dtype == torch.uint8
    changed = (out.frames != before).any(-1)  # [N, H, W]
    inside = torch.zeros_like(changed)
    inside[:, top:top + h, left:left + w] = True
    assert not changed[~inside].any()
    assert (out.frames[inside] == torch.tensor([10, 20, 30], dtype=torch.uint8)).all()


def test_rand_fills_each_frame_with_its_own_noise_in_the_same_region(clip_sample):
    out = RandomErasing(erase_prob=1.0, mode="rand", min_area_ratio=0.3, max_area_ratio=0.3)(clip_sample(seed=4))
    top, left, h, w = out.meta["random_erasing"]
    region = out.frames[:, top:top + h, left:left + w].float()
    assert not torch.equal(region[0], region[1])
    assert abs(region.mean().item() - 127.5) < 10
    normal = RandomErasing(erase_prob=1.0, mode="rand", fill_color=200, fill_std=100.0,
                           min_area_ratio=0.3, max_area_ratio=0.3)(clip_sample(seed=4))
    values = normal.frames[:, top:top + h, left:left + w]
    assert values.dtype == torch.uint8 and (values == 255).any()  # clipped, not wrapped


def test_erase_prob_and_config_errors(clip_sample):
    erased = [RandomErasing(erase_prob=0.25)(clip_sample(seed=s)).meta["random_erasing"] is not None
              for s in range(400)]
    assert 0.19 < np.mean(erased) < 0.31
    assert RandomErasing(aspect_range=3.0).aspect_range == (1 / 3, 3.0)
    with pytest.raises(ValueError, match="mode"):
        RandomErasing(mode="pixel")
    with pytest.raises(ValueError, match="min_area_ratio"):
        RandomErasing(min_area_ratio=0.5, max_area_ratio=0.1)
    sample = clip_sample()
    sample.meta["input_format"] = "NCTHW"
    with pytest.raises(ConfigError, match="random_erasing must come before format_shape"):
        RandomErasing()(sample)
