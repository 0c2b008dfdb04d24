"""MMAction2's ``HVULoss``: binary cross-entropy over all tags of all categories (``all``) or per
tag category, each averaged and weighted (``individual``); optionally masked to the categories
a clip is annotated with."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F


class HVULoss:
    """The loss over ``scores`` ``[N, sum(category_nums)]`` (the categories' tags side by side, as
    the one classifier of MMAction2's HVU recognizers outputs them) and multi-hot ``targets``.

    A clip counts as annotated in a category when it has a tag of it: MMAction2's ``LoadHVULabel``
    sets the category mask for every category of the clip's label dictionary, which the HVU
    tools write only for categories with tags, so the masks are the same.
    """

    def __init__(self, *, categories: Sequence[str], category_nums: Sequence[int],
                 category_loss_weights: Sequence[float] | None = None,
                 loss_type: Literal["all", "individual"] = "all", with_mask: bool = False,
                 reduction: Literal["mean", "sum"] = "mean"):
        weights = list(category_loss_weights) if category_loss_weights is not None else [1.0] * len(categories)
        if not len(categories) == len(category_nums) == len(weights):
            raise ValueError(f"{len(categories)} categories, {len(category_nums)} category_nums and "
                             f"{len(weights)} category_loss_weights: one of each per category")
        if any(w < 0 for w in weights):
            raise ValueError(f"category_loss_weights must be at least 0, got {weights}")
        self.categories = list(categories)
        self.category_nums = list(category_nums)
        self.weights = weights
        self.loss_type = loss_type
        self.with_mask = with_mask
        self.reduction = reduction
        self.starts = [sum(self.category_nums[:i]) for i in range(len(self.category_nums))]

    def category_mask(self, targets: torch.Tensor) -> torch.Tensor:
        """``[N, categories]``: 1 where the clip has a tag of the category."""
        return torch.stack([targets[:, s:s + n].amax(dim=1) for s, n in zip(self.starts, self.category_nums)], dim=1)

    def __call__(self, scores: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss`` (to minimise) and, under ``individual``, each category's ``<name>_loss``."""
        scores, targets = scores.float(), targets.float()
        category_mask = self.category_mask(targets)
        if self.loss_type == "all":
            loss = F.binary_cross_entropy_with_logits(scores, targets, reduction="none")
            if self.with_mask:
                mask = torch.repeat_interleave(category_mask, torch.tensor(self.category_nums, device=scores.device),
                                               dim=1)
                per_clip = (mask * loss).sum(dim=1)
                if self.reduction == "mean":
                    per_clip = per_clip / mask.sum(dim=1)
                return {"loss": per_clip.mean()}
            return {"loss": (loss.sum(dim=-1) if self.reduction == "sum" else loss).mean()}
        losses: dict[str, torch.Tensor] = {}
        weights: dict[str, float] = {}
        for i, (name, start, num) in enumerate(zip(self.categories, self.starts, self.category_nums)):
            loss = F.binary_cross_entropy_with_logits(scores[:, start:start + num], targets[:, start:start + num],
                                                      reduction="none")
            loss = loss.mean(dim=1) if self.reduction == "mean" else loss.sum(dim=1)
            if self.with_mask:
                present = category_mask[:, i]
                if present.sum() < 0.5:  # no clip of the batch has this category
                    losses[name], weights[name] = scores.new_zeros(()), 0.0
                    continue
                loss = (loss * present).sum() / present.sum()
            else:
                loss = loss.mean()
            losses[name], weights[name] = loss, self.weights[i]
        total_weight = sum(weights.values())
        out = {"loss": sum(losses[k] * (weights[k] / total_weight) for k in losses)}
        out.update({f"{k}_loss": v.detach() for k, v in losses.items()})
        return out
