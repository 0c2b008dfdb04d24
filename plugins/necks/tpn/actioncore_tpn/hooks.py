from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .head import TPNHead
from .tpn import TPN


@actioncore.hookimpl
def actioncore_necks() -> Mapping[str, Factory]:
    return {"tpn": TPN}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"tpn": TPNHead}


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's TPN checkpoints (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
