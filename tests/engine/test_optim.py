"""Parameter groups and learning-rate policies, against hand-computed values."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actioncore.config.experiment import OptimSection, ScheduleSection
from actioncore.engine.optim import LRSchedule, build_optimizer


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, 2)


def groups_by_shape(optimizer):
    return {tuple(tuple(p.shape) for p in g["params"]): (g["lr"], g["weight_decay"]) for g in optimizer.param_groups}


def test_head_lr_multiplier_and_decay_multipliers():
    cfg = OptimSection(lr=0.1, weight_decay=1e-4, head_lr_mult=10.0, norm_decay_mult=0.0, bias_decay_mult=0.5)
    groups = groups_by_shape(build_optimizer(Net(), cfg))
    assert groups[((4, 3, 3, 3),)] == (0.1, 1e-4)
    assert groups[((4,),)] == (0.1, 0.5e-4)  # conv bias
    assert groups[((4,), (4,))] == (0.1, 0.0)  # batch-norm weight and bias
    assert groups[((2, 4),)] == (1.0, 1e-4)
    assert groups[((2,),)] == (1.0, 0.5e-4)


def test_tsm_recipe_bias_lr_and_custom_keys_for_the_classifier():
    # TSM's fc_lr5 recipe: biases 2x lr and no decay, norms no decay, the classifier's weight 5x
    # and its bias 10x without decay; a custom key overrides every other rule.
    from actioncore.config.experiment import ParamRule

    cfg = OptimSection(lr=0.1, weight_decay=1e-4, norm_decay_mult=0.0, bias_decay_mult=0.0, bias_lr_mult=2.0,
                       custom_keys={"head.weight": ParamRule(lr_mult=5.0),
                                    "head.bias": ParamRule(lr_mult=10.0, decay_mult=0.0)})
    groups = groups_by_shape(build_optimizer(Net(), cfg))
    assert groups[((4, 3, 3, 3),)] == (0.1, 1e-4)
    assert groups[((4,),)] == (0.2, 0.0)  # conv bias
    assert groups[((4,), (4,))] == (0.1, 0.0)  # batch-norm weight and bias: not "biases" here
    assert groups[((2, 4),)] == (0.5, 1e-4)
    assert groups[((2,),)] == pytest.approx((1.0, 0.0))


def test_longest_custom_key_wins():
    from actioncore.config.experiment import ParamRule

    cfg = OptimSection(lr=1.0, weight_decay=1.0, custom_keys={
        "backbone": ParamRule(lr_mult=0.1), "backbone.1": ParamRule(decay_mult=0.0)})
    groups = groups_by_shape(build_optimizer(Net(), cfg))
    assert groups[((4, 3, 3, 3), (4,))] == pytest.approx((0.1, 1.0))  # backbone.0 weight and bias
    assert groups[((4,), (4,))] == (1.0, 0.0)  # backbone.1: the longer key, its lr_mult default


def test_custom_keys_load_from_toml(tmp_path):
    from actioncore.config import load_config

    path = tmp_path / "exp.toml"
    path.write_text('[task]\ntype = "recognition"\n[optim.custom_keys."backbone.pos_embed"]\ndecay_mult = 0.0\n')
    rule = load_config(path).optim.custom_keys["backbone.pos_embed"]
    assert (rule.lr_mult, rule.decay_mult) == (1.0, 0.0)
    path.write_text('[task]\ntype = "recognition"\n[optim.custom_keys.cls_token]\ndecay = 0.0\n')
    with pytest.raises(Exception, match=r"optim\.custom_keys\.cls_token.*decay"):
        load_config(path)


def test_adam_and_adamw_take_betas_and_eps():
    opt = build_optimizer(Net(), OptimSection(type="adamw", lr=1e-3, betas=(0.8, 0.9), eps=1e-6))
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["betas"] == (0.8, 0.9) and opt.defaults["eps"] == 1e-6


@pytest.mark.parametrize("schedule, expected", [
    (ScheduleSection(epochs=4, policy="step", step=2, gamma=0.1), [1, 1, 1, 1, 0.1, 0.1, 0.1, 0.1]),
    (ScheduleSection(epochs=4, policy="multistep", milestones=[1, 3], gamma=0.5), [1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]),
    (ScheduleSection(epochs=4, policy="constant", warmup_epochs=1, warmup_start_factor=0.2), [0.2, 0.6, 1, 1, 1, 1, 1, 1]),
])
def test_epoch_based_policies_and_warmup(schedule, expected):
    lr = LRSchedule(schedule, base_lr=1.0, iterations_per_epoch=2)
    assert [lr.factor(i) for i in range(8)] == pytest.approx(expected)


def test_cosine_decays_per_iteration_to_min_lr():
    lr = LRSchedule(ScheduleSection(epochs=2, policy="cosine", min_lr=0.1), base_lr=1.0, iterations_per_epoch=4)
    assert lr.factor(0) == pytest.approx(1.0)
    assert lr.factor(4) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert lr.factor(8) == pytest.approx(0.1)
    opt = build_optimizer(Net(), OptimSection(lr=1.0, head_lr_mult=2.0))
    assert lr.apply(opt, 4) == pytest.approx(0.55)
    assert sorted(g["lr"] for g in opt.param_groups) == pytest.approx([0.55, 1.1])
