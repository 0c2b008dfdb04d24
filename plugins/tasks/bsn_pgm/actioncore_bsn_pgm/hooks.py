from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .task import ProposalGenerationTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"bsn_pgm": ProposalGenerationTask}
