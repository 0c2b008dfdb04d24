"""Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022) as MMAction2 1.2.0
builds it: the backbone ``swin``; its head is actioncore-cls-heads' ``i3d`` (MMAction2's
``I3DHead``).

Parameter names match MMAction2's, so its checkpoints convert with ``actioncore convert
mmaction2`` (only ``cls_head.`` becomes ``head.``).
"""
from .swin import SwinTransformer3D

__all__ = ["SwinTransformer3D"]
