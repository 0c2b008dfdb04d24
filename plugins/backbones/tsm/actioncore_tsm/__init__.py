"""The TSM, TIN and TANet backbones as MMAction2 1.2.0 builds them, on actioncore-tsn's 2D ResNet;
their heads, ``tsm`` and (for TRN on ``resnet_tsm``) ``trn``, are actioncore-cls-heads'.

Module and parameter names are MMAction2's, so its checkpoints convert with
``actioncore convert mmaction2`` and no renaming beyond the recognizer's.
"""
from .mobilenet_v2 import InvertedResidual, MobileNetV2, MobileNetV2TSM, make_divisible
from .nonlocal_block import NL3DWrapper
from .resnet_tin import ResNetTIN, TemporalInterlace, linear_sampler
from .resnet_tsm import ResNetTSM, resnet_args
from .shift import TemporalPool, TemporalShift, temporal_shift
from .tanet import TAM, TANet
from .wrap import unwrap

__all__ = ["InvertedResidual", "MobileNetV2", "MobileNetV2TSM", "NL3DWrapper", "TAM", "ResNetTIN", "ResNetTSM", "TANet", "TemporalInterlace", "TemporalPool", "TemporalShift",
           "linear_sampler", "make_divisible", "resnet_args", "temporal_shift", "unwrap"]
