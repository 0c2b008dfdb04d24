from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .x3d import X3D


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"x3d": X3D}
