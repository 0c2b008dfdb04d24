"""Layer-wise learning-rate decay and multiplying custom keys, against MMAction2's rules by hand."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from actioncore.config.experiment import OptimSection, ParamRule, ScheduleSection
from actioncore.engine.optim import LRSchedule, build_optimizer


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.Linear(4, 4)
        self.norm1 = nn.LayerNorm(4)


class Backbone(nn.Module):
    """Names as MViT's / ViT's: cls_token, patch_embed, blocks.N, a final norm."""

    def __init__(self, blocks: int):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.patch_embed = nn.Linear(3, 4)
        self.blocks = nn.ModuleList([Block() for _ in range(blocks)])
        self.norm3 = nn.LayerNorm(4)


class Net(nn.Module):
    def __init__(self, blocks: int = 3):
        super().__init__()
        self.backbone = Backbone(blocks)
        self.head = nn.Linear(4, 2)


def rates(optimizer: torch.optim.Optimizer, model: nn.Module) -> dict[str, tuple[float, float]]:
    by_id = {id(p): (g["lr"], g["weight_decay"]) for g in optimizer.param_groups for p in g["params"]}
    return {name: by_id[id(p)] for name, p in model.named_parameters()}


def test_layer_decay_follows_mmaction2s_layer_ids_and_scales():
    # LearningRateDecayOptimizerConstructor: scale = rate ** (num_layers - layer_id + 1); embeddings
    # are layer 0, blocks.N layer N + 1, the rest num_layers + 1; no decay on 1-D tensors and biases
    model = Net(blocks=3)
    cfg = OptimSection(type="adamw", lr=0.1, weight_decay=0.05, layer_decay_rate=0.5, layer_decay_num_layers=3,
                       head_lr_mult=10.0)  # the multiplier rules do not apply under layer decay
    got = rates(build_optimizer(model, cfg), model)
    assert got["backbone.cls_token"] == pytest.approx((0.1 * 0.5 ** 4, 0.05))  # 3-D: decayed, as there
    assert got["backbone.patch_embed.weight"] == pytest.approx((0.1 * 0.5 ** 4, 0.05))
    assert got["backbone.patch_embed.bias"] == pytest.approx((0.1 * 0.5 ** 4, 0.0))
    assert got["backbone.blocks.0.attn.weight"] == pytest.approx((0.1 * 0.5 ** 3, 0.05))
    assert got["backbone.blocks.1.norm1.weight"] == pytest.approx((0.1 * 0.5 ** 2, 0.0))
    assert got["backbone.blocks.2.attn.weight"] == pytest.approx((0.1 * 0.5 ** 1, 0.05))
    assert got["backbone.norm3.bias"] == pytest.approx((0.1, 0.0))
    assert got["head.weight"] == pytest.approx((0.1, 0.05))


def test_layer_decay_rates_follow_the_schedule():
    model = Net(blocks=2)
    cfg = OptimSection(type="adamw", lr=1.0, layer_decay_rate=0.5, layer_decay_num_layers=2)
    optimizer = build_optimizer(model, cfg)
    schedule = LRSchedule(ScheduleSection(epochs=2, policy="cosine"), 1.0, iterations_per_epoch=2)
    schedule.apply(optimizer, 2)  # half way: factor 0.5
    got = rates(optimizer, model)
    assert got["backbone.blocks.0.attn.weight"][0] == pytest.approx(0.5 * 0.5 ** 2)
    assert got["head.weight"][0] == pytest.approx(0.5)


def test_layer_decay_refuses_batch_norm():
    model = Net()
    model.backbone.bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match="batch norm"):
        build_optimizer(model, OptimSection(layer_decay_rate=0.9, layer_decay_num_layers=3))


def test_multiplied_custom_keys_are_swins_constructor():
    # SwinOptimWrapperConstructor: backbone lr 0.1, norm and relative_position_bias_table no decay,
    # every matching key applies (the default, longest key alone, would let 'backbone' win)
    model = Net()
    keys = {"backbone": ParamRule(lr_mult=0.1), "norm": ParamRule(decay_mult=0.0)}
    got = rates(build_optimizer(model, OptimSection(type="adamw", lr=1.0, weight_decay=0.02, custom_keys=keys,
                                                    custom_keys_combine="multiply")), model)
    assert got["backbone.blocks.0.norm1.weight"] == pytest.approx((0.1, 0.0))
    assert got["backbone.blocks.0.attn.weight"] == pytest.approx((0.1, 0.02))
    assert got["head.weight"] == pytest.approx((1.0, 0.02))
    longest = rates(build_optimizer(model, OptimSection(type="adamw", lr=1.0, weight_decay=0.02, custom_keys=keys)),
                    model)
    assert longest["backbone.blocks.0.norm1.weight"] == pytest.approx((0.1, 0.02))
