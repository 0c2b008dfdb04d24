"""Losses shared by temporal proposal models."""
from __future__ import annotations

import torch


def binary_logistic_regression_loss(scores: torch.Tensor, targets: torch.Tensor, *, threshold: float = 0.5,
                                    ratio_range: tuple[float, float] = (1.05, 21.0), eps: float = 1e-5) -> torch.Tensor:
    """BSN's class-balanced binary logistic loss over per-step probabilities.

    Targets above ``threshold`` are positives. With ``r = entries / positives`` clamped to
    ``ratio_range``, positives weigh ``r / 2`` and negatives ``r / (2 (r - 1))``, so both halves
    count about equally however rare the positives are (MMAction2's
    ``binary_logistic_regression_loss``).
    """
    targets = targets.reshape(-1).to(scores.dtype)
    scores = scores.contiguous().reshape(-1)
    positive = (targets > threshold).to(scores.dtype)
    num_positive = max(float(positive.sum()), 1.0)
    ratio = min(max(targets.numel() / num_positive, ratio_range[0]), ratio_range[1])
    coef_0 = 0.5 * ratio / (ratio - 1)
    coef_1 = 0.5 * ratio
    loss = coef_1 * positive * torch.log(scores + eps) + coef_0 * (1.0 - positive) * torch.log(1.0 - scores + eps)
    return -loss.mean()
