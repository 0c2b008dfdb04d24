from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .mobilenet_v2 import MobileNetV2, MobileNetV2TSM
from .resnet_tin import ResNetTIN
from .resnet_tsm import ResNetTSM
from .tanet import TANet


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet_tsm": ResNetTSM, "resnet_tin": ResNetTIN, "tanet": TANet, "mobilenet_v2": MobileNetV2,
            "mobilenet_v2_tsm": MobileNetV2TSM}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's checkpoints of this plugin's models (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
