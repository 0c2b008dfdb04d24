from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .aagcn import AAGCN
from .stgcn import STGCN


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"stgcn": STGCN, "aagcn": AAGCN}
