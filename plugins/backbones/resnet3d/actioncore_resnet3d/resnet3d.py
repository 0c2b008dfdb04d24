"""MMAction2's ResNet3d (I3D, SlowOnly, and the base of R(2+1)D and CSN).

Parameter and module names follow MMAction2 1.2.0 (``conv1.conv.weight``,
``layer2.0.downsample.bn.running_var``), so its checkpoints load key for key.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import torch
from torch import nn
from torch.utils import checkpoint

from actioncore.sdk.layers import (
    ConvFactory, ConvModule, FrozenStagesMixin, NonLocal3d, NonLocalCfg, NormCfg, constant_init, conv3d,
    kaiming_init,
)

from actioncore.sdk.weights import PretrainedMixin

from .weights import inflate_2d_weights, own_weights

Depth = Literal[18, 34, 50, 101, 152]
Inflate = int | tuple[int, ...]


def _triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    return (value,) * 3 if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


class _Block(nn.Module):
    expansion: ClassVar[int] = 1
    downsample: nn.Module | None
    with_cp: bool

    def body(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.body(x) + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = checkpoint.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        out = self.relu(out)
        return out if self.non_local_block is None else self.non_local_block(out)

    def _add_non_local(self, cfg: NonLocalCfg | None) -> None:
        """A non-local block after the block's output (MMAction2's ``non_local_block``), or none."""
        self.non_local_block = None if cfg is None else NonLocal3d(self.last_norm().num_features, cfg)


class BasicBlock3d(_Block):
    """Two 3x3x3 convolutions (1x3x3 when not inflated); the first one strides."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, *, spatial_stride: int = 1,
                 temporal_stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None,
                 style: str = "pytorch", inflate: bool = True, inflate_style: str = "3x1x1",
                 norm_cfg: NormCfg = NormCfg(), conv_layer: ConvFactory = conv3d,
                 with_cp: bool = False, non_local: NonLocalCfg | None = None):
        super().__init__()
        t = 3 if inflate else 1
        self.conv1 = ConvModule(inplanes, planes, (t, 3, 3),
                                stride=(temporal_stride, spatial_stride, spatial_stride),
                                padding=(t // 2, dilation, dilation), dilation=(1, dilation, dilation),
                                norm_cfg=norm_cfg, conv_layer=conv_layer)
        self.conv2 = ConvModule(planes, planes * self.expansion, (t, 3, 3), padding=(t // 2, 1, 1),
                                norm_cfg=norm_cfg, act=False, conv_layer=conv_layer)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp
        self._add_non_local(non_local)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))

    def last_norm(self) -> nn.Module:
        return self.conv2.bn


class Bottleneck3d(_Block):
    """1x1x1 reduce, 3x3 (inflated per ``inflate_style``), 1x1x1 expand by 4."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, *, spatial_stride: int = 1,
                 temporal_stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None,
                 style: str = "pytorch", inflate: bool = True, inflate_style: str = "3x1x1",
                 norm_cfg: NormCfg = NormCfg(), conv_layer: ConvFactory = conv3d,
                 with_cp: bool = False, non_local: NonLocalCfg | None = None):
        super().__init__()
        if style == "pytorch":
            stride1, stride2 = (1, 1, 1), (temporal_stride, spatial_stride, spatial_stride)
        else:
            stride1, stride2 = (temporal_stride, spatial_stride, spatial_stride), (1, 1, 1)
        t1, t2 = 1, 1
        if inflate:
            t1, t2 = (3, 1) if inflate_style == "3x1x1" else (1, 3)
        self.conv1 = ConvModule(inplanes, planes, (t1, 1, 1), stride=stride1,
                                padding=(t1 // 2, 0, 0), norm_cfg=norm_cfg, conv_layer=conv_layer)
        self.conv2 = self._make_conv2(planes, (t2, 3, 3), stride2, (t2 // 2, dilation, dilation),
                                      (1, dilation, dilation), norm_cfg, conv_layer)
        self.conv3 = ConvModule(planes, planes * self.expansion, 1, norm_cfg=norm_cfg, act=False,
                                conv_layer=conv_layer)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp
        self._add_non_local(non_local)

    def _make_conv2(self, planes: int, kernel, stride, padding, dilation, norm_cfg: NormCfg,
                    conv_layer: ConvFactory) -> nn.Module:
        return ConvModule(planes, planes, kernel, stride=stride, padding=padding,
                          dilation=dilation, norm_cfg=norm_cfg, conv_layer=conv_layer)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))

    def last_norm(self) -> nn.Module:
        return self.conv3.bn


def make_res_layer(block: type[_Block], inplanes: int, planes: int, inflate: Sequence[int], *,
                   spatial_stride: int = 1, temporal_stride: int = 1, dilation: int = 1,
                   style: Literal["pytorch", "caffe"] = "pytorch", inflate_style: str = "3x1x1",
                   norm_cfg: NormCfg = NormCfg(), conv_layer: ConvFactory = conv3d,
                   with_cp: bool = False, non_local: Sequence[int] = (),
                   non_local_cfg: NonLocalCfg = NonLocalCfg(), **block_kwargs) -> nn.Sequential:
    """One stage of ``len(inflate)`` blocks (``inflate[j]``: block j has a temporal kernel); the
    first block strides, and projects the shortcut when the shape changes. ``non_local[j] == 1``
    appends a non-local block (``non_local_cfg``) to block j."""
    out_channels = planes * block.expansion
    downsample = None
    if spatial_stride != 1 or inplanes != out_channels:
        downsample = ConvModule(inplanes, out_channels, 1,
                                stride=(temporal_stride, spatial_stride, spatial_stride),
                                norm_cfg=norm_cfg, act=False, conv_layer=conv_layer)
    blocks = []
    for j, inflated in enumerate(inflate):
        first = j == 0
        blocks.append(block(
            inplanes if first else out_channels, planes,
            spatial_stride=spatial_stride if first else 1,
            temporal_stride=temporal_stride if first else 1, dilation=dilation,
            downsample=downsample if first else None, style=style, inflate=inflated == 1,
            inflate_style=inflate_style, norm_cfg=norm_cfg, conv_layer=conv_layer,
            with_cp=with_cp, non_local=non_local_cfg if j < len(non_local) and non_local[j] else None,
            **block_kwargs))
    return nn.Sequential(*blocks)


def init_resnet3d_weights(module: nn.Module, zero_init_residual: bool = True) -> None:
    """MMAction2's initialisation: Kaiming-normal (fan-out) convolutions, BatchNorm 1 and 0,
    each block's last BatchNorm 0 with ``zero_init_residual``."""
    for m in module.modules():
        if isinstance(m, nn.Conv3d):
            kaiming_init(m)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            constant_init(m, 1)
    if zero_init_residual:
        for m in module.modules():
            if isinstance(m, _Block):
                constant_init(m.last_norm(), 0)


class ResNet3d(FrozenStagesMixin, PretrainedMixin):
    """MMAction2's ResNet3d: clips ``[N, C, T, H, W]`` to features ``[N, 2048, T', H/32, W/32]``.

    I3D, SlowOnly and the 3D ResNets of torchvision (r3d_18, mc3_18) are settings of it.

    :param depth: 18, 34 (basic blocks) or 50, 101, 152 (bottlenecks).
    :param stage_blocks: blocks per stage instead of the depth's.
    :param in_channels: input channels (3 for RGB, 2 for flow).
    :param num_stages: how many of the four residual stages to build.
    :param base_channels: channels of the stem; stage i has ``base_channels * 2**i`` planes.
    :param out_indices: stages whose output is returned; several give a tuple.
    :param spatial_strides: spatial stride of each stage's first block.
    :param temporal_strides: temporal stride of each stage's first block.
    :param dilations: spatial dilation of each stage's 3x3 convolutions.
    :param conv1_kernel: kernel of the stem convolution, ``(t, h, w)``.
    :param conv1_stride_s: spatial stride of the stem convolution.
    :param conv1_stride_t: temporal stride of the stem convolution.
    :param pool1_stride_s: spatial stride of the stem's 1x3x3 max pooling.
    :param pool1_stride_t: temporal stride of the stem's max pooling.
    :param with_pool1: use the stem's max pooling.
    :param with_pool2: halve time with a 2x1x1 max pooling after stage 1 (I3D).
    :param style: ``pytorch`` strides in the 3x3 of a bottleneck, ``caffe`` in its first 1x1.
    :param frozen_stages: the stem (0) and stages 1..k get no gradient and keep their
        BatchNorm statistics; -1 freezes nothing.
    :param inflate: per stage, whether its blocks have a temporal kernel: one 0/1 per stage, or
        per stage a tuple with one 0/1 per block (I3D: ``[[1,1,1],[1,0,1,0],...]``).
    :param inflate_style: ``3x1x1`` puts the temporal kernel on a bottleneck's first 1x1,
        ``3x3x3`` on its 3x3.
    :param norm_cfg: BatchNorm settings (``eps``, ``momentum``, ``requires_grad``).
    :param norm_eval: keep every BatchNorm in eval mode while training.
    :param with_cp: recompute each block's activations in the backward pass to save memory.
    :param zero_init_residual: start each block's last BatchNorm at weight 0.
    :param pretrained: a local weights file, loaded once the model is built (``build_model``;
        constructing the class reads nothing); nothing is downloaded. By default a state dict in
        this module's naming (an MMAction2 3D backbone's, ``backbone.`` prefix allowed).
    :param non_local: per stage, whether its blocks end with a non-local block: one 0/1 per
        stage, or per stage a tuple with one 0/1 per block (I3D-NL: ``[[0,0,0],[0,1,0,1],
        [0,1,0,1,0,1],[0,0,0]]``).
    :param non_local_cfg: the non-local blocks' options (:class:`~actioncore.ops.NonLocalCfg`:
        ``sub_sample``, ``use_scale``, ``norm_cfg``, ``mode``, ``reduction``).
    :param pretrained2d: ``pretrained`` is instead a 2D ImageNet ResNet of the same depth
        (torchvision naming, e.g. ``resnet50-11ad3fa6.pth``), inflated along time as MMAction2's
        ``pretrained2d`` does (:func:`~actioncore_resnet3d.inflate_2d_weights`).
    """

    arch_settings: ClassVar[dict[int, tuple[type[_Block], tuple[int, ...]]]] = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(
        self, *, depth: Depth = 50, stage_blocks: tuple[int, ...] | None = None,
        in_channels: int = 3, num_stages: int = 4, base_channels: int = 64,
        out_indices: tuple[int, ...] = (3,), spatial_strides: tuple[int, ...] = (1, 2, 2, 2),
        temporal_strides: tuple[int, ...] = (1, 1, 1, 1), dilations: tuple[int, ...] = (1, 1, 1, 1),
        conv1_kernel: tuple[int, int, int] = (3, 7, 7), conv1_stride_s: int = 2,
        conv1_stride_t: int = 1, pool1_stride_s: int = 2, pool1_stride_t: int = 1,
        with_pool1: bool = True, with_pool2: bool = True,
        style: Literal["pytorch", "caffe"] = "pytorch", frozen_stages: int = -1,
        inflate: tuple[Inflate, ...] = (1, 1, 1, 1),
        inflate_style: Literal["3x1x1", "3x3x3"] = "3x1x1", norm_cfg: NormCfg = NormCfg(),
        norm_eval: bool = False, with_cp: bool = False, zero_init_residual: bool = True,
        non_local: tuple[Inflate, ...] = (0, 0, 0, 0), non_local_cfg: NonLocalCfg = NonLocalCfg(),  # noqa: B008
        pretrained: str | None = None, pretrained2d: bool = False,
    ):
        super().__init__()
        self.build_layers(depth=depth, stage_blocks=stage_blocks, in_channels=in_channels,
                    num_stages=num_stages, base_channels=base_channels, out_indices=out_indices,
                    spatial_strides=spatial_strides, temporal_strides=temporal_strides,
                    dilations=dilations, conv1_kernel=conv1_kernel, conv1_stride_s=conv1_stride_s,
                    conv1_stride_t=conv1_stride_t, pool1_stride_s=pool1_stride_s,
                    pool1_stride_t=pool1_stride_t, with_pool1=with_pool1, with_pool2=with_pool2,
                    style=style, frozen_stages=frozen_stages, inflate=inflate,
                    inflate_style=inflate_style, norm_cfg=norm_cfg, norm_eval=norm_eval,
                    with_cp=with_cp, zero_init_residual=zero_init_residual, pretrained=pretrained,
                    pretrained2d=pretrained2d, non_local=non_local, non_local_cfg=non_local_cfg)

    # Subclasses change these three.
    def conv_layer(self) -> ConvFactory:
        """Builds each convolution of the network (``Conv3d`` here)."""
        return conv3d

    def block_kwargs(self) -> dict:
        return {}

    def stage_inplanes(self, index: int, inplanes: int) -> int:
        """Input channels of stage ``index`` (0-based), which follows ``inplanes`` channels.

        Called while building, just before the stage: a subclass may add modules that feed the
        stage more channels (a SlowFast pathway's lateral connections) and return the sum.
        """
        return inplanes

    def build_layers(self, *, depth, stage_blocks, in_channels, num_stages, base_channels, out_indices,
                     spatial_strides, temporal_strides, dilations, conv1_kernel, conv1_stride_s,
                     conv1_stride_t, pool1_stride_s, pool1_stride_t, with_pool1, with_pool2, style,
                     frozen_stages, inflate, inflate_style, norm_cfg, norm_eval, with_cp,
                     zero_init_residual, pretrained, pretrained2d: bool = False,
                     non_local: tuple[Inflate, ...] = (0, 0, 0, 0),
                     non_local_cfg: NonLocalCfg = NonLocalCfg()) -> None:  # noqa: B008
        """Check the parameters (of :class:`ResNet3d`) and build the network: the constructor
        of every subclass calls it, after ``nn.Module.__init__`` and what its hooks
        (:meth:`conv_layer`, :meth:`block_kwargs`, :meth:`stage_inplanes`) need."""
        name = type(self).__name__
        if depth not in self.arch_settings:
            raise ValueError(f"{name} depth must be one of {sorted(self.arch_settings)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"{name} num_stages must be 1 to 4, got {num_stages}")
        for label, values in (("spatial_strides", spatial_strides),
                              ("temporal_strides", temporal_strides), ("dilations", dilations)):
            if len(values) != num_stages:
                raise ValueError(f"{name} {label} {tuple(values)} needs one value per stage "
                                 f"(num_stages = {num_stages})")
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f"{name} out_indices {tuple(out_indices)}: each must be a stage "
                             f"index 0 to {num_stages - 1}")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f"{name} frozen_stages must be -1 to {num_stages}, got {frozen_stages}")
        if len(_triple(conv1_kernel)) != 3:
            raise ValueError(f"{name} conv1_kernel must be (t, h, w), got {conv1_kernel}")
        block, default_blocks = self.arch_settings[depth]
        stage_blocks = tuple(stage_blocks) if stage_blocks is not None else default_blocks[:num_stages]
        if len(stage_blocks) != num_stages:
            raise ValueError(f"{name} stage_blocks {stage_blocks} needs {num_stages} values")
        stage_inflations = (inflate,) * num_stages if isinstance(inflate, int) else tuple(inflate)
        if len(stage_inflations) != num_stages:
            raise ValueError(f"{name} inflate {inflate} needs one entry per stage ({num_stages})")
        stage_non_local = tuple(non_local)
        if len(stage_non_local) < num_stages:
            raise ValueError(f"{name} non_local {non_local} needs one entry per stage ({num_stages})")

        self.depth = depth
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_pool1 = with_pool1
        self.with_pool2 = with_pool2
        conv_layer = self.conv_layer()

        kernel = _triple(conv1_kernel)
        self.conv1 = ConvModule(in_channels, base_channels, kernel,
                                stride=(conv1_stride_t, conv1_stride_s, conv1_stride_s),
                                padding=tuple((k - 1) // 2 for k in kernel), norm_cfg=norm_cfg,
                                conv_layer=conv_layer)
        self.maxpool = nn.MaxPool3d(kernel_size=(1, 3, 3),
                                    stride=(pool1_stride_t, pool1_stride_s, pool1_stride_s),
                                    padding=(0, 1, 1))
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1))

        inplanes = base_channels
        self.res_layers: list[str] = []
        for i, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2 ** i
            per_block = stage_inflations[i]
            per_block = (per_block,) * num_blocks if isinstance(per_block, int) else tuple(per_block)
            if len(per_block) != num_blocks:
                raise ValueError(f"{name} inflate of stage {i + 1} {per_block} needs one value per "
                                 f"block ({num_blocks})")
            nl_flags = stage_non_local[i]
            nl_flags = (nl_flags,) * num_blocks if isinstance(nl_flags, int) else tuple(nl_flags)
            if len(nl_flags) != num_blocks:
                raise ValueError(f"{name} non_local of stage {i + 1} {nl_flags} needs one value per "
                                 f"block ({num_blocks})")
            layer = make_res_layer(
                block, self.stage_inplanes(i, inplanes), planes, per_block, spatial_stride=spatial_strides[i],
                temporal_stride=temporal_strides[i], dilation=dilations[i], style=style,
                inflate_style=inflate_style, norm_cfg=norm_cfg, conv_layer=conv_layer,
                with_cp=with_cp, non_local=nl_flags, non_local_cfg=non_local_cfg, **self.block_kwargs())
            inplanes = planes * block.expansion
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
        self.feat_dim = inplanes
        self.out_channels = inplanes

        self.init_weights(zero_init_residual)
        if pretrained2d and pretrained is None:
            raise ValueError(f"{name} pretrained2d = true needs pretrained, the 2D ResNet weights file")
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.freeze_stages()

    def init_weights(self, zero_init_residual: bool = True) -> None:
        init_resnet3d_weights(self, zero_init_residual)

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The ``pretrained`` file as this module's state dict: inflated with ``pretrained2d``,
        else taken in this module's own naming."""
        if self.pretrained2d:
            return inflate_2d_weights(self, state)
        return own_weights(self, state)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        if self.with_pool1:
            x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)
