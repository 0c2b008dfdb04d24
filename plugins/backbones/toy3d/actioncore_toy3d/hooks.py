from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .net import LinearHead, Toy3D


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"toy3d": Toy3D}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"linear_head": LinearHead}
