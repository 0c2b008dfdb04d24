"""UniFormerV2 (Li et al., "UniFormerV2: Spatiotemporal Learning by Arming Image ViTs with Video
UniFormer", ICCV 2023) as MMAction2 1.2.0 builds it (``mmaction/models/backbones/uniformerv2.py``),
without mmcv.

A CLIP ViT (``conv1`` patch embedding, ``class_embedding``, ``positional_embedding``, ``ln_pre``,
``transformer.resblocks``) runs per frame; optional local MHRA (a depth-wise temporal conv with
BatchNorm, ``lmhra1`` / ``lmhra2``) inside its blocks mixes time; the global UniBlocks
(``transformer.dec``) let one learnt video token attend to all tokens of the last
``len(return_list)`` blocks, each first given a depth-wise 3D conv position encoding
(``transformer.dpe``); the output blends that token with the frames' mean class token
(``transformer.balance``) under ``transformer.norm``.

Parameter names are MMAction2's (CLIP's ``nn.MultiheadAttention`` layout: ``in_proj_weight``,
``out_proj``), so its checkpoints load with identical keys. The attention itself runs through
:func:`torch.nn.functional.scaled_dot_product_attention` on those weights. Tokens are kept
batch-first (MMAction2 keeps CLIP's sequence-first layout; the numbers are the same).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import StochasticDepth

from actioncore.sdk.weights import PretrainedMixin


class QuickGELU(nn.Module):
    """CLIP's GELU approximation ``x * sigmoid(1.702 x)`` (its weights were trained with it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


def multihead_attention(attn: nn.MultiheadAttention, query: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """``attn``'s projections around SDPA: ``query`` ``[B, Lq, C]`` attends to ``source`` ``[B, Ls, C]``."""
    c, heads = query.shape[-1], attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = F.linear(query, w[:c], b[:c])
    k = F.linear(source, w[c:2 * c], b[c:2 * c])
    v = F.linear(source, w[2 * c:], b[2 * c:])
    q, k, v = (t.unflatten(-1, (heads, c // heads)).transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v)
    return attn.out_proj(out.transpose(1, 2).flatten(2))


def drop_path(rate: float) -> nn.Module:
    return StochasticDepth(rate, "row") if rate > 0 else nn.Identity()


class LocalMHRA(nn.Module):
    """Local multi-head relation aggregator: BN, 1x1x1 reduction, depth-wise temporal conv,
    1x1x1 expansion (zero-initialised, so a block starts as CLIP's) on ``[N, C, T, H, W]``."""

    def __init__(self, d_model: int, *, dw_reduction: float = 1.5, pos_kernel_size: int = 3):
        super().__init__()
        reduced = int(d_model // dw_reduction)
        self.pos_embed = nn.Sequential(
            nn.BatchNorm3d(d_model),
            nn.Conv3d(d_model, reduced, 1),
            nn.Conv3d(reduced, reduced, (pos_kernel_size, 1, 1), padding=(pos_kernel_size // 2, 0, 0), groups=reduced),
            nn.Conv3d(reduced, d_model, 1))
        if not self.pos_embed[3].weight.is_meta:
            nn.init.zeros_(self.pos_embed[3].weight)
            nn.init.zeros_(self.pos_embed[3].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pos_embed(x)


class LocalUniBlock(nn.Module):
    """A CLIP residual attention block (``ResidualAttentionBlock``), with local MHRA before the
    attention (and before the MLP with ``double_lmhra``) unless ``no_lmhra``."""

    def __init__(self, d_model: int, n_head: int, *, drop_path_rate: float = 0.0, dw_reduction: float = 1.5,
                 no_lmhra: bool = False, double_lmhra: bool = True):
        super().__init__()
        self.drop_path = drop_path(drop_path_rate)
        self.no_lmhra = no_lmhra
        self.double_lmhra = double_lmhra
        if not no_lmhra:
            self.lmhra1 = LocalMHRA(d_model, dw_reduction=dw_reduction)
            if double_lmhra:
                self.lmhra2 = LocalMHRA(d_model, dw_reduction=dw_reduction)
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(d_model, d_model * 4)), ("gelu", QuickGELU()),
                                              ("c_proj", nn.Linear(d_model * 4, d_model))]))
        self.ln_2 = nn.LayerNorm(d_model)

    def local(self, x: torch.Tensor, lmhra: LocalMHRA, frames: int, side: int) -> torch.Tensor:
        """Add ``lmhra`` of the patch tokens of ``x`` ``[N*T, 1 + side*side, C]``; the class tokens pass."""
        nt, _, c = x.shape
        tokens = x[:, 1:].reshape(nt // frames, frames, side, side, c).permute(0, 4, 1, 2, 3)
        tokens = tokens + self.drop_path(lmhra(tokens))
        tokens = tokens.permute(0, 2, 3, 4, 1).reshape(nt, side * side, c)
        return torch.cat((x[:, :1], tokens), dim=1)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        side = int((x.shape[1] - 1) ** 0.5)
        if not self.no_lmhra:
            x = self.local(x, self.lmhra1, frames, side)
        y = self.ln_1(x)
        x = x + self.drop_path(multihead_attention(self.attn, y, y))
        if not self.no_lmhra and self.double_lmhra:
            x = self.local(x, self.lmhra2, frames, side)
        return x + self.drop_path(self.mlp(self.ln_2(x)))


class GlobalUniBlock(nn.Module):
    """MMAction2's ``Extractor``: the video token (``x``) attends to a block's tokens (``y``),
    then an MLP with dropout; attention output and MLP output start at zero."""

    def __init__(self, d_model: int, n_head: int, *, mlp_factor: float = 4.0, dropout: float = 0.0,
                 drop_path_rate: float = 0.0):
        super().__init__()
        self.drop_path = drop_path(drop_path_rate)
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        d_mlp = round(mlp_factor * d_model)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(d_model, d_mlp)), ("gelu", QuickGELU()),
                                              ("dropout", nn.Dropout(dropout)), ("c_proj", nn.Linear(d_mlp, d_model))]))
        self.ln_2 = nn.LayerNorm(d_model)
        self.ln_3 = nn.LayerNorm(d_model)
        if not self.attn.in_proj_weight.is_meta:
            nn.init.xavier_uniform_(self.attn.in_proj_weight)
            nn.init.zeros_(self.attn.out_proj.weight)
            nn.init.zeros_(self.attn.out_proj.bias)
            nn.init.xavier_uniform_(self.mlp.c_fc.weight)
            nn.init.zeros_(self.mlp.c_proj.weight)
            nn.init.zeros_(self.mlp.c_proj.bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(multihead_attention(self.attn, self.ln_1(x), self.ln_3(y)))
        return x + self.drop_path(self.mlp(self.ln_2(x)))


def linspace(rate: float, n: int) -> list[float]:
    return torch.linspace(0, rate, n, device="cpu").tolist()  # on the CPU under a meta default device


class Transformer(nn.Module):
    """The local blocks (``resblocks``) and the global ones (``dec``, fed by ``return_list``)."""

    def __init__(self, *, width: int, layers: int, heads: int, backbone_drop_path_rate: float, t_size: int,
                 dw_reduction: float, no_lmhra: bool, double_lmhra: bool, return_list: list[int], n_layers: int,
                 n_dim: int, n_head: int, mlp_factor: float, drop_path_rate: float, mlp_dropout: list[float]):
        super().__init__()
        if n_layers != len(return_list) or len(mlp_dropout) != n_layers:
            raise ValueError(f"uniformerv2: n_layers {n_layers} needs as many return_list entries ({return_list}) "
                             f"and mlp_dropout values ({mlp_dropout})")
        if any(not 0 <= i < layers for i in return_list):
            raise ValueError(f"uniformerv2: return_list {return_list} must index the {layers} blocks")
        if n_dim != width:
            raise ValueError(f"uniformerv2: n_dim {n_dim} must equal width {width} (the global blocks read its tokens)")
        self.T = t_size
        self.return_list = list(return_list)
        self.resblocks = nn.ModuleList([
            LocalUniBlock(width, heads, drop_path_rate=rate, dw_reduction=dw_reduction, no_lmhra=no_lmhra,
                          double_lmhra=double_lmhra) for rate in linspace(backbone_drop_path_rate, layers)])
        self.temporal_cls_token = nn.Parameter(torch.zeros(1, 1, n_dim))
        self.dpe = nn.ModuleList([nn.Conv3d(n_dim, n_dim, 3, padding=1, groups=n_dim) for _ in range(n_layers)])
        self.dec = nn.ModuleList([
            GlobalUniBlock(n_dim, n_head, mlp_factor=mlp_factor, dropout=mlp_dropout[i], drop_path_rate=rate)
            for i, rate in enumerate(linspace(drop_path_rate, n_layers))])
        self.norm = nn.LayerNorm(n_dim)
        self.balance = nn.Parameter(torch.zeros(n_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N*T, 1 + H*W, C]`` frame tokens -> ``[N, C]``."""
        frames = self.T
        nt, length, c = x.shape
        n, side = nt // frames, int((length - 1) ** 0.5)
        video = self.temporal_cls_token.expand(n, 1, c)
        for i, block in enumerate(self.resblocks):
            x = block(x, frames)
            if i in self.return_list:
                j = self.return_list.index(i)
                tokens = x.view(n, frames, length, c)
                patches = tokens[:, :, 1:].permute(0, 3, 1, 2).reshape(n, c, frames, side, side)
                encoded = self.dpe[j](patches).reshape(n, c, frames, length - 1).permute(0, 2, 3, 1)
                tokens = torch.cat((tokens[:, :, :1], tokens[:, :, 1:] + encoded), dim=2)
                video = self.dec[j](video, tokens.reshape(n, frames * length, c))
        weight = torch.sigmoid(self.balance)
        residual = x.view(n, frames, length, c)[:, :, 0].mean(1)
        return self.norm((1 - weight) * video[:, 0] + weight * residual)


class UniFormerV2(PretrainedMixin):
    """UniFormerV2: clips ``[N, 3, T, H, W]`` -> ``[N, n_dim]`` (see the module docstring).

    Defaults are MMAction2's ViT-B/16 Kinetics configs (``no_lmhra = true``: as MMAction2's
    released configs, the local MHRA is off; ``no_lmhra = false`` turns it on).

    :param input_resolution: frame size the position embedding is made for.
    :param patch_size: side of the square patches.
    :param width: token width of the CLIP ViT.
    :param layers: CLIP blocks.
    :param heads: attention heads of the CLIP blocks.
    :param backbone_drop_path_rate: stochastic depth of the last CLIP block (linear from 0).
    :param t_size: frames per clip (halved by ``temporal_downsample``).
    :param kernel_size: temporal kernel of the patch embedding with ``temporal_downsample``.
    :param dw_reduction: channel reduction of the local MHRA.
    :param temporal_downsample: patch embedding over ``kernel_size`` frames at stride 2.
    :param no_lmhra: no local MHRA in the CLIP blocks.
    :param double_lmhra: a second local MHRA before each MLP.
    :param return_list: CLIP blocks whose tokens feed the global blocks.
    :param n_layers: global blocks (one per ``return_list`` entry).
    :param n_dim: width of the global blocks (equal to ``width``).
    :param n_head: attention heads of the global blocks.
    :param mlp_factor: MLP hidden width / ``n_dim`` in the global blocks.
    :param drop_path_rate: stochastic depth of the last global block (linear from 0).
    :param mlp_dropout: dropout in each global block's MLP.
    :param pretrained: a recognizer checkpoint's ``backbone.*`` tensors or a bare state dict
        (e.g. the Kinetics-710 model MMAction2's Kinetics-400/600/700 recipes start from), loaded
        strictly after the model is built.
    """

    def __init__(
        self, *, input_resolution: int = 224, patch_size: int = 16, width: int = 768, layers: int = 12,
        heads: int = 12, backbone_drop_path_rate: float = 0.0, t_size: int = 8, kernel_size: int = 3,
        dw_reduction: float = 1.5, temporal_downsample: bool = False, no_lmhra: bool = True,
        double_lmhra: bool = False, return_list: list[int] = (8, 9, 10, 11), n_layers: int = 4, n_dim: int = 768,
        n_head: int = 12, mlp_factor: float = 4.0, drop_path_rate: float = 0.0,
        mlp_dropout: list[float] = (0.5, 0.5, 0.5, 0.5), pretrained: str | None = None,
    ):
        super().__init__()
        if input_resolution % patch_size:
            raise ValueError(f"uniformerv2 input_resolution {input_resolution} is not a multiple of "
                             f"patch_size {patch_size}")
        self.input_resolution = input_resolution
        self.out_channels = n_dim
        if temporal_downsample:
            self.conv1 = nn.Conv3d(3, width, (kernel_size, patch_size, patch_size), (2, patch_size, patch_size),
                                   ((kernel_size - 1) // 2, 0, 0), bias=False)
            t_size //= 2
        else:
            self.conv1 = nn.Conv3d(3, width, (1, patch_size, patch_size), (1, patch_size, patch_size), bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty((input_resolution // patch_size) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(
            width=width, layers=layers, heads=heads, backbone_drop_path_rate=backbone_drop_path_rate, t_size=t_size,
            dw_reduction=dw_reduction, no_lmhra=no_lmhra, double_lmhra=double_lmhra, return_list=list(return_list),
            n_layers=n_layers, n_dim=n_dim, n_head=n_head, mlp_factor=mlp_factor, drop_path_rate=drop_path_rate,
            mlp_dropout=list(mlp_dropout))
        if not self.class_embedding.is_meta:
            self.initialise(width)
        self.pretrained = pretrained

    def initialise(self, width: int) -> None:
        """MMAction2's: CLIP's embeddings ``width ** -0.5 * N(0, 1)``, then its default ``init_cfg``
        (every Linear, attention output projections included, truncated normal std 0.02 with bias 0;
        LayerNorm 1 / 0); the zero-initialised convs and the in-projections keep their values."""
        nn.init.normal_(self.class_embedding, std=width ** -0.5)
        nn.init.normal_(self.positional_embedding, std=width ** -0.5)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for conv in self.transformer.dpe:
            nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``[N, 3, T, H, W]`` -> ``[N, n_dim]``."""
        if x.dim() != 5 or x.shape[-1] != self.input_resolution or x.shape[-2] != self.input_resolution:
            raise ValueError(f"uniformerv2 expects [N, 3, T, {self.input_resolution}, {self.input_resolution}] clips, "
                             f"got {tuple(x.shape)}")
        x = self.conv1(x)
        n, c, t, h, w = x.shape
        if t != self.transformer.T:
            raise ValueError(f"uniformerv2 was built for t_size = {self.transformer.T} frames after the patch "
                             f"embedding, got {t}")
        x = x.permute(0, 2, 3, 4, 1).reshape(n * t, h * w, c)
        x = torch.cat((self.class_embedding.expand(n * t, 1, c), x), dim=1) + self.positional_embedding
        return self.transformer(self.ln_pre(x))


__all__ = ["GlobalUniBlock", "LocalMHRA", "LocalUniBlock", "UniFormerV2"]
