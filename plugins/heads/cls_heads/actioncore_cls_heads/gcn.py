"""MMAction2's GCNHead: average over persons, time and joints, dropout, linear classifier."""
from __future__ import annotations

import torch

from .base import ClsHead


class GCNHead(ClsHead):
    """Logits ``[N, num_classes]`` from GCN features ``[N, M, C, T, V]``.

    What it changes in :class:`ClsHead`: its own pooling (a mean over time and joints, then
    persons), a classifier named ``fc`` and a dropout parameter named ``dropout``, as MMAction2's.

    :param num_classes: number of classes.
    :param in_channels: feature channels C (256 for the default ST-GCN and AAGCN).
    :param dropout: dropout before ``fc``; 0 turns it off.
    :param init_std: standard deviation of ``fc``'s normal initial weights (bias 0).
    """

    name = "gcn"
    dropout_param = "dropout"

    def __init__(self, *, num_classes: int, in_channels: int = 256, dropout: float = 0.0,
                 init_std: float = 0.01):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout,
                         init_std=init_std, linears={"fc": (in_channels, num_classes)})

    @staticmethod
    def from_mmaction2(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2 head weights; 0.x's ``STGCNHead`` classified with a 1x1 convolution ``fcn``
        after the same pooling, i.e. this linear layer with the kernel's trailing 1x1."""
        out = {}
        for key, value in state.items():
            if key.startswith("fcn."):
                key = "fc." + key.removeprefix("fcn.")
                value = value.flatten(1) if value.dim() == 4 else value
            out[key] = value
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[2] != self.in_channels:
            raise ValueError(f"gcn head: expected features [N, M, C={self.in_channels}, T, V], "
                             f"got {list(x.shape)}")
        # mean over time and joints per person, then over persons (equal weights, as MMAction2)
        return self.classify(x.mean(dim=(3, 4)).mean(dim=1))
