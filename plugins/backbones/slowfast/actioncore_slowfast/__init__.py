"""SlowFast (Feichtenhofer et al., ICCV 2019) for actioncore, as MMAction2 1.2.0 builds it."""
from .head import SlowFastHead
from .slowfast import FastPathway, ResNet3dSlowFast, SlowPathway

__all__ = ["FastPathway", "ResNet3dSlowFast", "SlowFastHead", "SlowPathway"]
