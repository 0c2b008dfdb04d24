"""TSM-NL: a 2D residual block followed by the 3D non-local block over the clip's frames."""
from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk.layers import NonLocal3d, NonLocalCfg


class NL3DWrapper(nn.Module):
    """A residual block followed by a non-local block over the clip's frames (MMAction2's names)."""

    wrapped = "block"

    def __init__(self, block: nn.Module, num_segments: int, cfg: NonLocalCfg):
        super().__init__()
        self.block = block
        self.num_segments = num_segments
        self.non_local_block = NonLocal3d(block.conv3.bn.num_features, cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        nt, c, h, w = x.shape
        x = x.reshape(nt // self.num_segments, self.num_segments, c, h, w).transpose(1, 2)
        x = self.non_local_block(x)
        return x.transpose(1, 2).reshape(nt, c, h, w)
