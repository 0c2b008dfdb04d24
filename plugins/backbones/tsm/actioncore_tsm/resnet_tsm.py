"""ResNet-TSM: MMAction2's 2D ResNet with temporal shift in its residual blocks."""
from __future__ import annotations

from typing import Literal

from actioncore.sdk.layers import NonLocalCfg
from actioncore_tsn import Depth, ResNet

from .nonlocal_block import NL3DWrapper
from .shift import TemporalPool, TemporalShift


class ResNetTSM(ResNet):
    """MMAction2's ``ResNetTSM``: frames ``[N * T, C, H, W]`` of ``T = num_segments`` per clip.

    Every parameter of actioncore-tsn's ``resnet`` applies (depth, norm_eval, partial_bn,
    pretrained, ...), plus:

    :param num_segments: frames per clip the backbone is fed (the sampler's ``num_clips``).
    :param is_shift: insert temporal shift; false gives a plain ResNet (TSN).
    :param shift_div: a ``1 / shift_div`` fold of channels moves each way (8: 1/8 back, 1/8 forward).
    :param shift_place: ``blockres`` shifts inside the residual branch, before each block's
        first convolution (every second block of ResNet-101's deep stage, as MMAction2);
        ``block`` shifts each block's whole input.
    :param temporal_pool: max-pool time by 2 before stage 2 (the head then sees ``T / 2``).
    :param non_local: per stage, one flag per block: 1 appends a 3D non-local block after it
        (MMAction2's TSM-NL: ``[[0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0, 1, 0], [0, 0, 0]]``).
        Bottleneck depths only.
    :param non_local_cfg: the non-local blocks' options (see :class:`NonLocalCfg`); as in
        MMAction2, non-local blocks are built only when it is given.

    Module names are MMAction2's (``layer1.0.conv1.conv.net.weight`` for a shifted
    convolution), so its checkpoints load unchanged. ``pretrained`` (torchvision ImageNet
    weights) fills the ResNet's own tensors inside the shifts and other wrappers
    (:meth:`~actioncore_tsn.ResNet.resnet_keys`); the modules TSM adds keep their initialisation.
    """

    def __init__(
        self, *, depth: Depth = 50, num_segments: int = 8, is_shift: bool = True,
        shift_div: int = 8, shift_place: Literal["blockres", "block"] = "blockres",
        temporal_pool: bool = False, non_local: tuple[tuple[int, ...], ...] = (),
        non_local_cfg: NonLocalCfg | None = None, in_channels: int = 3, num_stages: int = 4,
        out_indices: tuple[int, ...] = (3,), strides: tuple[int, ...] = (1, 2, 2, 2),
        dilations: tuple[int, ...] = (1, 1, 1, 1), style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, norm_eval: bool = False, partial_bn: bool = False,
        with_cp: bool = False, pretrained: str | None = None,
    ):
        super().__init__(**resnet_args(locals()))
        if num_segments < 1:
            raise ValueError(f"resnet_tsm num_segments must be positive, got {num_segments}")
        if shift_div < 1:
            raise ValueError(f"resnet_tsm shift_div must be positive, got {shift_div}")
        if shift_place not in ("blockres", "block"):
            raise ValueError(f"resnet_tsm shift_place must be 'blockres' or 'block', got {shift_place!r}")
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.shift_div = shift_div
        self.shift_place = shift_place
        self.temporal_pool = temporal_pool
        if is_shift:
            self._make_temporal_shift()
        if non_local_cfg is not None:
            self._make_non_local(non_local, non_local_cfg)
        if temporal_pool:
            if num_segments < 2:
                raise ValueError("resnet_tsm temporal_pool needs num_segments >= 2")
            self.layer2 = TemporalPool(self.layer2, num_segments)
        self.freeze_stages()

    def segments_per_stage(self) -> list[int]:
        """Frames per clip each stage sees (half after stage 1 with ``temporal_pool``)."""
        if self.temporal_pool:
            return [self.num_segments] + [self.num_segments // 2] * 3
        return [self.num_segments] * 4

    def _make_non_local(self, flags: tuple[tuple[int, ...], ...], cfg: NonLocalCfg) -> None:
        if len(flags) != len(self.stage_names):
            raise ValueError(f"resnet_tsm non_local needs one list of flags per stage "
                             f"({len(self.stage_names)}), got {len(flags)}")
        for name, stage_flags in zip(self.stage_names, flags):
            stage = getattr(self, name)
            if len(stage_flags) != len(stage):
                raise ValueError(f"resnet_tsm non_local: {name} has {len(stage)} blocks, got "
                                 f"{len(stage_flags)} flags")
            for i, flag in enumerate(stage_flags):
                if flag:
                    if self.depth < 50:
                        raise ValueError("resnet_tsm non_local needs bottleneck blocks (depth >= 50)")
                    stage[i] = NL3DWrapper(stage[i], self.num_segments, cfg)

    def _make_temporal_shift(self) -> None:
        every = 2 if len(getattr(self, "layer3", ())) >= 23 else 1
        for name, segments in zip(self.stage_names, self.segments_per_stage()):
            stage = getattr(self, name)
            for i, block in enumerate(stage):
                if self.shift_place == "block":
                    stage[i] = TemporalShift(block, segments, self.shift_div)
                elif i % every == 0:
                    block.conv1.conv = TemporalShift(block.conv1.conv, segments, self.shift_div)


RESNET_ARGS = ("depth", "in_channels", "num_stages", "out_indices", "strides", "dilations", "style",
               "frozen_stages", "norm_eval", "partial_bn", "with_cp", "pretrained")


def resnet_args(values: dict) -> dict:
    """The arguments of actioncore-tsn's ``ResNet`` among a constructor's ``locals()``."""
    return {k: values[k] for k in RESNET_ARGS}


