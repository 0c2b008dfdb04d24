from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .slowonly import PoseC3DSlowOnly


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"posec3d_slowonly": PoseC3DSlowOnly}
