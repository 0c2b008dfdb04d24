"""Batch mixing for supervised training: the task's ``batch_steps`` applied to normalised inputs.

The steps are registered transforms with ``batch_step = True`` (``mixup``, ``cutmix``,
``actor_cutmix`` from ``actioncore-augment``, built by name from ``[task] batch_steps``); this
module only turns labels into one-hot targets, picks a step per batch and seeds the randomness.
Each batch's ``torch.Generator`` is seeded from ``(runtime.seed, rank, iteration)``, so a resumed
run mixes exactly as the uninterrupted one did.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from actioncore.sdk import ConfigError


def soft_targets(targets: torch.Tensor, num_classes: int | None, label_smoothing: float) -> torch.Tensor:
    """``[B]`` class indices as float one-hot ``[B, C]`` (smoothed); ``[B, C]`` targets as floats."""
    if targets.dim() == 2:
        return targets.float()
    if num_classes is None:
        raise ConfigError("task.batch_steps needs model.head.num_classes to make one-hot targets")
    hot = F.one_hot(targets, num_classes).float()
    return hot * (1 - label_smoothing) + label_smoothing / num_classes if label_smoothing else hot


def batch_generator(seed: int, iteration: int) -> torch.Generator:
    """A CPU generator for one batch, from the run seed, this process's rank and the iteration."""
    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    state = np.random.SeedSequence([seed, rank, iteration]).generate_state(2, np.uint64)
    return torch.Generator().manual_seed(int(state[0] >> np.uint64(1)))


@attrs.frozen
class BatchBlending:
    """The task's batch steps and the probability of each (the rest: no mixing)."""

    steps: tuple[Any, ...]
    probs: tuple[float, ...]

    @classmethod
    def create(cls, steps: Sequence[Any] | None, probs: Sequence[float] | None) -> BatchBlending | None:
        if not steps:
            if probs:
                raise ConfigError("task.batch_step_probs without task.batch_steps")
            return None
        for position, step in enumerate(steps):
            if not getattr(step, "batch_step", False):
                raise ConfigError(f"task.batch_steps[{position}] ({step!r}) is not a batch step (a sample pipeline "
                                  "step goes in data.train.pipeline)")
        if probs is None:
            probs = [1.0 / len(steps)] * len(steps)
        if len(probs) != len(steps) or any(p < 0 for p in probs) or sum(probs) > 1 + 1e-6:
            raise ConfigError(f"task.batch_step_probs {list(probs)}: one probability >= 0 per batch step "
                              f"({len(steps)}), summing to at most 1")
        return cls(tuple(steps), tuple(float(p) for p in probs))

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor, *, batch: Mapping[str, Any],
                 num_classes: int | None, seed: int, label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixed inputs and soft ``[B, C]`` targets for one training batch."""
        if "iteration" not in batch:
            raise ConfigError("task.batch_steps needs batch['iteration'] (the kernel trainer sets it)")
        generator = batch_generator(seed, int(batch["iteration"]))
        soft = soft_targets(targets, num_classes, label_smoothing)
        pick = float(torch.rand((), generator=generator))
        edges = np.cumsum(self.probs)
        index = int(np.searchsorted(edges, pick, side="right"))
        if index >= len(self.steps):
            return inputs, soft
        return self.steps[index](inputs, soft, batch=batch, generator=generator)
