"""MMAction2's TPNHead: the TSN head that pools the TPN neck's clip features over T, H and W."""
from __future__ import annotations

from typing import Literal

import torch

from actioncore_cls_heads import I3DHead


class TPNHead(I3DHead):
    """Scores ``[N, num_classes]`` from the TPN neck's ``[N, C, t, h, w]``.

    MMAction2's ``TPNHead`` pools 2D per segment (with ``num_segs = 1`` after the neck) in
    training and 3D in its ``fcn_test``; both are one global average over ``t, h, w`` here (the
    neck's ``t`` is 1 for its default temporal scales, and averaging then classifying equals
    classifying then averaging for a linear ``fc_cls``). ``num_segs`` is accepted and ignored.
    """

    name = "tpn"

    def __init__(self, *, num_classes: int, in_channels: int = 2048, spatial_type: Literal["avg"] = "avg",
                 consensus: Literal["avg"] = "avg", dropout_ratio: float = 0.5, init_std: float = 0.01):
        self.check_choice("consensus", consensus, ("avg",))
        super().__init__(num_classes=num_classes, in_channels=in_channels, spatial_type=spatial_type,
                         dropout_ratio=dropout_ratio, init_std=init_std)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        return super().forward(x)
