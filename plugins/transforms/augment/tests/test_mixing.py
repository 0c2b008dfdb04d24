"""ActorCutMix, mixup and cutmix against their definitions (SEED003 §2.4, MMAction2's blending)."""
from __future__ import annotations

import pytest
import torch

from actioncore.sdk import ConfigError

from actioncore_augment.mixing import (ActorCutMixStep, CutmixStep, MixupStep, actor_cutmix, cutmix, cutmix_box,
                                       mask_like, mixup)


def masks_and_inputs(batch: int = 4):
    torch.manual_seed(0)
    inputs = torch.randn(batch, 3, 2, 4, 4)  # [B, C, T, H, W]
    masks = torch.zeros(batch, 1, 2, 4, 4)
    masks[0, ..., :2, :2] = 1           # r = 4/16
    masks[1, ..., :, :2] = 1            # r = 8/16
    masks[2] = 1                        # all person: invalid
    if batch > 3:
        masks[3, ..., 1:3, 1:3] = 1     # r = 4/16
    return inputs, masks


def test_actor_cutmix_composite_weights_and_validity():
    x, m = masks_and_inputs()
    mixed, weight, partner, valid = actor_cutmix(x, m)
    assert partner.tolist() == [3, 2, 1, 0]
    assert valid.tolist() == [True, True, False, True]
    m_eff = m.clone()
    m_eff[2] = 1
    expected0 = x[0] * m_eff[0] + x[3] * (1 - m_eff[3]) * (1 - m_eff[0])
    assert torch.allclose(mixed[0], expected0)
    assert torch.allclose(mixed[1], x[1] * m[1])  # partner 2 is invalid: its mask counts as all ones
    assert torch.equal(mixed[2], x[2])
    assert weight.tolist() == pytest.approx([1 - 0.75 ** 4, 1 - 0.5 ** 4, 1.0, 1 - 0.75 ** 4])


def test_actor_cutmix_middle_clip_of_an_odd_batch_is_invalid():
    x, m = masks_and_inputs(batch=3)
    m[2] = 0
    m[2, ..., 0, 0] = 1
    _, weight, partner, valid = actor_cutmix(x, m)
    assert partner.tolist() == [2, 1, 0] and valid.tolist() == [True, False, True]
    assert weight[1] == 1.0


def test_weight_formula_examples():
    for r, w in ((0.1, 0.34), (0.2, 0.59), (0.3, 0.76), (0.5, 0.94)):
        m = torch.zeros(2, 1, 1, 10, 10)
        m[0].view(-1)[: int(r * 100)] = 1
        m[1].view(-1)[:50] = 1
        _, weight, _, _ = actor_cutmix(torch.zeros(2, 3, 1, 10, 10), m)
        assert float(weight[0]) == pytest.approx(w, abs=0.005)


def test_mixup_matches_mmaction2():
    x = torch.randn(6, 2, 3, 4, 4)
    y = torch.eye(5)[torch.tensor([0, 1, 2, 3, 4, 0])]
    g = torch.Generator().manual_seed(3)
    mixed, soft = mixup(x, y, alpha=0.2, generator=g)
    assert torch.allclose(soft.sum(1), torch.ones(6))
    # recover lambda and the permutation from the targets and check the inputs mix the same way
    g2 = torch.Generator().manual_seed(3)
    from actioncore_augment.mixing import sample_beta
    lam = sample_beta(0.2, g2)
    perm = torch.randperm(6, generator=g2)
    assert torch.allclose(mixed, lam * x + (1 - lam) * x[perm])
    assert torch.allclose(soft, lam * y + (1 - lam) * y[perm])
    again, _ = mixup(x, y, alpha=0.2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again, mixed)


def test_cutmix_pastes_one_box_and_corrects_lambda():
    x = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1, 1).expand(4, 1, 3, 10, 12).clone()
    y = torch.eye(4)
    for seed in range(20):
        mixed, soft = cutmix(x, y, alpha=1.0, generator=torch.Generator().manual_seed(seed))
        assert torch.allclose(soft.sum(1), torch.ones(4))
        changed = (mixed != x)[:, 0, 0]  # [B, H, W]; same box in every frame and channel
        assert torch.equal((mixed != x).any(2).any(1), changed)
        for b in range(4):
            area = int(changed[b].sum())
            own = soft[b, b].item()
            if area:  # the partner's share of the target is the pasted area
                assert own == pytest.approx(1 - area / 120)
    x1, y1, x2, y2 = cutmix_box(10, 12, 0.75, torch.Generator().manual_seed(0))
    assert 0 <= x1 <= x2 <= 12 and 0 <= y1 <= y2 <= 10 and x2 - x1 <= 6 and y2 - y1 <= 5


def test_mask_layouts():
    mask = torch.zeros(2, 8, 4, 4, dtype=torch.uint8)
    assert mask_like(mask, torch.zeros(2, 8, 3, 4, 4), input_format="NCHW", clip_len=1).shape == (2, 8, 1, 4, 4)
    out = mask_like(mask, torch.zeros(2, 2, 3, 4, 4, 4), input_format="NCTHW", clip_len=4)
    assert out.shape == (2, 2, 1, 4, 4, 4)
    with pytest.raises(ConfigError, match="does not fit"):
        mask_like(mask, torch.zeros(2, 1, 3, 8, 6, 6), input_format="NCTHW", clip_len=8)


def test_batch_steps_give_soft_targets():
    x, m = masks_and_inputs()
    y = torch.eye(3)[torch.tensor([0, 1, 2, 0])]
    batch = {"person_mask": m[:, 0].to(torch.uint8), "input_format": "NCTHW", "clip_len": 2}
    g = torch.Generator().manual_seed(0)
    mixed, soft = ActorCutMixStep(prob=1.0)(x[:, None], y, batch=batch, generator=g)
    _, weight, partner, _ = actor_cutmix(x, m)
    assert torch.allclose(soft, weight[:, None] * y + (1 - weight[:, None]) * y[partner])
    assert torch.allclose(soft.sum(1), torch.ones(4))
    same, hard = ActorCutMixStep(prob=0.0)(x[:, None], y, batch=batch, generator=g)
    assert torch.equal(same, x[:, None]) and torch.equal(hard, y)
    with pytest.raises(ConfigError, match="person_mask"):
        ActorCutMixStep()(x, y, batch={}, generator=g)
    for step in (MixupStep(alpha=0.4), CutmixStep(alpha=0.4)):
        _, soft = step(x, y, batch={}, generator=g)
        assert torch.allclose(soft.sum(1), torch.ones(4))
    with pytest.raises(ValueError, match="alpha must be positive"):
        MixupStep(alpha=0)
