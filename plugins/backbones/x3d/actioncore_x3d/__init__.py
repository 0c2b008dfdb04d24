"""X3D (Feichtenhofer, CVPR 2020) for actioncore, as MMAction2 1.2.0 builds it."""
from .head import X3DHead
from .x3d import X3D

__all__ = ["X3D", "X3DHead"]
