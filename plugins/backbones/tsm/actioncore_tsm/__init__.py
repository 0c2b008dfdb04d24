"""The TSM, TIN and TANet backbones as MMAction2 1.2.0 builds them, on actioncore-tsn's 2D ResNet;
their heads, ``tsm`` and (for TRN on ``resnet_tsm``) ``trn``, are actioncore-cls-heads'.

Module and parameter names are MMAction2's, so its checkpoints convert with
``actioncore convert mmaction2`` and no renaming beyond the recognizer's.
"""
from .resnet_tin import ResNetTIN, TemporalInterlace, linear_sampler
from .resnet_tsm import ResNetTSM
from .shift import TemporalShift, temporal_shift
from .tanet import TAM, TANet

__all__ = ["TAM", "ResNetTIN", "ResNetTSM", "TANet", "TemporalInterlace", "TemporalShift",
           "linear_sampler", "temporal_shift"]
