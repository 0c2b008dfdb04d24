"""LFB's feature-bank operators (FBO) and MMAction2's ``FBOHead`` shared head.

The short-term feature of an actor (its RoI feature pooled to one vector) attends to, or is
joined with, the long-term features stored in the :class:`~.feature_bank.FeatureBank` around the
clip's second; the head returns both concatenated, ``[R, C_st + C_fbo, 1, 1, 1]``.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import torch
from torch import nn

from actioncore.sdk import DataError
from actioncore.sdk.layers import Conv3d, ConvModule, kaiming_init

from .bbox_head import PoolType, spatial_pool, temporal_pool
from .feature_bank import FeatureBank


class NonLocalLayer(nn.Module):
    """One non-local block between ``num_st_feat`` short-term and ``num_lt_feat`` long-term
    features (1x1x1 convolutions with bias, softmax attention, LayerNorm, ReLU, dropout)."""

    def __init__(self, st_channels: int, lt_channels: int, latent_channels: int, num_st_feat: int,
                 num_lt_feat: int, *, use_scale: bool = True, pre_activate: bool = True,
                 pre_activate_with_ln: bool = True, dropout_ratio: float = 0.2,
                 zero_init_out_conv: bool = False):
        super().__init__()
        self.latent_channels = latent_channels
        self.num_st_feat = num_st_feat
        self.num_lt_feat = num_lt_feat
        self.use_scale = use_scale
        self.pre_activate = pre_activate
        self.pre_activate_with_ln = pre_activate_with_ln
        self.st_feat_conv = _conv_module(st_channels, latent_channels)
        self.lt_feat_conv = _conv_module(lt_channels, latent_channels)
        self.global_conv = _conv_module(lt_channels, latent_channels)
        ln_channels = latent_channels if pre_activate else st_channels
        self.ln = nn.LayerNorm([ln_channels, num_st_feat, 1, 1])
        self.relu = nn.ReLU()
        self.out_conv = _conv_module(latent_channels, st_channels)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
        if zero_init_out_conv:
            nn.init.zeros_(self.out_conv.conv.weight)
            nn.init.zeros_(self.out_conv.conv.bias)

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        n, c = st_feat.shape[0], self.latent_channels
        theta = self.st_feat_conv(st_feat).view(n, c, self.num_st_feat)
        phi = self.lt_feat_conv(lt_feat).view(n, c, self.num_lt_feat)
        g = self.global_conv(lt_feat).view(n, c, self.num_lt_feat)
        affinity = torch.matmul(theta.permute(0, 2, 1), phi)  # [n, st, lt]
        if self.use_scale:
            affinity = affinity / c ** 0.5
        attention = affinity.softmax(dim=-1)
        out = torch.matmul(g, attention.permute(0, 2, 1)).view(n, c, self.num_st_feat, 1, 1)
        if self.pre_activate:
            if self.pre_activate_with_ln:
                out = self.ln(out)
            out = self.relu(out)
        out = self.out_conv(out)
        if not self.pre_activate:
            out = self.ln(out)
        if self.dropout is not None:
            out = self.dropout(out)
        return out


def _conv_module(in_channels: int, out_channels: int) -> ConvModule:
    """mmcv's ``ConvModule`` with no norm and no activation: a 1x1x1 convolution with bias."""
    return ConvModule(in_channels, out_channels, 1, norm_cfg=None, act=False)


class FBONonLocal(nn.Module):
    """Non-local FBO: short- and long-term features projected to ``latent_channels``, then
    ``num_non_local_layers`` residual non-local blocks; output ``[R, latent, 1, 1, 1]``."""

    def __init__(self, *, st_feat_channels: int, lt_feat_channels: int, latent_channels: int,
                 num_st_feat: int, num_lt_feat: int, num_non_local_layers: int = 2,
                 st_feat_dropout_ratio: float = 0.2, lt_feat_dropout_ratio: float = 0.2,
                 pre_activate: bool = True, zero_init_out_conv: bool = False):
        super().__init__()
        if num_non_local_layers < 1:
            raise ValueError("fbo non_local needs at least one non-local layer")
        self.out_channels = latent_channels
        self.pre_activate = pre_activate
        self.st_feat_conv = Conv3d(st_feat_channels, latent_channels, kernel_size=1)
        self.lt_feat_conv = Conv3d(lt_feat_channels, latent_channels, kernel_size=1)
        kaiming_init(self.st_feat_conv)
        kaiming_init(self.lt_feat_conv)
        self.st_feat_dropout = nn.Dropout(st_feat_dropout_ratio) if st_feat_dropout_ratio > 0 else None
        self.lt_feat_dropout = nn.Dropout(lt_feat_dropout_ratio) if lt_feat_dropout_ratio > 0 else None
        self.relu = nn.ReLU()
        self.non_local_layers = [f"non_local_layer_{i + 1}" for i in range(num_non_local_layers)]
        for name in self.non_local_layers:
            self.add_module(name, NonLocalLayer(
                latent_channels, latent_channels, latent_channels, num_st_feat, num_lt_feat,
                pre_activate=pre_activate, zero_init_out_conv=zero_init_out_conv))

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        st_feat = self.st_feat_conv(st_feat)
        if self.st_feat_dropout is not None:
            st_feat = self.st_feat_dropout(st_feat)
        lt_feat = self.lt_feat_conv(lt_feat)
        if self.lt_feat_dropout is not None:
            lt_feat = self.lt_feat_dropout(lt_feat)
        for name in self.non_local_layers:
            st_feat = st_feat + getattr(self, name)(st_feat, lt_feat)
            if not self.pre_activate:
                st_feat = self.relu(st_feat)
        return st_feat


class FBOPool(nn.Module):
    """Average (``avg``) or max (``max``) FBO: the long-term features pooled over the window,
    ``[R, lt_feat_channels, 1, 1, 1]``; the short-term feature is not used."""

    def __init__(self, mode: Literal["avg", "max"], channels: int):
        super().__init__()
        self.out_channels = channels
        self.pool = nn.AdaptiveAvgPool3d((1, None, None)) if mode == "avg" else nn.AdaptiveMaxPool3d((1, None, None))

    def forward(self, st_feat: torch.Tensor, lt_feat: torch.Tensor) -> torch.Tensor:
        return self.pool(lt_feat)


@attrs.frozen
class LFBConfig:
    """MMAction2's ``lfb_cfg``: where the bank is and how a window is read from it."""

    files: tuple[str, ...] = ("data/ava/lfb/lfb_train.pt", "data/ava/lfb/lfb_val.pt")
    """Bank files, merged (MMAction2's ``lfb_prefix_path`` with ``dataset_modes``): written by
    the detection task's ``feature_bank`` pass, or MMAction2's ``lfb_<split>.pkl``."""
    window_size: int = 60
    """Seconds read around the clip's timestamp."""
    max_num_sampled_feat: int = 5
    """Features read per second (random ones in training, the first ones in evaluation)."""
    lfb_channels: int = 2048


@attrs.frozen
class FBOConfig:
    """MMAction2's ``fbo_cfg``; ``latent_channels`` and the ``non_local`` settings apply to
    ``type = "non_local"`` only, and ``num_lt_feat`` is ``window_size * max_num_sampled_feat``."""

    type: Literal["non_local", "avg", "max"] = "non_local"
    st_feat_channels: int = 2048
    latent_channels: int = 512
    num_st_feat: int = 1
    num_non_local_layers: int = 2
    st_feat_dropout_ratio: float = 0.2
    lt_feat_dropout_ratio: float = 0.2
    pre_activate: bool = True
    zero_init_out_conv: bool = False


class FBOHead(nn.Module):
    """Shared head: RoI features ``[R, C, t, s, s]`` pooled to the short-term feature, fused with
    the bank's window for each RoI's ``(video_id, timestamp)``; output ``[R, C + C_fbo, 1, 1, 1]``
    (2048 + 512 for non-local, 2048 + 2048 for avg/max with SlowOnly-R50).

    The bank is read from ``lfb.files`` at the first forward pass (so that a model can
    be built, counted and converted before the bank exists), or handed over with :meth:`set_bank`.

    :param lfb: the bank's location and window (:class:`LFBConfig`).
    :param fbo: the operator (:class:`FBOConfig`).
    :param temporal_pool_type: pooling of the RoI features over time.
    :param spatial_pool_type: pooling of the RoI features over the RoI grid.
    """

    def __init__(self, *, lfb: LFBConfig = LFBConfig(), fbo: FBOConfig = FBOConfig(),  # noqa: B008
                 temporal_pool_type: PoolType = "avg", spatial_pool_type: PoolType = "max"):
        super().__init__()
        if lfb.window_size < 1 or lfb.max_num_sampled_feat < 1:
            raise ValueError("fbo: lfb.window_size and lfb.max_num_sampled_feat must be positive")
        self.lfb = lfb
        self.temporal_pool = temporal_pool(temporal_pool_type)
        self.spatial_pool = spatial_pool(spatial_pool_type)
        if fbo.type == "non_local":
            self.fbo: nn.Module = FBONonLocal(
                st_feat_channels=fbo.st_feat_channels, lt_feat_channels=lfb.lfb_channels,
                latent_channels=fbo.latent_channels, num_st_feat=fbo.num_st_feat,
                num_lt_feat=lfb.window_size * lfb.max_num_sampled_feat,
                num_non_local_layers=fbo.num_non_local_layers,
                st_feat_dropout_ratio=fbo.st_feat_dropout_ratio,
                lt_feat_dropout_ratio=fbo.lt_feat_dropout_ratio, pre_activate=fbo.pre_activate,
                zero_init_out_conv=fbo.zero_init_out_conv)
        else:
            self.fbo = FBOPool(fbo.type, lfb.lfb_channels)
        self.out_channels = fbo.st_feat_channels + self.fbo.out_channels
        self._bank: FeatureBank | None = None

    def set_bank(self, bank: FeatureBank) -> None:
        if bank.channels is not None and bank.channels != self.lfb.lfb_channels:
            raise DataError(f"the feature bank has {bank.channels} channels, "
                            f"lfb.lfb_channels is {self.lfb.lfb_channels}")
        self._bank = bank

    def bank(self) -> FeatureBank:
        if self._bank is None:
            bank = FeatureBank()
            for path in self.lfb.files:
                bank.update(FeatureBank.load(path))
            self.set_bank(bank)
        assert self._bank is not None
        return self._bank

    def long_term_features(self, meta: Sequence[Mapping[str, Any]]) -> torch.Tensor:
        """``[R, lfb_channels, window * per_second, 1, 1]`` windows for each RoI's meta."""
        bank = self.bank()
        windows = [bank.window(item["video_id"], int(item["timestamp"]),
                               window_size=self.lfb.window_size,
                               max_per_second=self.lfb.max_num_sampled_feat, random=self.training)
                   for item in meta]
        return torch.stack(windows).permute(0, 2, 1)[..., None, None]

    def forward(self, roi_feats: torch.Tensor, *, context: torch.Tensor, rois: torch.Tensor,
                meta: Sequence[Mapping[str, Any]] | None = None) -> torch.Tensor:
        st_feat = self.spatial_pool(self.temporal_pool(roi_feats))
        if meta is None:
            # ``actioncore info`` / ``bench model`` run the model on bare clips: the window is
            # then empty (zeros), which costs the same computation as a real one.
            warnings.warn("fbo: no meta (video_id, timestamp) given: the long-term features "
                          "are zeros", stacklevel=2)
            lt_feat = st_feat.new_zeros(st_feat.shape[0], self.lfb.lfb_channels,
                                        self.lfb.window_size * self.lfb.max_num_sampled_feat, 1, 1)
        elif len(meta) != roi_feats.shape[0]:
            raise ValueError(f"fbo: needs meta (video_id, timestamp) for each of the "
                             f"{roi_feats.shape[0]} RoIs, got {len(meta)}")
        else:
            lt_feat = self.long_term_features(meta).to(st_feat)
        return torch.cat([st_feat, self.fbo(st_feat, lt_feat)], dim=1)
