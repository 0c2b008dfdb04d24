"""The ``hvu_recognition`` task: one classifier over all tag categories of HVU, trained with
``HVULoss`` and scored with each category's mean average precision (MMAction2 0.24's HVU)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from actioncore.sdk import ConfigError, Experiment, Metric
from actioncore_recognition import MeanAveragePrecision, RecognitionAdapter, RecognitionTask, prepare_inputs

from .dataset import HVU_CATEGORIES, HVU_CATEGORY_NUMS
from .loss import HVULoss


class HVUMeanAveragePrecision:
    """``<category>_mAP`` per tag category: the mean average precision over the category's tags,
    among the clips annotated with it (MMAction2 0.24's ``HVUDataset.evaluate``)."""

    def __init__(self, *, tag_categories: list[str] = HVU_CATEGORIES,
                 tag_category_nums: list[int] = HVU_CATEGORY_NUMS):
        self.categories = list(tag_categories)
        self.nums = list(tag_category_nums)
        self.average_precision = MeanAveragePrecision()

    def __call__(self, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        out = {}
        start = 0
        for name, num in zip(self.categories, self.nums):
            part = labels[:, start:start + num]
            rows = part.any(axis=1)
            value = self.average_precision(scores[rows, start:start + num], part[rows])["mean_average_precision"] \
                if rows.any() else float("nan")
            out[f"{name}_mAP"] = value
            start += num
        return out

    def __repr__(self) -> str:
        return f"HVUMeanAveragePrecision({self.categories})"


class HVUAdapter(RecognitionAdapter):
    """The recognition adapter with :class:`HVULoss` and per-category mAP."""

    task: HVUTask

    def __init__(self, task: HVUTask, experiment: Experiment):
        super().__init__(task, experiment)
        total = sum(task.loss_fn.category_nums)
        if self.num_classes is not None and self.num_classes != total:
            raise ConfigError(f"model.head.num_classes = {self.num_classes}, but the tag categories "
                              f"{task.loss_fn.categories} have {total} tags (task.tag_category_nums)")
        if not task.metrics:
            self.metrics = [HVUMeanAveragePrecision(tag_categories=task.loss_fn.categories,
                                                    tag_category_nums=task.loss_fn.category_nums)]

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        targets = self.targets(batch["labels"], device)
        losses = self.task.loss_fn(model(prepare_inputs(batch, device)), targets)
        losses["loss"] = losses["loss"] * self.task.loss_weight
        return losses


class HVUTask(RecognitionTask):
    """Multi-tag recognition over HVU's tag categories (MMAction2's ``HVULoss``: ``loss_type``
    ``all`` or ``individual``, ``with_mask``, ``category_loss_weights``). The model's head has
    ``sum(tag_category_nums)`` outputs, the categories' tags side by side (the ``hvu`` dataset's
    labels); each category's slice is its own linear classifier."""

    def __init__(self, *, tag_categories: list[str] = HVU_CATEGORIES, tag_category_nums: list[int] = HVU_CATEGORY_NUMS,
                 category_loss_weights: list[float] | None = None,
                 loss_type: Literal["all", "individual"] = "all", with_mask: bool = False,
                 reduction: Literal["mean", "sum"] = "mean", loss_weight: float = 1.0,
                 metrics: list[Metric] | None = None, classes: str | None = None):
        super().__init__(metrics=metrics, multi_label=True, loss_weight=loss_weight, classes=classes)
        self.loss_fn = HVULoss(categories=tag_categories, category_nums=tag_category_nums,
                               category_loss_weights=category_loss_weights, loss_type=loss_type,
                               with_mask=with_mask, reduction=reduction)

    def adapter(self, experiment: Experiment) -> HVUAdapter:
        return HVUAdapter(self, experiment)
