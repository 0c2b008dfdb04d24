from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .resnet_cmr import ResNetCMR


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet_cmr": ResNetCMR}
