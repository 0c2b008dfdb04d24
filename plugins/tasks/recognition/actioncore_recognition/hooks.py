from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .metrics import METRICS
from .recognizer import Recognizer2D, Recognizer3D
from .task import RecognitionTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"recognition": RecognitionTask}


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"recognizer2d": Recognizer2D, "recognizer3d": Recognizer3D}


@actioncore.hookimpl
def actioncore_metrics() -> Mapping[str, Factory]:
    return dict(METRICS)
