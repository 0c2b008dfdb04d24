"""TANet: the temporal adaptive module (Liu et al., ICCV 2021) in every ResNet bottleneck."""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import checkpoint

from actioncore_tsn import Bottleneck, Depth, ResNet

from .resnet_tsm import resnet_args


class TAM(nn.Module):
    """Temporal adaptive module on ``[N * T, C, H, W]`` frames (MMAction2's ``TAM``, same names).

    From each channel's spatially pooled time series it learns a local, location-sensitive
    importance map (``L``: channel-wise temporal convolutions and a sigmoid, which rescales the
    features) and a global, location-invariant adaptive kernel of size ``adaptive_kernel_size``
    (``G``: two linear layers over time and a softmax), which then convolves each channel along
    time.

    :param alpha: ``G``'s hidden width is ``num_segments * alpha``.
    :param beta: ``L`` reduces channels by ``beta``.
    """

    def __init__(self, in_channels: int, num_segments: int, alpha: int = 2,
                 adaptive_kernel_size: int = 3, beta: int = 4, conv1d_kernel_size: int = 3,
                 adaptive_convolution_stride: int = 1, adaptive_convolution_padding: int = 1):
        super().__init__()
        if alpha < 1 or beta < 1:
            raise ValueError(f"tam alpha and beta must be positive, got {alpha} and {beta}")
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.stride = adaptive_convolution_stride
        self.padding = adaptive_convolution_padding
        self.G = nn.Sequential(
            nn.Linear(num_segments, num_segments * alpha, bias=False),
            nn.BatchNorm1d(num_segments * alpha), nn.ReLU(inplace=True),
            nn.Linear(num_segments * alpha, adaptive_kernel_size, bias=False), nn.Softmax(-1))
        self.L = nn.Sequential(
            nn.Conv1d(in_channels, in_channels // beta, conv1d_kernel_size,
                      padding=conv1d_kernel_size // 2, bias=False),
            nn.BatchNorm1d(in_channels // beta), nn.ReLU(inplace=True),
            nn.Conv1d(in_channels // beta, in_channels, 1, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape
        t = self.num_segments
        b = nt // t
        x = x.reshape(b, t, c, h, w).transpose(1, 2)                  # [B, C, T, H, W]
        series = x.mean(dim=(3, 4))                                   # [B, C, T]
        kernel = self.G(series.reshape(b * c, t)).reshape(b * c, 1, -1, 1)
        local = self.L(series).reshape(b, c, t, 1, 1)
        if torch.compiler.is_compiling() and not torch.compiler.is_exporting() and self.stride == 1:
            # torch.compile: the same sum of products as the grouped convolution below, written out so that
            # Inductor fuses it with the rescaling into one pass in the frames' layout; the convolution,
            # its kernel made per clip at run time, stays an eager call on a contiguous copy of the frames
            # and back (16% of TANet-R50's frozen compiled inference). Exports keep the convolution, whose
            # batch-sized group count is why TANet exports with a fixed batch (README, Deploy)
            taps = kernel.reshape(b, c, -1)
            size = taps.shape[-1]
            padded = F.pad(x * local, (0, 0, 0, 0, self.padding, self.padding))
            frames = t + 2 * self.padding - size + 1
            y = sum(padded[:, :, i:i + frames] * taps[:, :, i, None, None, None] for i in range(size))
            return y.transpose(1, 2).reshape(-1, c, h, w)
        y = F.conv2d((x * local).reshape(1, b * c, t, h * w), kernel,
                     stride=(self.stride, 1), padding=(self.padding, 0), groups=b * c)
        return y.reshape(b, c, -1, h, w).transpose(1, 2).reshape(-1, c, h, w)


class TABlock(nn.Module):
    """A ResNet bottleneck with TAM after its first convolution (MMAction2's ``TABlock``).

    The bottleneck is kept whole as ``block`` (its keys gain a ``block.`` prefix, as in
    MMAction2) and the module is ``tam``.
    """

    wrapped = "block"

    def __init__(self, block: Bottleneck, num_segments: int, tam_cfg: dict[str, int]):
        super().__init__()
        if not isinstance(block, Bottleneck):
            raise ValueError("tanet: TA-blocks need bottleneck blocks (depth 50, 101 or 152)")
        self.block = block
        self.num_segments = num_segments
        self.tam = TAM(block.conv1.conv.out_channels, num_segments, **tam_cfg)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        b = self.block
        out = b.conv3(b.conv2(self.tam(b.conv1(x))))
        return out + (x if b.downsample is None else b.downsample(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.block.with_cp and torch.is_grad_enabled():
            out = checkpoint.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.block.relu(out)


class TANet(ResNet):
    """MMAction2's ``TANet``: a bottleneck ResNet whose every block is a TA-block.

    Every parameter of actioncore-tsn's ``resnet`` applies, plus:

    :param num_segments: frames per clip the backbone is fed (at least 3).
    :param tam_cfg: TAM's options: ``alpha`` (2), ``beta`` (4), ``adaptive_kernel_size`` (3),
        ``conv1d_kernel_size`` (3), ``adaptive_convolution_stride`` (1),
        ``adaptive_convolution_padding`` (1).
    """

    def __init__(
        self, *, depth: Depth = 50, num_segments: int = 8, tam_cfg: dict[str, int] | None = None,
        in_channels: int = 3, num_stages: int = 4,
        out_indices: tuple[int, ...] = (3,), strides: tuple[int, ...] = (1, 2, 2, 2),
        dilations: tuple[int, ...] = (1, 1, 1, 1), style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, norm_eval: bool = False, partial_bn: bool = False,
        with_cp: bool = False, pretrained: str | None = None,
    ):
        if depth < 50:
            raise ValueError(f"tanet needs a bottleneck ResNet (depth 50, 101, 152), got {depth}")
        if num_segments < 3:
            raise ValueError(f"tanet num_segments must be at least 3, got {num_segments}")
        super().__init__(**resnet_args(locals()))
        self.num_segments = num_segments
        self.tam_cfg = dict(tam_cfg or {})
        for name in self.stage_names:
            stage = getattr(self, name)
            for i, block in enumerate(stage):
                stage[i] = TABlock(block, num_segments, self.tam_cfg)
        self.freeze_stages()
