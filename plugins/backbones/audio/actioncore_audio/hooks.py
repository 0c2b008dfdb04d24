from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory
from actioncore.sdk.weights import WeightsEntry, weights_from_package

from .features import TRANSFORMS, AudioFeatureDecoder, AudioFeatureList
from .resnet_audio import ResNetAudio


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"resnet_audio": ResNetAudio}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"audio_feature_list": AudioFeatureList}


@actioncore.hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    return {"audio_feature": AudioFeatureDecoder}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return dict(TRANSFORMS)


@actioncore.hookimpl
def actioncore_weights() -> Mapping[str, WeightsEntry]:
    """MMAction2's checkpoints of this plugin's models (weights.toml, from dev/zoo_from_mmaction2.py)."""
    return weights_from_package(__package__)
