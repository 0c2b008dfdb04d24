"""MMAction2's GCNHead: average over persons, time and joints, dropout, linear classifier."""
from __future__ import annotations

import torch
from torch import nn


class GCNHead(nn.Module):
    """Logits ``[N, num_classes]`` from GCN features ``[N, M, C, T, V]``.

    :param num_classes: number of classes.
    :param in_channels: feature channels C (256 for the default ST-GCN and AAGCN).
    :param dropout: dropout before ``fc``; 0 turns it off.
    :param init_std: standard deviation of ``fc``'s normal initial weights (bias 0).
    """

    def __init__(self, *, num_classes: int, in_channels: int = 256, dropout: float = 0.0,
                 init_std: float = 0.01):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"gcn num_classes must be positive, got {num_classes}")
        if not 0 <= dropout < 1:
            raise ValueError(f"gcn dropout must be in [0, 1), got {dropout}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc.weight, std=init_std)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[2] != self.in_channels:
            raise ValueError(f"gcn head: expected features [N, M, C={self.in_channels}, T, V], "
                             f"got {list(x.shape)}")
        # mean over time and joints per person, then over persons (equal weights, as MMAction2)
        x = x.mean(dim=(3, 4)).mean(dim=1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)
