"""C3D (Tran et al., ICCV 2015) as MMAction2 1.2.0 builds it: eight 3x3x3 convolutions, five
poolings and two fully connected layers, ``[N, 3, 16, 112, 112]`` -> ``[N, 4096]``."""
from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk.layers import ConvModule, NormCfg, constant_init, kaiming_init
from actioncore.sdk.weights import PretrainedMixin

from .weights import own_weights


class C3D(PretrainedMixin):
    """MMAction2's C3D backbone; module names as its (``conv1a.conv.weight``, ``fc6.weight``).

    :param in_channels: input channels.
    :param norm_cfg: a BatchNorm after every convolution; none (the default) as in the paper.
    :param out_dim: inputs of ``fc6``, 512 x the size of ``pool5``'s output: 8192 for 16 x 112 x 112
        clips (1 x 4 x 4), 512 for 16 x 16 x 16, the smallest clip C3D takes.
    :param dropout_ratio: dropout after ``fc6``.
    :param init_std: standard deviation of the fully connected layers' normal initial weights.
    :param pretrained: a local state dict in this module's naming (MMAction2's), loaded once the
        model is built.
    """

    def __init__(self, *, in_channels: int = 3, norm_cfg: NormCfg | None = None,
                 out_dim: int = 8192, dropout_ratio: float = 0.5, init_std: float = 0.005,
                 pretrained: str | None = None):
        super().__init__()
        conv = dict(padding=(1, 1, 1), norm_cfg=norm_cfg)
        self.conv1a = ConvModule(in_channels, 64, 3, **conv)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.conv2a = ConvModule(64, 128, 3, **conv)
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv3a = ConvModule(128, 256, 3, **conv)
        self.conv3b = ConvModule(256, 256, 3, **conv)
        self.pool3 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv4a = ConvModule(256, 512, 3, **conv)
        self.conv4b = ConvModule(512, 512, 3, **conv)
        self.pool4 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv5a = ConvModule(512, 512, 3, **conv)
        self.conv5b = ConvModule(512, 512, 3, **conv)
        self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, padding=(0, 1, 1))
        self.fc6 = nn.Linear(out_dim, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout_ratio)
        self.out_dim = out_dim
        self.out_channels = 4096
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=init_std)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                constant_init(m, 1)
        self.pretrained = pretrained

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return own_weights(self, state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1a(x))
        x = self.pool2(self.conv2a(x))
        x = self.pool3(self.conv3b(self.conv3a(x)))
        x = self.pool4(self.conv4b(self.conv4a(x)))
        x = self.pool5(self.conv5b(self.conv5a(x)))
        x = x.flatten(1)
        if x.shape[1] != self.out_dim:
            raise ValueError(f"c3d: the input gives {x.shape[1]} features before fc6, out_dim is "
                             f"{self.out_dim} (8192 for 16x112x112 clips)")
        x = self.dropout(self.relu(self.fc6(x)))
        return self.relu(self.fc7(x))
