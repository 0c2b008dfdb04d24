"""An exponential moving average of a model's weights (mmengine's ``ExponentialMovingAverage``
driven as its ``EMAHook`` drives it), checkpointed so that a resumed run continues it exactly."""
from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..config.experiment import EmaSection


class ModelEma:
    """A frozen copy of the model whose weights follow the trained ones.

    ``update`` is called after every training iteration: before ``begin_iter`` the copy takes the
    weights as they are; from then on mmengine's counter rules apply: the first update copies,
    then every ``interval``-th one does ``ema = ema.lerp(w, momentum)`` on floating parameters
    (and buffers with ``update_buffers``; otherwise buffers are copied).
    """

    def __init__(self, model: nn.Module, cfg: EmaSection):
        self.cfg = cfg
        self.module = copy.deepcopy(model).eval()
        self.module.requires_grad_(False)
        self.steps = 0

    @torch.no_grad()
    def update(self, model: nn.Module, iteration: int) -> None:
        """Follow ``model`` after training iteration ``iteration`` (0-based)."""
        cfg = self.cfg
        if iteration + 1 < cfg.begin_iter:  # mmengine's ``_ema_started``: runner.iter + 1 >= begin_iter
            for own, src in zip(self.module.state_dict().values(), model.state_dict().values()):
                own.copy_(src)
            return
        averaged = dict(self.module.state_dict()) if cfg.update_buffers else dict(self.module.named_parameters())
        source = model.state_dict() if cfg.update_buffers else dict(model.named_parameters())
        if self.steps == 0:
            for key, own in averaged.items():
                own.copy_(source[key])
        elif self.steps % cfg.interval == 0:
            for key, own in averaged.items():
                if own.dtype.is_floating_point:
                    own.lerp_(source[key].to(own.device), cfg.momentum)
        if not cfg.update_buffers:
            for own, src in zip(self.module.buffers(), model.buffers()):
                own.copy_(src)
        self.steps += 1

    def state(self, source: nn.Module) -> dict[str, Any]:
        """What the checkpoint keeps beside the averaged weights (its ``model``): the trained
        weights and the update counter (mmengine also swaps them so that ``model`` is the EMA)."""
        return {"source": source.state_dict(), "steps": self.steps}

    def restore(self, averaged: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.module.load_state_dict(averaged)
        self.steps = int(state["steps"])
