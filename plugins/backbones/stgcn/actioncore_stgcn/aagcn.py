"""2s-AGCN (Shi et al., CVPR 2019) and AAGCN (Shi et al., TIP 2020) as MMAction2 1.2.0's ``AAGCN``."""
from __future__ import annotations

from .backbone import BlockPlan, DataNorm, SkeletonGCN
from .graph import GraphCfg
from .units import AdaptiveGraphConv


class AAGCN(SkeletonGCN):
    """Adaptive graph convolutions: skeletons ``[N, M, T, V, C]`` to ``[N, M, C', T', V]``.

    The block plan is ST-GCN's (64, 128 from stage 5, 256 from stage 8, time halved at 5 and 8);
    each block's graph is the skeleton's (learnable) plus a per-sample joint similarity, followed
    by spatial, temporal and channel attention. ``gcn_attention = false`` is 2s-AGCN, whose two
    streams are two trainings of this backbone, on joints and on bones, whose scores are summed.

    :param graph_cfg: the skeleton graph; 2s-AGCN uses the ``spatial`` mode (self, inward, outward).
    :param in_channels: coordinates per joint.
    :param base_channels: channels after the first block.
    :param data_bn_type: ``MVC`` (per person, joint and coordinate), ``VC`` or ``none``.
    :param num_person: persons per sample (``MVC`` fixes it).
    :param num_stages: blocks, counting the first one.
    :param inflate_stages: stages (from 1) where the channels double.
    :param down_stages: stages where the temporal convolution has stride 2.
    :param gcn_adaptive: learn the graph and add the data-dependent similarity (2s-AGCN); false
        keeps the fixed graph.
    :param gcn_attention: AAGCN's spatial, temporal and channel attention.
    :param gcn_coff_embedding: the similarity's embedding has ``out_channels // this`` channels.
    :param tcn_dropout: dropout after each temporal convolution but the first block's.
    """

    def __init__(self, *, graph_cfg: GraphCfg = GraphCfg(layout="coco", mode="spatial"),
                 in_channels: int = 3, base_channels: int = 64, data_bn_type: DataNorm = "MVC",
                 num_person: int = 2, num_stages: int = 10, inflate_stages: tuple[int, ...] = (5, 8),
                 down_stages: tuple[int, ...] = (5, 8), gcn_adaptive: bool = True,
                 gcn_attention: bool = True, gcn_coff_embedding: int = 4, tcn_dropout: float = 0.0):
        super().__init__()

        def make_unit(plan: BlockPlan, adjacency):
            return AdaptiveGraphConv(plan.in_channels, plan.out_channels, adjacency,
                                     coff_embedding=gcn_coff_embedding, adaptive=gcn_adaptive,
                                     attention=gcn_attention)

        self._build(graph=graph_cfg.build(), in_channels=in_channels, base_channels=base_channels,
                    num_stages=num_stages, inflate_stages=inflate_stages, down_stages=down_stages,
                    ch_ratio=2, data_bn_type=data_bn_type, num_person=num_person,
                    tcn_dropout=tcn_dropout, make_unit=make_unit)
