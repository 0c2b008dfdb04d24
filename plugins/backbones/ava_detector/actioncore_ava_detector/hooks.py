from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

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
