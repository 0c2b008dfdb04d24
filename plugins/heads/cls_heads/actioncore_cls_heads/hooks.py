from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .gcn import GCNHead
from .i3d import I3DHead
from .slowfast import SlowFastHead
from .timesformer import TimeSformerHead
from .trn import TRNHead
from .tsm import TSMHead
from .tsn import TSNHead
from .x3d import X3DHead


@actioncore.hookimpl
def actioncore_heads() -> Mapping[str, Factory]:
    return {"tsn": TSNHead, "i3d": I3DHead, "slowfast": SlowFastHead, "x3d": X3DHead,
            "tsm": TSMHead, "trn": TRNHead, "timesformer": TimeSformerHead, "gcn": GCNHead}
