"""ST-GCN (Yan et al., AAAI 2018) as MMAction2 1.2.0's ``STGCN`` builds it."""
from __future__ import annotations

from typing import Literal

from .backbone import BlockPlan, DataNorm, SkeletonGCN
from .graph import GraphCfg
from .units import GraphAdaptive, GraphConv, MultiScaleTemporalConv


class STGCN(SkeletonGCN):
    """Spatial-temporal graph convolutions: skeletons ``[N, M, T, V, C]`` to ``[N, M, C', T', V]``.

    Ten blocks by default: 3 -> 64 channels (no residual), three more at 64, 128 from stage 5
    (time halved), 256 from stage 8 (time halved again); each block a graph convolution over the
    skeleton's spatial partition with learnable edge importance, then a 9x1 temporal
    convolution. ST-GCN++ is ``graph_cfg.mode = "spatial"``, ``gcn_adaptive = "init"``,
    ``gcn_with_res = true``, ``tcn_type = "mstcn"``.

    :param graph_cfg: the skeleton graph (layout, partition mode, max_hop).
    :param in_channels: coordinates per joint (2D + score: 3; 3D: 3).
    :param base_channels: channels after the first block.
    :param data_bn_type: BatchNorm over the input per joint and coordinate (``VC``), also per
        person (``MVC``, fixes the number of persons to ``num_person``), or ``none``.
    :param ch_ratio: channel multiplier at each of ``inflate_stages``.
    :param num_person: persons per sample (used by ``MVC`` only).
    :param num_stages: blocks, counting the first one.
    :param inflate_stages: stages (from 1) where the channels grow by ``ch_ratio``.
    :param down_stages: stages where the temporal convolution has stride 2.
    :param gcn_adaptive: ``importance`` (learnable edge importance), ``offset``, ``init`` or ``none``.
    :param gcn_conv_pos: ``pre`` or ``post``: convolution before or after aggregating joints.
    :param gcn_with_res: a residual inside each graph convolution.
    :param tcn_type: ``unit_tcn`` (a 9x1 convolution) or ``mstcn`` (ST-GCN++'s multi-scale
        temporal module).
    :param tcn_dropout: dropout after each temporal unit but the first block's.
    """

    def __init__(self, *, graph_cfg: GraphCfg = GraphCfg(layout="coco", mode="stgcn_spatial"),
                 in_channels: int = 3, base_channels: int = 64, data_bn_type: DataNorm = "VC",
                 ch_ratio: float = 2, num_person: int = 2, num_stages: int = 10,
                 inflate_stages: tuple[int, ...] = (5, 8), down_stages: tuple[int, ...] = (5, 8),
                 gcn_adaptive: GraphAdaptive = "importance",
                 gcn_conv_pos: Literal["pre", "post"] = "pre", gcn_with_res: bool = False,
                 tcn_type: Literal["unit_tcn", "mstcn"] = "unit_tcn", tcn_dropout: float = 0.0):
        super().__init__()

        def make_unit(plan: BlockPlan, adjacency):
            return GraphConv(plan.in_channels, plan.out_channels, adjacency, adaptive=gcn_adaptive,
                             conv_pos=gcn_conv_pos, with_res=gcn_with_res)

        def make_mstcn(plan: BlockPlan, dropout: float):
            return MultiScaleTemporalConv(plan.out_channels, plan.out_channels, stride=plan.stride,
                                          dropout=dropout)

        if tcn_type not in ("unit_tcn", "mstcn"):
            raise ValueError(f"STGCN tcn_type must be unit_tcn or mstcn, got {tcn_type!r}")
        self._build(graph=graph_cfg.build(), in_channels=in_channels, base_channels=base_channels,
                    num_stages=num_stages, inflate_stages=inflate_stages, down_stages=down_stages,
                    ch_ratio=ch_ratio, data_bn_type=data_bn_type, num_person=num_person,
                    tcn_dropout=tcn_dropout, make_unit=make_unit,
                    make_tcn=make_mstcn if tcn_type == "mstcn" else None)
