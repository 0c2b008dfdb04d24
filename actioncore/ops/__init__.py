"""Tensor operations that model plugins share (layers faster than their ``torch.nn`` namesakes)."""
from actioncore.ops.conv import Conv2d, Conv3d

__all__ = ["Conv2d", "Conv3d"]
