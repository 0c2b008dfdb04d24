from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .resnet_tin import ResNetTIN
from .resnet_tsm import ResNetTSM
from .tanet import TANet


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet_tsm": ResNetTSM, "resnet_tin": ResNetTIN, "tanet": TANet}
