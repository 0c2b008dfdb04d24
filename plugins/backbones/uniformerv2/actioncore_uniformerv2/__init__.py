"""UniFormerV2 (Li et al., ICCV 2023) for actioncore: MMAction2 1.2.0's CLIP-ViT-based backbone
(``uniformerv2``; its head is actioncore-cls-heads' ``timesformer``, the same dropout + linear
classifier as MMAction2's ``UniFormerHead``) with checkpoint conversion."""
from .uniformerv2 import UniFormerV2

__all__ = ["UniFormerV2"]
