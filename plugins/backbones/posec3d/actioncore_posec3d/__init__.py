"""PoseC3D for actioncore: the SlowOnly backbone on keypoint heatmap volumes
(``posec3d_slowonly``), a :class:`~actioncore_resnet3d.ResNet3d` with PoseC3D's defaults; its
head is actioncore-resnet3d's ``i3d`` with ``in_channels = 512``.
"""
from .slowonly import PoseC3DSlowOnly

__all__ = ["PoseC3DSlowOnly"]
