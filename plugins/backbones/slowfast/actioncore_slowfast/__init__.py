"""SlowFast (Feichtenhofer et al., ICCV 2019) for actioncore, as MMAction2 1.2.0 builds it; its head,
``slowfast``, is actioncore-cls-heads' :class:`~actioncore_cls_heads.SlowFastHead`."""
from .slowfast import FastPathway, ResNet3dSlowFast, SlowPathway

__all__ = ["FastPathway", "ResNet3dSlowFast", "SlowPathway"]
