from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .c3d import C3D
from .resnet2plus1d import ResNet2Plus1d
from .resnet3d import ResNet3d
from .resnet3d_csn import ResNet3dCSN


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet3d": ResNet3d, "resnet2plus1d": ResNet2Plus1d, "resnet3d_csn": ResNet3dCSN,
            "c3d": C3D}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's checkpoints of this plugin's models (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
