"""X3D (Feichtenhofer, CVPR 2020) for actioncore, as MMAction2 1.2.0 builds it; its head, ``x3d``,
is actioncore-cls-heads' :class:`~actioncore_cls_heads.X3DHead`."""
from .x3d import X3D

__all__ = ["X3D"]
