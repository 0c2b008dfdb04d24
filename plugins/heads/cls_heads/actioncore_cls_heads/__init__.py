"""Classification heads that several backbones share, as MMAction2 1.2.0 builds them.

Each is a :class:`ClsHead` (checked sizes, global pooling, dropout, a normally initialised
linear classifier) that adds only what differs: TSN's segment consensus, I3D's 3D pooling,
SlowFast's two pathways, X3D's hidden layer, TSM's fixed-segment consensus, TRN's temporal
relations, TimeSformer's cls-token classifier and the skeleton GCNs' person/joint averaging.
Module and parameter names are MMAction2's, so its checkpoints load after the recognizer's
``cls_head.`` -> ``head.`` renaming.
"""
from .base import ClsHead
from .gcn import GCNHead
from .i3d import I3DHead
from .slowfast import SlowFastHead
from .timesformer import TimeSformerHead
from .trn import RelationModule, RelationModuleMultiScale, TRNHead
from .tsm import TSMHead
from .tsn import TSNHead
from .x3d import X3DHead

__all__ = ["ClsHead", "GCNHead", "I3DHead", "RelationModule", "RelationModuleMultiScale",
           "SlowFastHead", "TRNHead", "TSMHead", "TSNHead", "TimeSformerHead", "X3DHead"]
