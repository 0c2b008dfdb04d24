from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .bmn import BMN


@actioncore.hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    return {"bmn": BMN}
