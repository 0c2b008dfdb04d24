"""Optimizers with per-parameter options, and learning-rate policies stepped every iteration."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..config.experiment import OptimSection, ScheduleSection
from .layer_decay import layer_decay_groups

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.modules.instancenorm._InstanceNorm)


def param_groups(model: nn.Module, cfg: OptimSection, head: str = "head") -> list[dict]:
    """Parameters grouped by (learning-rate multiplier, weight-decay multiplier).

    A parameter whose name contains one of ``custom_keys`` takes that key's multipliers (the
    longest key, then the first in alphabetical order, as MMAction2 picks). Otherwise parameters
    under the submodule ``head`` get ``head_lr_mult``; those of normalisation layers get
    ``norm_decay_mult``, other biases ``bias_lr_mult`` and ``bias_decay_mult``. With
    ``layer_decay_rate`` set, the groups are layer-wise decay's instead (:mod:`.layer_decay`).
    """
    if cfg.layer_decay_rate is not None:
        return layer_decay_groups(model, lr=cfg.lr, weight_decay=cfg.weight_decay, rate=cfg.layer_decay_rate,
                                  num_layers=cfg.layer_decay_num_layers)
    norm_params = {id(p) for m in model.modules() if isinstance(m, _NORMS) for p in m.parameters(recurse=False)}
    keys = sorted(cfg.custom_keys, key=lambda k: (-len(k), k))
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        bare = name.removeprefix("module.")
        matching = [k for k in keys if k in bare]
        if matching:
            rules = [cfg.custom_keys[k] for k in (matching if cfg.custom_keys_combine == "multiply" else matching[:1])]
            lr_mult, decay_mult = math.prod(r.lr_mult for r in rules), math.prod(r.decay_mult for r in rules)
        else:
            lr_mult = cfg.head_lr_mult if bare == head or bare.startswith(head + ".") else 1.0
            if id(param) in norm_params:
                decay_mult = cfg.norm_decay_mult
            elif bare.endswith("bias"):
                lr_mult *= cfg.bias_lr_mult
                decay_mult = cfg.bias_decay_mult
            else:
                decay_mult = 1.0
        groups.setdefault((lr_mult, decay_mult), []).append(param)
    return [{"params": params, "lr": cfg.lr * lr_mult, "initial_lr": cfg.lr * lr_mult,
             "lr_mult": lr_mult, "weight_decay": cfg.weight_decay * decay_mult}
            for (lr_mult, decay_mult), params in groups.items()]


def build_optimizer(model: nn.Module, cfg: OptimSection) -> torch.optim.Optimizer:
    groups = param_groups(model, cfg)
    if cfg.type == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                               nesterov=cfg.nesterov)
    optimizer = torch.optim.AdamW if cfg.type == "adamw" else torch.optim.Adam
    return optimizer(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)


class LRSchedule:
    """The learning rate as a function of the iteration, set on the optimizer before each step.

    Stateless apart from the iteration, which the trainer checkpoints; ``step``, ``multistep``
    and ``milestones`` count whole epochs as MMAction2's epoch-based policies do, ``cosine``,
    ``poly`` and ``cyclic`` change every iteration, and warm-up ramps linearly from
    ``warmup_start_factor``. Closed forms rather than torch's stateful schedulers, so that a
    resumed run needs only the iteration; tests check them against torch's ``PolynomialLR`` and
    ``CyclicLR``.
    """

    def __init__(self, cfg: ScheduleSection, base_lr: float, iterations_per_epoch: int):
        self.cfg = cfg
        self.base_lr = base_lr
        self.per_epoch = max(1, iterations_per_epoch)
        self.total = cfg.epochs * self.per_epoch
        self.warmup = int(round(cfg.warmup_epochs * self.per_epoch))

    def factor(self, iteration: int) -> float:
        cfg = self.cfg
        epoch = iteration // self.per_epoch
        if cfg.policy == "step":
            factor = cfg.gamma ** (epoch // cfg.step)
        elif cfg.policy == "multistep":
            factor = cfg.gamma ** sum(epoch >= m for m in cfg.milestones)
        elif cfg.policy == "cosine" and cfg.cosine_after_warmup:
            return self._warmup_then_cosine(iteration)
        elif cfg.policy in ("cosine", "poly"):
            floor = cfg.min_lr / self.base_lr if self.base_lr else 0.0
            progress = min(1.0, iteration / max(1, self.total))
            decay = 0.5 * (1 + math.cos(math.pi * progress)) if cfg.policy == "cosine" else (1 - progress) ** cfg.power
            factor = floor + (1 - floor) * decay
        elif cfg.policy == "cyclic":
            factor = self._cyclic(iteration)
        else:
            factor = 1.0
        if iteration < self.warmup:
            start = cfg.warmup_start_factor
            factor *= start + (1 - start) * iteration / self.warmup
        return factor

    def _warmup_then_cosine(self, iteration: int) -> float:
        """mmengine's ``LinearLR`` then ``CosineAnnealingLR`` (chainable forms, stepped per iteration).

        mmengine's ``LinearLR`` runs ``end - begin - 1`` steps, so its rate at warm-up iteration
        ``t`` of ``W`` is ``start + (1 - start) * t / (W - 1)``: the base rate already at ``W - 1``
        (the default warm-up reaches it only at ``W``). The cosine then starts from the base rate at
        iteration ``W``: ``min_lr + (base - min_lr) * (1 + cos(pi * (i - W) / T_max)) / 2``.
        benchmarks/parity/warmup_cosine.py checks this against mmengine at every iteration.
        """
        cfg = self.cfg
        if iteration < self.warmup:
            start = cfg.warmup_start_factor
            return start + (1 - start) * iteration / max(1, self.warmup - 1)
        floor = cfg.min_lr / self.base_lr if self.base_lr else 0.0
        epochs = cfg.epochs - cfg.warmup_epochs if cfg.cosine_epochs is None else cfg.cosine_epochs
        t_max = max(1, int(round(epochs * self.per_epoch)))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * (iteration - self.warmup) / t_max))

    def _cyclic(self, iteration: int) -> float:
        """mmcv's ``CyclicLrUpdater`` (``by_epoch=False``): each of ``cyclic_times`` cycles rises
        from 1 to ``target_ratio[0]`` over ``step_ratio_up`` of it, then falls to ``target_ratio[1]``.
        With ``anneal_strategy = "linear"`` and ``target_ratio = (r, 1)`` this is torch's
        ``CyclicLR`` (``triangular``) with ``max_lr = r * lr``."""
        cfg = self.cfg
        per_cycle = max(1, self.total // cfg.cyclic_times)
        up = int(cfg.step_ratio_up * per_cycle)
        position = iteration % per_cycle
        high, low = cfg.target_ratio
        start, end, progress = ((1.0, high, position / up) if position < up
                                else (high, low, (position - up) / (per_cycle - up)))
        if cfg.anneal_strategy == "linear":
            return start + (end - start) * progress
        return end + 0.5 * (start - end) * (1 + math.cos(math.pi * progress))

    def apply(self, optimizer: torch.optim.Optimizer, iteration: int) -> float:
        """Set every group's rate for ``iteration``; returns the base group's rate."""
        factor = self.factor(iteration)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"] * factor
        return self.base_lr * factor
