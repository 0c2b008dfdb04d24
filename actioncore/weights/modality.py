"""Cross-modality initialisation: an RGB network's first kernel for another input (optical flow).

TSN (Wang et al., ECCV 2016, section 3.2 "cross modality pre-training") starts a flow network
from ImageNet weights by averaging the first convolution's kernel over its three RGB input
channels and repeating that average once per input channel of the new modality (10 for five
stacked x/y flow pairs). The first layer then answers to the mean of its input channels as the
RGB layer answered to a gray image, and every later layer keeps its ImageNet weights.
"""
from __future__ import annotations

import torch


def cross_modality_kernel(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """``weight`` (``[out, 3, *kernel]``) averaged over its input channels and repeated to
    ``[out, in_channels, *kernel]``; any kernel rank (2D, or 3D after inflation) works."""
    if weight.dim() < 3:
        raise ValueError(f"cross_modality_kernel: a convolution kernel has >= 3 dims, got {tuple(weight.shape)}")
    if in_channels < 1:
        raise ValueError(f"cross_modality_kernel: in_channels must be >= 1, got {in_channels}")
    mean = weight.mean(dim=1, keepdim=True)
    return mean.repeat(1, in_channels, *([1] * (weight.dim() - 2))).contiguous()
