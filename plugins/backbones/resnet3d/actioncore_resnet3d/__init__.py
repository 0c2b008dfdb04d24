"""3D ResNets as MMAction2 1.2.0 builds them: I3D/SlowOnly (``resnet3d``), R(2+1)D
(``resnet2plus1d``), ir-/ip-CSN (``resnet3d_csn``) and C3D (``c3d``); their head, ``i3d``, is
actioncore-cls-heads' :class:`~actioncore_cls_heads.I3DHead`.

Parameter names match MMAction2's, so its checkpoints load with the kernel's generic conversion
(``actioncore convert mmaction2``); torchvision's video ResNets (r3d_18, mc3_18, r2plus1d_18)
load through :func:`from_torchvision`.
"""
from .c3d import C3D
from .torchvision_weights import from_torchvision
from .resnet2plus1d import Conv2plus1d, ResNet2Plus1d
from .resnet3d import Depth, Inflate, ResNet3d
from .resnet3d_csn import ResNet3dCSN
from .weights import inflate_2d_weights

__all__ = ["C3D", "Conv2plus1d", "Depth", "Inflate", "ResNet2Plus1d", "ResNet3d", "ResNet3dCSN", "from_torchvision",
           "inflate_2d_weights"]
