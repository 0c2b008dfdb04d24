"""ResNet-CMR: actioncore-tsm's ResNet-TSM with CME and SME in its residual blocks."""
from __future__ import annotations

from typing import Literal

from torch import nn

from actioncore.sdk.layers import NonLocalCfg
from actioncore_tsm import ResNetTSM, resnet_args, unwrap
from actioncore_tsn import Depth

from .motion import CME, SME


class ResNetCMR(ResNetTSM):
    """CMR (Wu et al., AAAI 2021): frames ``[N * T, C, H, W]`` of ``T = num_segments`` per clip.

    Every parameter of actioncore-tsm's ``resnet_tsm`` applies (and through it those of
    actioncore-tsn's ``resnet``), plus:

    :param cme: add a channel-wise motion enhancement (:class:`~actioncore_cmr.CME`) to every
        residual block.
    :param sme: add a spatial-wise motion enhancement (:class:`~actioncore_cmr.SME`) to every
        residual block.
    :param reduction: channel reduction of both modules' embeddings (``C / reduction``, at least 1).
    :param zero_init: start both modules at the identity (their last layer zero).

    The modules sit after each block's first convolution (its BatchNorm and ReLU), CME then SME,
    appended to that ``conv``/``bn``/``relu`` sequence: ``layer1.0.conv1.cme.squeeze.weight``,
    ``layer1.0.conv1.sme.embed.weight``. Every other name is ``resnet_tsm``'s, so a TSM
    checkpoint loads with only the new modules missing. With ``cme`` and ``sme`` false this is
    ``resnet_tsm``.
    """

    def __init__(
        self, *, depth: Depth = 50, num_segments: int = 8, is_shift: bool = True,
        shift_div: int = 8, shift_place: Literal["blockres", "block"] = "blockres",
        temporal_pool: bool = False, cme: bool = True, sme: bool = True, reduction: int = 16,
        zero_init: bool = True, non_local: tuple[tuple[int, ...], ...] = (),
        non_local_cfg: NonLocalCfg | None = None, in_channels: int = 3, num_stages: int = 4,
        out_indices: tuple[int, ...] = (3,), strides: tuple[int, ...] = (1, 2, 2, 2),
        dilations: tuple[int, ...] = (1, 1, 1, 1), style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, norm_eval: bool = False, partial_bn: bool = False,
        with_cp: bool = False, pretrained: str | None = None,
    ):
        if reduction < 1:
            raise ValueError(f"resnet_cmr reduction must be positive, got {reduction}")
        super().__init__(
            num_segments=num_segments, is_shift=is_shift, shift_div=shift_div,
            shift_place=shift_place, temporal_pool=temporal_pool, non_local=non_local,
            non_local_cfg=non_local_cfg, **resnet_args(locals()))
        self.cme = cme
        self.sme = sme
        self.reduction = reduction
        if cme or sme:
            self._make_motion_enhancement(zero_init)
            self.freeze_stages()  # the new modules of frozen stages are frozen too

    def _make_motion_enhancement(self, zero_init: bool) -> None:
        for name, segments in zip(self.stage_names, self.segments_per_stage()):
            for block in unwrap(getattr(self, name)):
                first: nn.Sequential = unwrap(block).conv1
                channels = first.bn.num_features
                if self.cme:
                    first.add_module("cme", CME(channels, segments, self.reduction, zero_init))
                if self.sme:
                    first.add_module("sme", SME(channels, segments, self.reduction, zero_init))
