from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .acrn import ACRNHead
from .bbox_head import BBoxHeadAVA
from .detector import AVADetector
from .lfb import FBOHead


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"ava_detector": AVADetector}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"ava_bbox": BBoxHeadAVA, "acrn": ACRNHead, "fbo": FBOHead}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's checkpoints of this plugin's models (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
