"""Skeleton GCNs as MMAction2 1.2.0 builds them: ST-GCN (``stgcn``), 2s-AGCN/AAGCN (``aagcn``)
and the skeleton :class:`Graph` (layouts coco, nturgb+d, openpose from actioncore-pose, or
custom); their head, ``gcn``, is actioncore-cls-heads' :class:`~actioncore_cls_heads.GCNHead`.

Parameter names match MMAction2's; its checkpoints convert through the backbones'
``from_mmaction2``, which checks and drops the saved graph matrices.
"""
from .aagcn import AAGCN
from .graph import Graph, GraphCfg, GraphLayout
from .stgcn import STGCN
from .units import AdaptiveGraphConv, GraphConv, MultiScaleTemporalConv, TemporalConv

__all__ = ["AAGCN", "STGCN", "AdaptiveGraphConv", "Graph", "GraphCfg", "GraphConv", "GraphLayout",
           "MultiScaleTemporalConv", "TemporalConv"]
