"""MMAction2's ``MViTHead``: dropout and ``fc_cls`` on the backbone's cls token."""
from __future__ import annotations

import torch
from torch import nn

from actioncore_cls_heads import TimeSformerHead


class MViTHead(TimeSformerHead):
    """TimeSformer's head (dropout + ``fc_cls`` on ``[N, in_channels]``) with MViT's start:
    truncated-normal weights of ``init_std`` and bias 0.02, both times ``init_scale``, and
    MMAction2's default dropout 0.5.

    :param num_classes: number of classes.
    :param in_channels: width of the backbone's cls token (768 for S/B, 1152 for L).
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of the classifier's truncated-normal weights.
    :param init_scale: factor on the classifier's initial weights and bias.
    """

    name = "mvit head"

    def __init__(self, *, num_classes: int, in_channels: int = 768, dropout_ratio: float = 0.5,
                 init_std: float = 0.02, init_scale: float = 1.0):
        super().__init__(num_classes=num_classes, in_channels=in_channels, init_std=init_std,
                         dropout_ratio=dropout_ratio)
        fc = self.classifier
        if not fc.weight.is_meta:
            with torch.no_grad():
                nn.init.constant_(fc.bias, 0.02)
                fc.weight.mul_(init_scale)
                fc.bias.mul_(init_scale)
