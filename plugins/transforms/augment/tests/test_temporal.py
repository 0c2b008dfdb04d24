"""temporal_augment: the four choices, their probabilities, and the mask and boxes reordered alike."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from actioncore_augment.temporal import TemporalAugment, clip_order


def test_orders_of_each_choice():
    rng = np.random.default_rng(0)
    assert clip_order("none", 8, rng, half_first=0.5, drop_prob=0.5).tolist() == list(range(8))
    assert clip_order("reverse", 8, rng, half_first=0.5, drop_prob=0.5).tolist() == list(range(7, -1, -1))
    assert clip_order("half", 8, rng, half_first=1.0, drop_prob=0.5).tolist() == [4, 5, 6, 7, 4, 5, 6, 7]
    assert clip_order("half", 8, rng, half_first=0.0, drop_prob=0.5).tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert clip_order("drop", 8, rng, half_first=0.5, drop_prob=1.0).tolist() == [0] * 8  # all freeze on frame 0
    assert clip_order("drop", 8, rng, half_first=0.5, drop_prob=0.0).tolist() == list(range(8))


def test_drop_repeats_the_previous_output_frame():
    for seed in range(50):
        order = clip_order("drop", 8, np.random.default_rng(seed), half_first=0.5, drop_prob=0.5)
        assert order[0] == 0
        for i in range(1, 8):  # each slot shows its own frame or the previous slot's
            assert order[i] in (i, order[i - 1])
    drops = [np.mean([clip_order("drop", 8, np.random.default_rng(s), half_first=0.5, drop_prob=0.5)[i] != i
                      for s in range(2000)]) for i in (1,)]
    assert drops[0] == pytest.approx(0.5, abs=0.04)


def test_choice_probabilities():
    step = TemporalAugment()
    rng = np.random.default_rng(0)
    counts = {c: 0 for c in ("none", "half", "reverse", "drop")}
    for _ in range(8000):
        counts[step.choose(rng)] += 1
    for count in counts.values():
        assert count / 8000 == pytest.approx(0.25, abs=0.02)
    only_reverse = TemporalAugment(p_none=0, p_half=0, p_reverse=1, p_drop=0)
    assert {only_reverse.choose(rng) for _ in range(100)} == {"reverse"}
    with pytest.raises(ValueError, match="sum to 1"):
        TemporalAugment(p_none=0.5)


def test_frames_mask_and_boxes_move_together(clip_sample):
    step = TemporalAugment(p_none=0, p_half=0, p_reverse=0, p_drop=1, drop_prob=0.5)
    seen = False
    for seed in range(10):
        sample = clip_sample(seed, frames=8)
        sample.person_mask = torch.arange(8, dtype=torch.uint8).view(8, 1, 1).expand(8, 48, 64).clone()
        sample.boxes = [np.full((1, 4), i, np.float32) for i in range(8)]
        before = sample.frames.clone()
        out = step(sample)
        order = out.meta["temporal_order"]
        assert torch.equal(out.frames, before[order])
        assert out.person_mask[:, 0, 0].tolist() == order
        assert [int(b[0, 0]) for b in out.boxes] == order
        seen |= order != list(range(8))
    assert seen


def test_each_clip_of_a_multi_clip_sample_is_reordered(clip_sample):
    sample = clip_sample(0, frames=8)
    sample.clip_len, sample.num_clips = 4, 2
    before = sample.frames.clone()
    out = TemporalAugment(p_none=0, p_half=0, p_reverse=1, p_drop=0)(sample)
    assert torch.equal(out.frames, before[[3, 2, 1, 0, 7, 6, 5, 4]])
