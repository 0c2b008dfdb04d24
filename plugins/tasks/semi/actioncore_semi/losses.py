"""The consistency losses of SEED003 §1.1-1.2 (FixMatch, UDA) and their soft-target CE.

Numbers follow ``recognizer3d_semi.py``: pseudo-labels come from the weak view's train-mode
logits, detached; FixMatch selects clips whose top probability is ``>= threshold``, takes the
mean CE over them and multiplies it by ``num_select / B_u`` (the usual ``1/B_u`` sum); UDA
sharpens the weak softmax at ``temperature`` and averages the soft CE over the selected clips
with no rescaling. Nothing selected: the loss is 0 (still part of the graph, for DDP).
"""
from __future__ import annotations

from typing import Literal

import attrs
import torch
import torch.nn.functional as F

Method = Literal["fixmatch", "uda"]


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-row ``-sum_c t_c log softmax(logits)_c`` (a one-hot target gives plain CE)."""
    return -(targets * logits.float().log_softmax(dim=1)).sum(dim=1)


def mix_targets(targets: torch.Tensor, weight: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
    """ActorCutMix targets: ``w_i t_i + (1 - w_i) t_partner(i)`` (SEED003 §1.2 step 8)."""
    weight = weight.to(targets.dtype).unsqueeze(1)
    return weight * targets + (1 - weight) * targets[partner]


@attrs.frozen
class PseudoLabels:
    """What the weak view says about the unlabeled clips."""

    targets: torch.Tensor
    """``[B_u, C]``: one-hot argmax (FixMatch) or the sharpened softmax (UDA), detached."""
    hard: torch.Tensor
    """``[B_u]`` argmax of the weak logits."""
    selected: torch.Tensor
    """``[B_u]`` bool: top probability ``>= threshold``."""


def pseudo_labels(weak_logits: torch.Tensor, *, method: Method, threshold: float,
                  temperature: float) -> PseudoLabels:
    """Targets and the confidence mask from the weak view's logits (no gradient flows back)."""
    weak = weak_logits.detach().float()
    probs = weak.softmax(dim=1)
    confidence, hard = probs.max(dim=1)
    if method == "fixmatch":
        targets = F.one_hot(hard, weak.shape[1]).to(weak.dtype)
    else:
        targets = (weak / temperature).softmax(dim=1)
    return PseudoLabels(targets=targets, hard=hard, selected=confidence >= threshold)


def consistency_loss(strong_logits: torch.Tensor, targets: torch.Tensor, selected: torch.Tensor, *,
                     method: Method) -> torch.Tensor:
    """The unlabeled loss over the selected clips (see the module docstring for the scaling)."""
    per_clip = soft_cross_entropy(strong_logits, targets)
    count = selected.sum()
    if method == "fixmatch":
        return (per_clip * selected).sum() / selected.numel()  # = mean_selected * num_select / B_u
    return (per_clip * selected).sum() / count.clamp(min=1)
