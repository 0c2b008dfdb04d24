"""EMA of weights, precise BN and early stopping as units, against closed forms and true statistics."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actioncore.config.experiment import EarlyStoppingSection, EmaSection
from actioncore.engine.early_stop import EarlyStopping
from actioncore.engine.ema import ModelEma
from actioncore.engine.precise_bn import update_bn_stats
from actioncore.errors import ConfigError


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))


@pytest.mark.parametrize("interval, begin_iter", [(1, 0), (3, 0), (2, 4)])
def test_ema_weights_are_the_closed_form_after_k_steps(interval, begin_iter):
    model, momentum = net(), 0.25
    ema = ModelEma(model, EmaSection(momentum=momentum, interval=interval, begin_iter=begin_iter))
    weights = [torch.full((2, 3), float(t * t + 1)) for t in range(9)]
    stats = [torch.full((2,), float(t)) for t in range(9)]
    expected, steps = None, 0
    for iteration, (w, s) in enumerate(zip(weights, stats)):
        model[0].weight.data.copy_(w)
        model[1].running_mean.copy_(s)
        ema.update(model, iteration)
        if iteration + 1 < begin_iter:
            expected = w.clone()
            continue
        # mmengine: the first counted update copies, then every interval-th lerps
        if steps == 0:
            expected = w.clone()
        elif steps % interval == 0:
            expected = (1 - momentum) * expected + momentum * w
        steps += 1
    torch.testing.assert_close(ema.module[0].weight, expected, rtol=0, atol=1e-6)
    assert ema.steps == steps
    assert torch.equal(ema.module[1].running_mean, stats[-1])  # buffers follow the model
    assert not any(p.requires_grad for p in ema.module.parameters())
    if (interval, begin_iter) == (1, 0):  # the plain sum: ema_8 = (1-m)^8 w0 + sum_t m (1-m)^(8-t) w_t
        closed = (1 - momentum) ** 8 * weights[0] + sum(momentum * (1 - momentum) ** (8 - t) * weights[t]
                                                        for t in range(1, 9))
        torch.testing.assert_close(ema.module[0].weight, closed, rtol=1e-6, atol=1e-5)


def test_ema_momentum_out_of_range_names_the_key():
    from actioncore.config.structure import KeyProblem

    with pytest.raises(KeyProblem, match="must be in \\(0, 1\\)") as info:
        EmaSection(momentum=1.5)
    assert info.value.key == "momentum"


def test_precise_bn_stats_are_the_averages_of_the_batch_statistics():
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=0.1), nn.ReLU(), nn.BatchNorm2d(3))
    model[3].eval()  # a frozen BN keeps its statistics
    frozen = model[3].running_mean.clone()
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randn(4, 2, 5, 5, generator=generator) * (i + 1) + i for i in range(5)]
    with torch.no_grad():
        features = [model[0](b) for b in batches[:3]]
    used = update_bn_stats(model, batches, model, num_iters=3)
    assert used == 3
    means = torch.stack([f.mean(dim=(0, 2, 3)) for f in features]).mean(0)
    variances = torch.stack([f.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for f in features]).mean(0)
    torch.testing.assert_close(model[1].running_mean, means, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model[1].running_var, variances, rtol=1e-5, atol=1e-6)
    assert model[1].momentum == 0.1 and torch.equal(model[3].running_mean, frozen)


def stops(cfg: EarlyStoppingSection, values: list[float]) -> int | None:
    """The 1-based evaluation at which the rule stops, or None."""
    rule = EarlyStopping(cfg)
    for i, value in enumerate(values, 1):
        if rule.check({cfg.monitor: value}) is not None:
            return i
    return None


def test_early_stopping_follows_mmengine_rules():
    values = [0.5, 0.55, 0.58, 0.7, 0.71, 0.715, 0.73]
    assert stops(EarlyStoppingSection(monitor="top1", patience=2, min_delta=0.1), values) == 3
    assert stops(EarlyStoppingSection(monitor="top1", patience=2, min_delta=0.02), values) == 6
    assert stops(EarlyStoppingSection(monitor="top1", patience=5, min_delta=0.0), values) is None
    # a loss is better when smaller; the rule is taken from the name
    assert stops(EarlyStoppingSection(monitor="val_loss", patience=1, min_delta=0.0), [3.0, 2.0, 2.5]) == 3
    assert stops(EarlyStoppingSection(monitor="top1", stopping_threshold=0.7), values) == 5
    assert stops(EarlyStoppingSection(monitor="top1", patience=9), [0.5, math.nan]) == 2
    with pytest.raises(ConfigError, match="monitor = 'top9' is not among the metrics: top1"):
        EarlyStopping(EarlyStoppingSection(monitor="top9", strict=True)).check({"top1": 0.5})
    rule = EarlyStopping(EarlyStoppingSection(monitor="top1", patience=2))
    rule.check({"top1": 0.5}), rule.check({"top1": 0.52})
    again = EarlyStopping(EarlyStoppingSection(monitor="top1", patience=2))
    again.restore(rule.state())
    assert again.check({"top1": 0.53}) is not None  # resumed with its count, it stops on time
