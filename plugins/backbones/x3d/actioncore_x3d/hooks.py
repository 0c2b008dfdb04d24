from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .head import X3DHead
from .x3d import X3D


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"x3d": X3D}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"x3d": X3DHead}
