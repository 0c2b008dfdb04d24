"""Model layers that plugins share, named as mmcv names them so state-dict keys match MMAction2.

``Conv2d`` / ``Conv3d`` are ``torch.nn`` convolutions that run faster on CPU where PyTorch falls
back to its slow kernels; build every convolution of a model with them.
"""
from ..ops.conv import Conv2d, Conv3d
from ..ops.layers import ConvFactory, ConvModule, NormCfg, constant_init, conv3d, kaiming_init
from ..ops.nonlocal_block import NonLocal3d, NonLocalCfg, NonLocalMode

__all__ = ["Conv2d", "Conv3d", "ConvFactory", "ConvModule", "NonLocal3d", "NonLocalCfg", "NonLocalMode",
           "NormCfg", "constant_init", "conv3d", "kaiming_init"]
