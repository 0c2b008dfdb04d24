from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .dataset import ActivityNetDataset
from .features import LoadLocalizationFeature, LocalizationFeatureDecoder
from .detection_map import DetectionMAP
from .metrics import METRICS
from .synth import synth_localization
from .task import LocalizationTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"localization": LocalizationTask}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"activitynet": ActivityNetDataset}


@actioncore.hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    return {"localization_features": LocalizationFeatureDecoder}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return {"load_localization_feature": LoadLocalizationFeature}


@actioncore.hookimpl
def actioncore_metrics() -> Mapping[str, Factory]:
    return {**METRICS, DetectionMAP.name: DetectionMAP}


@actioncore.hookimpl
def actioncore_synth() -> Mapping[str, Factory]:
    return {"localization": synth_localization}
