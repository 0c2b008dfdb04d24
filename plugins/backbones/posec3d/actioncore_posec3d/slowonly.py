"""PoseC3D's backbone: MMAction2's ResNet3dSlowOnly as its PoseC3D configs set it.

Duan et al., *Revisiting Skeleton-based Action Recognition* (CVPR 2022) stacks keypoint
heatmaps into a volume ``[N, K, T, H, W]`` (K = 17 COCO keypoints, or limbs) and classifies it
with a slim SlowOnly ResNet-50: 32 base channels, three stages (the first residual stage of the
RGB network is dropped, the input being small 56x56 heatmaps), no spatial striding in the stem,
temporal kernels in stages 2-3 only, time halved in the last stage.
"""
from __future__ import annotations

from typing import Literal

from actioncore.sdk.layers import NormCfg
from actioncore_resnet3d import Depth, Inflate, ResNet3d


class PoseC3DSlowOnly(ResNet3d):
    """Heatmap volumes ``[N, 17, T, H, W]`` to features ``[N, 512, T/2, H/8, W/8]``.

    A :class:`~actioncore_resnet3d.ResNet3d` (same parameters, same MMAction2 state-dict names)
    with the defaults of MMAction2's PoseC3D configs (``slowonly_r50_8xb16-u48-240e_*-keypoint``):
    ``in_channels 17``, ``base_channels 32``, ``num_stages 3``, ``stage_blocks (4, 6, 3)``,
    ``out_indices (2,)``, a 1x7x7 stem of stride 1, a 1x3x3 max pooling of stride 1,
    ``inflate (0, 1, 1)``, ``spatial_strides (2, 2, 2)``, ``temporal_strides (1, 1, 2)``,
    ``dilations (1, 1, 1)``, no pool2. See the actioncore-resnet3d README for every parameter.
    """

    def __init__(
        self, *, depth: Depth = 50, stage_blocks: tuple[int, ...] | None = (4, 6, 3),
        in_channels: int = 17, num_stages: int = 3, base_channels: int = 32,
        out_indices: tuple[int, ...] = (2,), spatial_strides: tuple[int, ...] = (2, 2, 2),
        temporal_strides: tuple[int, ...] = (1, 1, 2), dilations: tuple[int, ...] = (1, 1, 1),
        conv1_kernel: tuple[int, int, int] = (1, 7, 7), conv1_stride_s: int = 1,
        conv1_stride_t: int = 1, pool1_stride_s: int = 1, pool1_stride_t: int = 1,
        with_pool1: bool = True, with_pool2: bool = False,
        style: Literal["pytorch", "caffe"] = "pytorch", frozen_stages: int = -1,
        inflate: tuple[Inflate, ...] = (0, 1, 1),
        inflate_style: Literal["3x1x1", "3x3x3"] = "3x1x1", norm_cfg: NormCfg = NormCfg(),
        norm_eval: bool = False, with_cp: bool = False, zero_init_residual: bool = True,
        pretrained: str | None = None,
    ):
        super().__init__(
            depth=depth, stage_blocks=stage_blocks, in_channels=in_channels, num_stages=num_stages,
            base_channels=base_channels, out_indices=out_indices, spatial_strides=spatial_strides,
            temporal_strides=temporal_strides, dilations=dilations, conv1_kernel=conv1_kernel,
            conv1_stride_s=conv1_stride_s, conv1_stride_t=conv1_stride_t,
            pool1_stride_s=pool1_stride_s, pool1_stride_t=pool1_stride_t, with_pool1=with_pool1,
            with_pool2=with_pool2, style=style, frozen_stages=frozen_stages, inflate=inflate,
            inflate_style=inflate_style, norm_cfg=norm_cfg, norm_eval=norm_eval, with_cp=with_cp,
            zero_init_residual=zero_init_residual, pretrained=pretrained)
