from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .aagcn import AAGCN
from .gcn_head import GCNHead
from .stgcn import STGCN


@actioncore.hookimpl
def actioncore_backbones() -> Mapping[str, Factory]:
    return {"stgcn": STGCN, "aagcn": AAGCN}


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"gcn": GCNHead}
