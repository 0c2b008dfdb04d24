"""MMAction2's ``BBoxHeadAVA``: pool each RoI's features, dropout, one linear layer, multi-label loss."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

PoolType = Literal["avg", "max"]


def temporal_pool(kind: PoolType) -> nn.Module:
    """``[R, C, T, H, W]`` to ``[R, C, 1, H, W]``."""
    return nn.AdaptiveAvgPool3d((1, None, None)) if kind == "avg" else nn.AdaptiveMaxPool3d((1, None, None))


def spatial_pool(kind: PoolType) -> nn.Module:
    """``[R, C, T, H, W]`` to ``[R, C, T, 1, 1]``."""
    return nn.AdaptiveAvgPool3d((None, 1, 1)) if kind == "avg" else nn.AdaptiveMaxPool3d((None, 1, 1))


def focal_bce(logits: torch.Tensor, targets: torch.Tensor, *, alpha: float = 1.0,
              gamma: float = 0.0, multilabel: bool = True) -> torch.Tensor:
    """Mean of ``alpha * (1 - p_t)**gamma * CE`` per element (MMAction2's form, with
    ``p_t = exp(-CE)``); ``alpha = 1, gamma = 0`` is plain binary cross-entropy with logits.
    Single-label (``multilabel = False``) uses softmax cross-entropy against the targets
    normalised to sum to one."""
    if multilabel:
        loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    else:
        loss = F.cross_entropy(logits, targets / targets.sum(dim=1, keepdim=True), reduction="none")
    return (alpha * (1 - torch.exp(-loss)) ** gamma * loss).mean()


def recall_precision(predicted: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over RoIs of per-RoI recall and precision of boolean ``[R, K]`` predictions."""
    correct = (predicted & target).sum(1)
    return (correct / target.sum(1).float()).mean(), (correct / (predicted.sum(1) + 1e-6)).mean()


def top_k_matrix(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean ``[R, K]`` with the ``k`` highest scores of each row set."""
    matrix = torch.zeros_like(scores, dtype=torch.bool)
    return matrix.scatter_(1, scores.topk(k, dim=1).indices, True)


class BBoxHeadAVA(nn.Module):
    """Action logits ``[R, num_classes]`` for RoI features ``[R, in_channels, t, s, s]``.

    :param num_classes: classes including class 0, which with ``background_class`` is the
        "any action" slot AVA configs reserve and the loss ignores (81 for AVA's 80 actions).
    :param in_channels: channels of the RoI features (2048 SlowOnly-R50, 2304 SlowFast-R50,
        more with ``with_global`` or LFB).
    :param background_class: ignore class 0 in the loss and its recall/precision.
    :param temporal_pool_type: ``avg`` or ``max`` over time.
    :param spatial_pool_type: ``avg`` or ``max`` over the RoI grid.
    :param dropout_ratio: dropout probability; 0 turns it off.
    :param dropout_before_pool: dropout on the RoI grid (MMAction2's default) or on the pooled vector.
    :param multilabel: sigmoid scores and binary cross-entropy (AVA); else softmax.
    :param focal_gamma: focal-loss exponent; 0 with ``focal_alpha = 1`` is plain BCE.
    :param focal_alpha: focal-loss weight.
    :param topk: the k of the ``recall@topk`` / ``prec@topk`` numbers reported with the loss.
    :param mlp_head: a hidden ``in_channels`` linear layer with ReLU before ``fc_cls``.
    """

    def __init__(self, *, num_classes: int = 81, in_channels: int = 2048,
                 background_class: bool = True, temporal_pool_type: PoolType = "avg",
                 spatial_pool_type: PoolType = "max", dropout_ratio: float = 0.0,
                 dropout_before_pool: bool = True, multilabel: bool = True,
                 focal_gamma: float = 0.0, focal_alpha: float = 1.0,
                 topk: tuple[int, ...] = (3, 5), mlp_head: bool = False):
        super().__init__()
        if num_classes < 2 or in_channels < 1:
            raise ValueError(f"ava_bbox: num_classes must be at least 2 and in_channels "
                             f"positive, got {num_classes} and {in_channels}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"ava_bbox dropout_ratio must be in [0, 1), got {dropout_ratio}")
        if any(not 0 < k < num_classes for k in topk):
            raise ValueError(f"ava_bbox topk {topk}: each k must be 1 to num_classes - 1")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.background_class = background_class
        self.multilabel = multilabel
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.topk = tuple(topk)
        self.dropout_before_pool = dropout_before_pool
        self.temporal_pool = temporal_pool(temporal_pool_type)
        self.spatial_pool = spatial_pool(spatial_pool_type)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        if mlp_head:
            self.fc_cls = nn.Sequential(nn.Linear(in_channels, in_channels), nn.ReLU(),
                                        nn.Linear(in_channels, num_classes))
        else:
            self.fc_cls = nn.Linear(in_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.dropout is not None and self.dropout_before_pool:
            x = self.dropout(x)
        x = self.spatial_pool(self.temporal_pool(x))
        if self.dropout is not None and not self.dropout_before_pool:
            x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"ava_bbox: RoI features have {x.shape[1]} channels, "
                             f"in_channels is {self.in_channels}")
        return self.fc_cls(x)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-class probabilities: sigmoid (multi-label) or softmax."""
        return logits.sigmoid() if self.multilabel else logits.softmax(dim=-1)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """MMAction2's loss: class 0 dropped (``background_class``), RoIs with no positive
        class dropped (negatives teach nothing here: an actor box always does something), then
        :func:`focal_bce`. Also micro recall and precision at threshold 0.5 and at each top-k."""
        if logits.shape != targets.shape:
            raise ValueError(f"ava_bbox loss: logits {tuple(logits.shape)} and targets "
                             f"{tuple(targets.shape)} differ in shape")
        targets = targets.to(logits.dtype)
        if self.background_class:
            logits, targets = logits[:, 1:], targets[:, 1:]
        positive = targets.sum(dim=-1) > 0
        logits, targets = logits[positive], targets[positive]
        if logits.shape[0] == 0:  # no actor with an action in the batch: nothing to learn
            zero = logits.sum() * 0.0
            return {"loss": zero, "loss_action_cls": zero.detach()}
        with torch.no_grad():
            extras = self._recall_precision(logits.detach().float(), targets > 0.5)
        loss = focal_bce(logits, targets, alpha=self.focal_alpha, gamma=self.focal_gamma,
                         multilabel=self.multilabel)
        return {"loss": loss, "loss_action_cls": loss.detach(), **extras}

    def _recall_precision(self, logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        scores = self.scores(logits)
        at_threshold = scores > 0.5 if self.multilabel else top_k_matrix(scores, 1)
        recall, precision = recall_precision(at_threshold, target)
        out = {"recall@thr=0.5": recall, "prec@thr=0.5": precision}
        for k in self.topk:
            recall, precision = recall_precision(top_k_matrix(scores, k), target)
            out[f"recall@top{k}"] = recall
            out[f"prec@top{k}"] = precision
        return out
