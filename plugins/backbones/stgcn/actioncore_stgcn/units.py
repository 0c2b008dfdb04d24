"""The layers the skeleton GCNs stack: graph convolutions over joints, convolutions over time.

Features are ``[N, C, T, V]`` (persons folded into N). Module and parameter names are
MMAction2 1.2.0's (``gcn.conv``, ``gcn.PA``, ``tcn.bn``, ``conv_d.0``...), so its checkpoints
load key for key once the fixed graph buffers are dropped (see :mod:`actioncore_stgcn.mmaction2`).
"""
from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from actioncore.sdk.layers import Conv2d, constant_init, kaiming_init

GraphAdaptive = Literal["importance", "offset", "init", "none"]


def _adjacency_tensor(adjacency: torch.Tensor) -> torch.Tensor:
    return adjacency.detach().clone().float()


class TemporalConv(nn.Module):
    """A ``k x 1`` convolution along time, BatchNorm and dropout (MMAction2's ``unit_tcn``).

    :param kernel_size: temporal extent; padding keeps T (divided by ``stride``).
    :param with_norm: follow the convolution with BatchNorm.
    :param dropout: dropout after the norm.
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 9, stride: int = 1,
                 dilation: int = 1, with_norm: bool = True, dropout: float = 0.0):
        super().__init__()
        span = kernel_size + (kernel_size - 1) * (dilation - 1)
        self.conv = Conv2d(in_channels, out_channels, kernel_size=(kernel_size, 1),
                              padding=((span - 1) // 2, 0), stride=(stride, 1), dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels) if with_norm else nn.Identity()
        self.drop = nn.Dropout(dropout)
        kaiming_init(self.conv)
        if with_norm:
            constant_init(self.bn, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))


class GraphConv(nn.Module):
    """ST-GCN's graph convolution (MMAction2's ``unit_gcn``): one 1x1 convolution per neighbour
    subset, each subset's output aggregated over the joints by its adjacency matrix.

    :param adjacency: ``[K, V, V]`` from :class:`~actioncore_stgcn.graph.Graph`.
    :param adaptive: how the adjacency learns. ``importance``: ST-GCN's learnable edge
        importance, an elementwise mask ``PA`` (initially 1) on the fixed graph; ``offset``: a
        learnable additive ``PA`` (initially ~0); ``init``: the adjacency itself is a
        parameter initialised to the graph; ``none``: the fixed graph.
    :param conv_pos: ``pre`` convolves then aggregates over joints (``out * K`` channels),
        ``post`` aggregates every subset then convolves the ``K * in`` channels.
    :param with_res: add a residual (1x1 convolution and BatchNorm where channels change)
        inside the unit, before the ReLU (ST-GCN++).
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, *,
                 adaptive: GraphAdaptive = "importance", conv_pos: Literal["pre", "post"] = "pre",
                 with_res: bool = False):
        super().__init__()
        if adaptive not in ("importance", "offset", "init", "none"):
            raise ValueError(f"gcn_adaptive must be importance, offset, init or none, got {adaptive!r}")
        if conv_pos not in ("pre", "post"):
            raise ValueError(f"gcn_conv_pos must be pre or post, got {conv_pos!r}")
        self.num_subsets = adjacency.shape[0]
        self.adaptive = adaptive
        self.conv_pos = conv_pos
        adjacency = _adjacency_tensor(adjacency)
        if adaptive == "init":
            self.A = nn.Parameter(adjacency)
        else:
            # The graph is fixed by the config: kept out of our checkpoints (MMAction2 stores it).
            self.register_buffer("A", adjacency, persistent=False)
        if adaptive in ("importance", "offset"):
            self.PA = nn.Parameter(adjacency.clone())
            if adaptive == "importance":
                nn.init.ones_(self.PA)
            else:
                nn.init.uniform_(self.PA, -1e-6, 1e-6)
        if conv_pos == "pre":
            self.conv = Conv2d(in_channels, out_channels * self.num_subsets, 1)
        else:
            self.conv = Conv2d(in_channels * self.num_subsets, out_channels, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.ReLU()
        self.with_res = with_res
        if with_res and in_channels != out_channels:
            self.down = nn.Sequential(Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        elif with_res:
            self.down = nn.Identity()

    def adjacency(self) -> torch.Tensor:
        if self.adaptive == "importance":
            return self.A * self.PA
        if self.adaptive == "offset":
            return self.A + self.PA
        return self.A

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        adjacency = self.adjacency()
        if self.conv_pos == "pre":
            per_subset = self.conv(x).view(n, self.num_subsets, -1, t, v)
            out = torch.einsum("nkctv,kvw->nctw", per_subset, adjacency)
        else:
            aggregated = torch.einsum("nctv,kvw->nkctw", x, adjacency).reshape(n, -1, t, v)
            out = self.conv(aggregated)
        out = self.bn(out)
        if self.with_res:
            out = out + self.down(x)
        return self.act(out)


class AdaptiveGraphConv(nn.Module):
    """2s-AGCN's adaptive graph convolution with AAGCN's attention (MMAction2's ``unit_aagcn``).

    For each subset k the joints are aggregated by ``B_k + alpha * C_k(x)``: ``B_k`` the graph's
    adjacency, learnable when ``adaptive``, and ``C_k`` a data-dependent similarity of joint
    embeddings (``conv_a``, ``conv_b``, ``tanh``), then convolved by ``conv_d[k]``; the subsets
    are summed, normalised, and added to a residual. With ``attention``, spatial (``conv_sa``),
    temporal (``conv_ta``) and channel (``fc1c``, ``fc2c``) attention follow, each as
    ``y + y * mask``.

    :param coff_embedding: embedding channels are ``out_channels // coff_embedding``.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: torch.Tensor, *,
                 coff_embedding: int = 4, adaptive: bool = True, attention: bool = True):
        super().__init__()
        self.num_subsets = adjacency.shape[0]
        self.embed_channels = out_channels // coff_embedding
        self.adaptive = adaptive
        self.attention = attention
        num_joints = adjacency.shape[-1]
        adjacency = _adjacency_tensor(adjacency)

        self.conv_d = nn.ModuleList(Conv2d(in_channels, out_channels, 1) for _ in range(self.num_subsets))
        if adaptive:
            self.A = nn.Parameter(adjacency)
            self.alpha = nn.Parameter(torch.zeros(1))
            self.conv_a = nn.ModuleList(Conv2d(in_channels, self.embed_channels, 1)
                                        for _ in range(self.num_subsets))
            self.conv_b = nn.ModuleList(Conv2d(in_channels, self.embed_channels, 1)
                                        for _ in range(self.num_subsets))
        else:
            self.register_buffer("A", adjacency, persistent=False)
        if attention:
            self.conv_ta = nn.Conv1d(out_channels, 1, 9, padding=4)
            # an odd kernel over the joints, as wide as the skeleton
            joint_kernel = num_joints if num_joints % 2 else num_joints - 1
            self.conv_sa = nn.Conv1d(out_channels, 1, joint_kernel, padding=(joint_kernel - 1) // 2)
            self.fc1c = nn.Linear(out_channels, out_channels // 2)
            self.fc2c = nn.Linear(out_channels // 2, out_channels)
        self.down = (nn.Sequential(Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
                     if in_channels != out_channels else nn.Identity())
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self._init_weights()

    def _init_weights(self) -> None:
        """MMAction2's initialisation: the output norm starts near 0 (1e-6) so each unit first
        passes its residual; branch convolutions are scaled down by the number of subsets; the
        attention masks start at sigmoid(0) everywhere."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                constant_init(m, 1)
        constant_init(self.bn, 1e-6)
        for conv in self.conv_d:
            out_channels, in_channels = conv.weight.shape[:2]
            nn.init.normal_(conv.weight, 0, math.sqrt(2.0 / (out_channels * in_channels * self.num_subsets)))
            nn.init.zeros_(conv.bias)
        if self.attention:
            nn.init.zeros_(self.conv_ta.weight)
            nn.init.zeros_(self.conv_ta.bias)
            nn.init.xavier_normal_(self.conv_sa.weight)
            nn.init.zeros_(self.conv_sa.bias)
            nn.init.kaiming_normal_(self.fc1c.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(self.fc1c.bias)
            nn.init.zeros_(self.fc2c.weight)
            nn.init.zeros_(self.fc2c.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, t, _ = x.shape
        y = 0
        for k in range(self.num_subsets):
            if self.adaptive:
                a, b = self.conv_a[k](x), self.conv_b[k](x)
                similarity = torch.tanh(torch.einsum("nctv,nctw->nvw", a, b) / (self.embed_channels * t))
                aggregated = torch.einsum("nctv,nvw->nctw", x, self.A[k] + similarity * self.alpha)
            else:
                aggregated = torch.einsum("nctv,vw->nctw", x, self.A[k])
            y = y + self.conv_d[k](aggregated)
        y = self.relu(self.bn(y) + self.down(x))
        if self.attention:
            spatial = torch.sigmoid(self.conv_sa(y.mean(-2)))           # [N, 1, V]
            y = y + y * spatial.unsqueeze(-2)
            temporal = torch.sigmoid(self.conv_ta(y.mean(-1)))          # [N, 1, T]
            y = y + y * temporal.unsqueeze(-1)
            channel = torch.sigmoid(self.fc2c(self.relu(self.fc1c(y.mean((-2, -1))))))  # [N, C]
            y = y + y * channel[..., None, None]
        return y


class MultiScaleTemporalConv(nn.Module):
    """ST-GCN++'s multi-scale temporal module (MMAction2's ``mstcn`` with its default branches).

    Six parallel branches of about ``out_channels / 6`` channels each (the first takes the
    remainder): four 1x1-reduce + 3x1 temporal convolutions with dilations 1 to 4, a 1x1-reduce
    + 3x1 max pooling, and a strided 1x1 convolution; concatenated, then BatchNorm, ReLU, a 1x1
    convolution, BatchNorm and dropout.
    """

    dilations = (1, 2, 3, 4)

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        num_branches = len(self.dilations) + 2
        branch_channels = out_channels // num_branches
        first_channels = out_channels - branch_channels * (num_branches - 1)
        widths = [first_channels] + [branch_channels] * (num_branches - 1)
        branches: list[nn.Module] = []
        for width, dilation in zip(widths, self.dilations):
            branches.append(nn.Sequential(
                Conv2d(in_channels, width, 1), nn.BatchNorm2d(width), nn.ReLU(),
                TemporalConv(width, width, kernel_size=3, stride=stride, dilation=dilation, with_norm=False)))
        pool_width, plain_width = widths[len(self.dilations):]
        branches.append(nn.Sequential(
            Conv2d(in_channels, pool_width, 1), nn.BatchNorm2d(pool_width), nn.ReLU(),
            nn.MaxPool2d(kernel_size=(3, 1), stride=(stride, 1), padding=(1, 0))))
        branches.append(Conv2d(in_channels, plain_width, 1, stride=(stride, 1)))
        self.branches = nn.ModuleList(branches)
        self.transform = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(),
                                       Conv2d(out_channels, out_channels, 1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.drop(self.bn(self.transform(out)))
