from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .dataset import HVUDataset
from .task import HVUMeanAveragePrecision, HVUTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"hvu_recognition": HVUTask}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"hvu": HVUDataset}


@actioncore.hookimpl
def actioncore_metrics() -> Mapping[str, Factory]:
    return {"hvu_mean_average_precision": HVUMeanAveragePrecision}
