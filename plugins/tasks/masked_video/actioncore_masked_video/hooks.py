from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .task import MaskedVideoPretrainingTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"masked_video_pretraining": MaskedVideoPretrainingTask}
