from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .slowfast import ResNet3dSlowFast


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet3d_slowfast": ResNet3dSlowFast}
