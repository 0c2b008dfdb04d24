"""What ST-GCN and AAGCN share: the input norm, the stage plan and the block around a unit."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import attrs
import torch
from torch import nn

from .mmaction2 import drop_fixed_buffers, is_0x_layout, stgcn_0x_keys
from .graph import Graph
from .units import TemporalConv

DataNorm = Literal["VC", "MVC", "none"]


@attrs.frozen
class BlockPlan:
    """One block of the stack; ``stage`` counts from 1 as MMAction2's ``inflate_stages`` do."""

    in_channels: int
    out_channels: int
    stride: int
    residual: bool
    stage: int


def stage_plan(*, in_channels: int, base_channels: int, num_stages: int,
               inflate_stages: Sequence[int], down_stages: Sequence[int],
               ch_ratio: float = 2) -> list[BlockPlan]:
    """MMAction2's layout of the blocks: stage 1 maps the input to ``base_channels`` with no
    residual (and is left out when the input already has that many channels); stages 2 to
    ``num_stages`` multiply the channels by ``ch_ratio`` at ``inflate_stages`` and halve time at
    ``down_stages``."""
    plans = []
    if in_channels != base_channels:
        plans.append(BlockPlan(in_channels, base_channels, 1, False, 1))
    channels, inflations = base_channels, 0
    for stage in range(2, num_stages + 1):
        inflations += stage in inflate_stages
        # the small epsilon keeps int() from rounding 63.999... down for fractional ratios
        out_channels = int(base_channels * ch_ratio ** inflations + 1e-4)
        plans.append(BlockPlan(channels, out_channels, 2 if stage in down_stages else 1, True, stage))
        channels = out_channels
    return plans


def nine_frame_tcn(plan: BlockPlan, dropout: float) -> nn.Module:
    """ST-GCN's temporal unit: a 9x1 convolution striding over time."""
    return TemporalConv(plan.out_channels, plan.out_channels, kernel_size=9, stride=plan.stride,
                        dropout=dropout)


class GCNBlock(nn.Module):
    """A graph unit over joints, a temporal unit (a 9x1 convolution), a residual and a ReLU.

    The residual is the identity where shape is kept, a strided 1x1 :class:`TemporalConv`
    where it changes, or absent (the first block).
    """

    def __init__(self, gcn: nn.Module, tcn: nn.Module, plan: BlockPlan):
        super().__init__()
        self.gcn = gcn
        self.tcn = tcn
        self.relu = nn.ReLU()
        self.residual: nn.Module | None
        if not plan.residual:
            self.residual = None
        elif plan.in_channels == plan.out_channels and plan.stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(plan.in_channels, plan.out_channels, kernel_size=1,
                                         stride=plan.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out)


class SkeletonGCN(nn.Module):
    """Skeleton sequences ``[N, M, T, V, C]`` to features ``[N, M, C', T', V]``.

    Subclasses build the graph and call :meth:`_build` with a factory for each block's unit.
    """

    gcn: nn.ModuleList

    def _build(self, *, graph: Graph, in_channels: int, base_channels: int, num_stages: int,
               inflate_stages: Sequence[int], down_stages: Sequence[int], ch_ratio: float,
               data_bn_type: DataNorm, num_person: int, tcn_dropout: float,
               make_unit: Callable[[BlockPlan, torch.Tensor], nn.Module],
               make_tcn: Callable[[BlockPlan, float], nn.Module] | None = None) -> None:
        name = type(self).__name__
        if num_stages < 1:
            raise ValueError(f"{name} num_stages must be at least 1, got {num_stages}")
        if data_bn_type not in ("VC", "MVC", "none"):
            raise ValueError(f"{name} data_bn_type must be VC, MVC or none, got {data_bn_type!r}")
        plans = stage_plan(in_channels=in_channels, base_channels=base_channels, num_stages=num_stages,
                           inflate_stages=inflate_stages, down_stages=down_stages, ch_ratio=ch_ratio)
        if not plans:
            raise ValueError(f"{name} builds no block: num_stages = 1 with in_channels = base_channels")
        self.graph = graph
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn_type = data_bn_type
        adjacency = torch.tensor(graph.A, dtype=torch.float32)
        # The graph is fixed by the config: not saved in our checkpoints (MMAction2's are checked
        # against it and dropped on conversion).
        self.register_buffer("A", adjacency, persistent=False)
        num_node = graph.num_node
        if data_bn_type == "MVC":
            self.data_bn = nn.BatchNorm1d(num_person * in_channels * num_node)
        elif data_bn_type == "VC":
            self.data_bn = nn.BatchNorm1d(in_channels * num_node)
        else:
            self.data_bn = nn.Identity()
        make_tcn = make_tcn or nine_frame_tcn
        # the first block never gets dropout, as in MMAction2
        self.gcn = nn.ModuleList(
            GCNBlock(make_unit(plan, adjacency), make_tcn(plan, tcn_dropout if plan.stage > 1 else 0.0), plan)
            for plan in plans)
        self.out_channels = plans[-1].out_channels
        self.feat_dim = self.out_channels

    def from_mmaction2(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """An MMAction2 backbone state dict (keys without ``backbone.``; 1.x, or 0.x's ST-GCN) for
        this module: its graph buffers are checked against this config's graph and dropped."""
        if is_0x_layout(state):
            state = stgcn_0x_keys(state)
        return drop_fixed_buffers(self, state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num_node = self.graph.num_node
        if x.dim() != 5 or x.shape[3] != num_node or x.shape[4] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected skeletons [N, M, T, V={num_node}, "
                             f"C={self.in_channels}], got {list(x.shape)}")
        n, m, t, v, c = x.shape
        if self.data_bn_type == "MVC" and m != self.num_person:
            raise ValueError(f"{type(self).__name__}: data_bn_type MVC was built for num_person = "
                             f"{self.num_person}, got {m} persons")
        # normalise each (person,) joint and coordinate over time: [N, M, V, C, T]
        x = x.permute(0, 1, 3, 4, 2)
        if self.data_bn_type == "MVC":
            x = self.data_bn(x.reshape(n, m * v * c, t))
        else:
            x = self.data_bn(x.reshape(n * m, v * c, t))
        x = x.reshape(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.gcn:
            x = block(x)
        return x.reshape(n, m, *x.shape[1:])
