"""SSN's losses (MMAction2 0.24's ``SSNLoss`` and ``OHEMHingeLoss``).

- activity: cross-entropy over ``K + 1`` classes on foreground and background proposals;
- completeness: a class-wise hinge loss, ``max(0, 1 - y * s)`` on the score of the proposal's
  class, ``y = +1`` for foreground and ``-1`` for incomplete proposals; of each video's
  incomplete proposals only the ``ratio`` hardest count (online hard example mining, ratio =
  foreground / incomplete per video, 1/6: the hardest one), the sum divided by the number of
  terms kept; weighted 0.1;
- regression: smooth-L1 (beta 1) between the foreground proposals' class-wise (centre, size)
  predictions and their normalised targets, mean over both numbers, times 2; weighted 0.1.

0.24 wraps each term in ``torch.tensor(...)``, which detaches it from the graph; the losses here
keep their gradients (0.24's hand-written OHEM backward is the gradient of the hinge, which
autograd gives).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def ohem_hinge_loss(scores: torch.Tensor, labels: torch.Tensor, *, sign: int, ratio: float,
                    group_size: int) -> torch.Tensor:
    """Sum over groups of ``group_size`` rows of the ``int(group_size * ratio)`` largest hinge
    terms ``max(0, 1 - sign * scores[i, labels[i] - 1])`` (labels are 1-based classes)."""
    if scores.shape[0] != labels.shape[0] or scores.shape[0] % group_size:
        raise ValueError(f"OHEM hinge loss: {scores.shape[0]} rows, {labels.shape[0]} labels, "
                         f"groups of {group_size}")
    picked = scores.gather(1, (labels - 1).clamp(min=0)[:, None])[:, 0]
    hinge = F.relu(1 - sign * picked).view(-1, group_size)
    keep = int(group_size * ratio)
    return hinge.sort(dim=1, descending=True).values[:, :keep].sum()


def completeness_loss(scores: torch.Tensor, labels: torch.Tensor, *, foreground: int,
                      incomplete: int) -> torch.Tensor:
    """``scores``/``labels`` of the foreground and incomplete proposals, each video's block
    ``[foreground..., incomplete...]``; OHEM ratio ``foreground / incomplete``."""
    group = foreground + incomplete
    scores = scores.view(-1, group, scores.shape[-1])
    labels = labels.view(-1, group)
    ratio = foreground / incomplete
    positive = ohem_hinge_loss(scores[:, :foreground].reshape(-1, scores.shape[-1]),
                               labels[:, :foreground].reshape(-1), sign=1, ratio=1.0, group_size=foreground)
    negative = ohem_hinge_loss(scores[:, foreground:].reshape(-1, scores.shape[-1]),
                               labels[:, foreground:].reshape(-1), sign=-1, ratio=ratio, group_size=incomplete)
    kept = scores.shape[0] * foreground + int(scores.shape[0] * incomplete * ratio)
    return (positive + negative) / float(kept)


def classwise_regression_loss(predictions: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 of ``predictions[i, labels[i] - 1]`` (``[N, K, 2]``) against ``targets`` ``[N, 2]``, times 2."""
    picked = predictions[torch.arange(len(labels), device=labels.device), labels - 1]
    return F.smooth_l1_loss(picked.reshape(-1), targets.reshape(-1)) * 2


def ssn_loss(activity: torch.Tensor, completeness: torch.Tensor, regression: torch.Tensor | None,
             types: torch.Tensor, labels: torch.Tensor, reg_targets: torch.Tensor, *, foreground: int,
             incomplete: int, comp_loss_weight: float = 0.1, reg_loss_weight: float = 0.1) -> dict[str, torch.Tensor]:
    """The three terms and ``loss``, their sum; ``foreground``/``incomplete``: proposals per video."""
    types, labels = types.reshape(-1), labels.reshape(-1)
    active = (types == 0) | (types == 2)
    complete = (types == 0) | (types == 1)
    out = {"loss_activity": F.cross_entropy(activity[active], labels[active])}
    out["loss_completeness"] = comp_loss_weight * completeness_loss(
        completeness[complete], labels[complete], foreground=foreground, incomplete=incomplete)
    if regression is not None:
        fg = types == 0
        out["loss_reg"] = reg_loss_weight * classwise_regression_loss(regression[fg], labels[fg],
                                                                      reg_targets.reshape(-1, 2)[fg])
    out["loss"] = sum(out.values())
    return out
