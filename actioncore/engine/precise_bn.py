"""Precise batch-norm statistics (MMAction2 0.24's ``PreciseBNHook`` / ``update_bn_stats``, from
fvcore): the running mean and variance of every training-mode BN layer replaced by the average,
over ``num_iters`` batches, of the per-batch statistics, instead of an EMA that lags behind the
weights."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.distributed
from torch import nn

from ..runlog import LOGGER_NAME

log = logging.getLogger(LOGGER_NAME)


@torch.no_grad()
def update_bn_stats(model: nn.Module, batches: Iterable[Any], forward: Callable[[Any], Any], *,
                    num_iters: int, distributed: bool = False) -> int:
    """Recompute the BN statistics of ``model`` (in train mode) from ``forward(batch)`` calls on
    up to ``num_iters`` batches; returns the number used. Layers in eval mode (frozen BN) keep
    theirs. With ``distributed`` the averages of all processes are averaged."""
    layers = [m for m in model.modules() if m.training and isinstance(m, nn.modules.batchnorm._BatchNorm)
              and m.track_running_stats]
    if not layers:
        return 0
    momenta = [bn.momentum for bn in layers]
    for bn in layers:
        bn.momentum = 1.0  # running stats = this batch's statistics
    means = [torch.zeros_like(bn.running_mean) for bn in layers]
    variances = [torch.zeros_like(bn.running_var) for bn in layers]
    used = 0
    try:
        for batch in batches:
            forward(batch)
            for mean, var, bn in zip(means, variances, layers):
                mean += (bn.running_mean - mean) / (used + 1)
                var += (bn.running_var - var) / (used + 1)
            used += 1
            if used >= num_iters:
                break
    finally:
        for bn, momentum in zip(layers, momenta):
            bn.momentum = momentum
    if used < num_iters:
        log.warning("precise BN: the data gave %d batch(es) of the %d asked for (hooks.precise_bn.num_iters)",
                    used, num_iters)
    for mean, var, bn in zip(means, variances, layers):
        if distributed:
            for stat in (mean, var):
                torch.distributed.all_reduce(stat)
                stat /= torch.distributed.get_world_size()
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
    return used
