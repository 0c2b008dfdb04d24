from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .resnet import ResNet
from .tsn_head import TSNHead


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet": ResNet}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"tsn": TSNHead}
