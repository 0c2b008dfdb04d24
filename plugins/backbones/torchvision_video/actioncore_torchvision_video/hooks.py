from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry

from .backbone import ARCHITECTURES, factory
from .zoo import entries


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {f"tv_{arch}": factory(arch) for arch in ARCHITECTURES}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """torchvision's video weights, from its weights enums (no network)."""
    return entries(__package__)
