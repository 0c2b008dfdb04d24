from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .task import SemiRecognitionTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"semi_recognition": SemiRecognitionTask}
