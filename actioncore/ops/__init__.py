"""Tensor operations that model plugins share (layers faster than their ``torch.nn`` namesakes,
the non-local block of several backbones)."""
from actioncore.ops.conv import Conv2d, Conv3d
from actioncore.ops.nonlocal_block import NonLocal3d, NonLocalCfg

__all__ = ["Conv2d", "Conv3d", "NonLocal3d", "NonLocalCfg"]
