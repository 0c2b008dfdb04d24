"""TSN (Wang et al., ECCV 2016) as MMAction2 1.2.0 builds it: a 2D ResNet; its head, ``tsn``, is
actioncore-cls-heads' :class:`~actioncore_cls_heads.TSNHead`.

Parameter names match MMAction2's, so its checkpoints convert with :func:`convert_mmaction2`
and its ResNet configs carry over key for key. ``torchvision_2d`` is any torchvision image
classifier as the backbone (MMAction2's ``torchvision.<arch>`` backbones).
"""
from .mmaction2 import convert_mmaction2
from .resnet import Bottleneck, Depth, ResNet
from .torchvision_2d import Torchvision2D, classification_models

__all__ = ["Bottleneck", "Depth", "ResNet", "Torchvision2D", "classification_models", "convert_mmaction2"]
