from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .resnet import ResNet


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet": ResNet}
