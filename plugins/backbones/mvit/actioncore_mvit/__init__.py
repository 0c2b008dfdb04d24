"""MViT v2 (Li et al., "MViTv2: Improved Multiscale Vision Transformers for Classification and
Detection", CVPR 2022) as MMAction2 1.2.0 builds it: the backbone ``mvit`` and its head ``mvit``.

Parameter names match MMAction2's, so its checkpoints convert with ``actioncore convert
mmaction2`` (only ``cls_head.`` becomes ``head.``).
"""
from .head import MViTHead
from .mvit import MViT

__all__ = ["MViT", "MViTHead"]
