from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .head import TimeSformerHead
from .timesformer import TimeSformer


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"timesformer": TimeSformer}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"timesformer": TimeSformerHead}
