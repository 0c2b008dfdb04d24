"""Model layers that plugins share, named as mmcv names them so state-dict keys match MMAction2.

``Conv2d`` / ``Conv3d`` are ``torch.nn`` convolutions that run faster on CPU where PyTorch falls
back to its slow kernels; build every convolution of a model with them. ``FrozenStagesMixin`` /
``NormEvalMixin`` give a backbone MMAction2's ``frozen_stages`` / ``norm_eval`` training modes.
``DropPath`` is stochastic depth (timm / mmcv semantics) with the linear per-block rule
``linear_drop_path_rates``.
"""
from ..ops.conv import Conv2d, Conv3d
from ..ops.drop_path import DropPath, drop_path, linear_drop_path_rates
from ..ops.layers import (ConvFactory, ConvModule, FrozenStagesMixin, NormCfg, NormEvalMixin, constant_init,
                          conv3d, kaiming_init)
from ..ops.nonlocal_block import NonLocal3d, NonLocalCfg, NonLocalMode

__all__ = ["Conv2d", "Conv3d", "ConvFactory", "ConvModule", "DropPath", "FrozenStagesMixin", "NonLocal3d", "NonLocalCfg",
           "NonLocalMode", "NormCfg", "NormEvalMixin", "constant_init", "conv3d", "drop_path", "kaiming_init",
           "linear_drop_path_rates"]
