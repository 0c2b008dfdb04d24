"""A model-plugin check: a few optimizer steps on one fixed batch should lower the loss."""
from __future__ import annotations

import torch
from torch import nn


def fixed_batch_losses(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, *, steps: int = 5,
                       optimizer: torch.optim.Optimizer | None = None, reseed: int | None = None) -> list[float]:
    """Cross-entropy after each of ``steps`` training steps on ``(inputs, labels)``.

    :param optimizer: defaults to AdamW at 1e-3 over the trainable parameters.
    :param reseed: seed torch before every step, so dropout draws the same masks each time.
    """
    model.train()
    optimizer = optimizer or torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    losses = []
    for _ in range(steps):
        if reseed is not None:
            torch.manual_seed(reseed)
        loss = nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
