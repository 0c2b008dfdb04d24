from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .timesformer import TimeSformer


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"timesformer": TimeSformer}
