"""Memory layout of a model's convolution weights."""
from __future__ import annotations

import torch
from torch import nn


def to_channels_last(model: nn.Module) -> nn.Module:
    """Put 2D and 3D convolution weights in channels-last layout, in place.

    oneDNN (CPU) and cuDNN then run the convolutions in NHWC / NDHWC and carry that layout through
    the activations; the inputs need no conversion. Values and state-dict keys do not change.
    """
    for param in model.parameters():
        if param.dim() in (4, 5):
            fmt = torch.channels_last if param.dim() == 4 else torch.channels_last_3d
            param.data = param.data.contiguous(memory_format=fmt)
    return model
