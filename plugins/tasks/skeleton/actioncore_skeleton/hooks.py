from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .recognizer import RecognizerGCN
from .task import SkeletonTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"skeleton": SkeletonTask}


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"recognizer_gcn": RecognizerGCN}
