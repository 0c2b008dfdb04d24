"""CMR (Wu et al., AAAI 2021): a TSM ResNet whose residual blocks carry motion enhancement.

``resnet_cmr`` is actioncore-tsm's ``resnet_tsm`` with a channel-wise (:class:`CME`) and a
spatial-wise (:class:`SME`) motion-enhancement module after each residual block's first
convolution; it is used with actioncore-tsm's ``tsm`` head.
"""
from .motion import CME, SME, adjacent_difference
from .resnet_cmr import ResNetCMR

__all__ = ["CME", "ResNetCMR", "SME", "adjacent_difference"]
