"""TSN (Wang et al., ECCV 2016) as MMAction2 1.2.0 builds it: a 2D ResNet; its head, ``tsn``, is
actioncore-cls-heads' :class:`~actioncore_cls_heads.TSNHead`.

Parameter names match MMAction2's, so its checkpoints convert with :func:`convert_mmaction2`
and its ResNet configs carry over key for key.
"""
from .mmaction2 import convert_mmaction2
from .resnet import Bottleneck, Depth, ResNet

__all__ = ["Bottleneck", "Depth", "ResNet", "convert_mmaction2"]
