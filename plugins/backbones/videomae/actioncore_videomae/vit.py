"""VideoMAE's ViT (Tong et al., NeurIPS 2022; VideoMAE V2, Wang et al., CVPR 2023) as MMAction2
1.2.0's ``VisionTransformer`` (``mmaction/models/backbones/vit_mae.py``) builds it, without mmcv.

Module and parameter names are MMAction2's, so its checkpoints load with identical keys:
``patch_embed.projection`` (a Conv3d over ``tubelet_size x patch x patch`` cubes),
``blocks.N.{norm1, attn.{q_bias, v_bias, qkv, proj}, norm2, mlp.layers.{0.0, 1}}``, ``fc_norm``
(mean pooling) or ``norm`` (no pooling; VideoMAE's pre-training encoder), and the fixed
sinusoid ``pos_embed`` buffer (a parameter with ``use_learnable_pos_emb``).

What differs from MMAction2's code (not its numbers): attention runs through
:func:`torch.nn.functional.scaled_dot_product_attention` (the fastest kernel for the device),
and :meth:`VisionTransformer.forward` takes an optional token ``mask`` so that VideoMAE's
pre-training encoder (the same network on the visible tokens only) is this class too.
"""
from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import StochasticDepth

from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import PretrainedMixin, backbone_weights

logger = logging.getLogger("actioncore.videomae")


class Attention(nn.Module):
    """Multi-head self-attention with BEiT's bias layout: one bias-free ``qkv`` Linear plus
    learnable ``q_bias`` and ``v_bias`` (the key bias is fixed at zero), as MMAction2's."""

    def __init__(self, embed_dims: int, num_heads: int, *, qkv_bias: bool, qk_scale: float | None,
                 attn_drop_rate: float, drop_rate: float):
        super().__init__()
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.scale = qk_scale or (embed_dims // num_heads) ** -0.5
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(embed_dims))
            self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=False)
        self.attn_drop_rate = attn_drop_rate
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(drop_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        bias = None
        if hasattr(self, "q_bias"):
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], scale=self.scale,
                                             dropout_p=self.attn_drop_rate if self.training else 0.0)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, -1)))


class Block(nn.Module):
    """Pre-norm transformer block; with ``init_values > 0`` the two branches are scaled by the
    learnable per-channel ``gamma_1`` / ``gamma_2`` (LayerScale), as MMAction2's ``Block``."""

    def __init__(self, embed_dims: int, num_heads: int, *, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 qk_scale: float | None = None, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0, init_values: float = 0.0, norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = Attention(embed_dims, num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                              attn_drop_rate=attn_drop_rate, drop_rate=drop_rate)
        # stochastic depth per sample (timm's / mmcv's DropPath is torchvision's "row" mode)
        self.drop_path = StochasticDepth(drop_path_rate, "row") if drop_path_rate > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        hidden = int(embed_dims * mlp_ratio)
        # mmcv FFN(add_identity=False): layers.0 = (Linear, GELU, Dropout), layers.1 = Linear, then Dropout
        self.mlp = nn.Module()
        self.mlp.layers = nn.Sequential(
            nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(), nn.Dropout(drop_rate)),
            nn.Linear(hidden, embed_dims), nn.Dropout(drop_rate))
        if init_values > 0:
            self.gamma_1 = nn.Parameter(torch.full((embed_dims,), float(init_values)))
            self.gamma_2 = nn.Parameter(torch.full((embed_dims,), float(init_values)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attn = self.attn(self.norm1(x))
        if hasattr(self, "gamma_1"):
            attn = self.gamma_1 * attn
        x = x + self.drop_path(attn)
        mlp = self.mlp.layers(self.norm2(x))
        if hasattr(self, "gamma_2"):
            mlp = self.gamma_2 * mlp
        return x + self.drop_path(mlp)


def sinusoid_table(n_position: int, embed_dims: int) -> torch.Tensor:
    """``[1, n_position, embed_dims]``: the fixed sine/cosine position table of "Attention Is All
    You Need" (even channels sine, odd cosine), computed in float64 as MMAction2 does."""
    vec = torch.arange(embed_dims, dtype=torch.float64)
    vec = torch.pow(10000, -(vec - vec % 2) / embed_dims).view(1, -1)
    table = torch.arange(n_position, dtype=torch.float64).view(-1, 1) * vec
    table[:, 0::2].sin_()
    table[:, 1::2].cos_()
    return table.to(torch.float32).unsqueeze(0)


def init_vit_weights(module: nn.Module, *, xavier: bool = False) -> None:
    """MMAction2's ``init_cfg``: Linear weights truncated normal (std 0.02, cut at +-2), biases 0,
    LayerNorm 1 / 0; ``xavier``: VideoMAE's pre-training code (xavier-uniform Linear weights)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            if xavier:
                nn.init.xavier_uniform_(m.weight)
            else:
                nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def drop_path_rates(rate: float, depth: int) -> list[float]:
    """Stochastic depth rising linearly from 0 in the first block to ``rate`` in the last."""
    return torch.linspace(0, rate, depth, device="cpu").tolist()  # on the CPU under a meta default device


class VisionTransformer(PretrainedMixin):
    """VideoMAE's ViT: clips ``[N, C, T, H, W]`` -> features ``[N, embed_dims]``.

    Cubes of ``tubelet_size`` frames x ``patch_size`` x ``patch_size`` pixels become tokens
    (``T / tubelet_size * (H / patch) * (W / patch)`` of them, time-major), plus a fixed sinusoid
    position table (bicubically resized for another frame size), then ``depth`` pre-norm blocks;
    the output is the ``fc_norm`` of the mean token (``use_mean_pooling``), else the first token
    after ``norm``, or with ``return_feat_map`` the tokens as ``[N, C, T', H', W']``.

    :param img_size: frame size the position table is made for.
    :param patch_size: spatial side of a cube.
    :param in_channels: input channels.
    :param embed_dims: token width.
    :param depth: transformer blocks.
    :param num_heads: attention heads.
    :param mlp_ratio: MLP hidden width / ``embed_dims``.
    :param qkv_bias: learn ``q_bias`` and ``v_bias``.
    :param qk_scale: attention scale (default ``head_dims ** -0.5``).
    :param drop_rate: dropout after the position embedding, the MLP and the projection.
    :param attn_drop_rate: dropout of the attention weights.
    :param drop_path_rate: stochastic depth of the last block (linear from 0).
    :param norm_eps: LayerNorm epsilon (MMAction2: ``norm_cfg = dict(type='LN', eps=1e-6)``).
    :param init_values: LayerScale initial value; 0 turns LayerScale off (MMAction2's configs).
    :param use_learnable_pos_emb: a learnt position embedding instead of the sinusoid table.
    :param num_frames: frames per clip the position table is made for.
    :param tubelet_size: temporal side of a cube.
    :param use_mean_pooling: mean of the tokens + ``fc_norm`` (fine-tuning) instead of ``norm``.
    :param return_feat_map: return the token map ``[N, C, T', H', W']``.
    :param pretrained: weights to start from, loaded non-strictly after the model is built: a
        recognizer checkpoint's ``backbone.*`` tensors or a bare state dict, e.g. a
        ``masked_video_pretraining`` checkpoint (its encoder ``norm`` is left out when fine-tuning
        with mean pooling, whose ``fc_norm`` starts fresh, as VideoMAE's fine-tuning does).
    """

    def __init__(
        self, *, img_size: int = 224, patch_size: int = 16, in_channels: int = 3, embed_dims: int = 768,
        depth: int = 12, num_heads: int = 12, mlp_ratio: float = 4.0, qkv_bias: bool = True,
        qk_scale: float | None = None, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0, norm_eps: float = 1e-6, init_values: float = 0.0,
        use_learnable_pos_emb: bool = False, num_frames: int = 16, tubelet_size: int = 2,
        use_mean_pooling: bool = True, return_feat_map: bool = False, pretrained: str | None = None,
    ):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f"videomae embed_dims {embed_dims} is not a multiple of num_heads {num_heads}")
        if img_size % patch_size or num_frames % tubelet_size:
            raise ValueError(f"videomae img_size {img_size} must be a multiple of patch_size {patch_size} "
                             f"and num_frames {num_frames} of tubelet_size {tubelet_size}")
        self.embed_dims = embed_dims
        self.out_channels = embed_dims
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.num_frames = num_frames
        self.patch_embed = nn.Module()  # mmcv PatchEmbed: the conv is ``projection``
        self.patch_embed.projection = nn.Conv3d(in_channels, embed_dims, (tubelet_size, patch_size, patch_size),
                                                stride=(tubelet_size, patch_size, patch_size))
        grid = img_size // patch_size
        self.grid_size = (grid, grid)
        num_patches = grid * grid * (num_frames // tubelet_size)
        if use_learnable_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, embed_dims))
        else:
            self.register_buffer("pos_embed", sinusoid_table(num_patches, embed_dims))
        self.pos_drop = nn.Dropout(drop_rate)
        self.blocks = nn.ModuleList([
            Block(embed_dims, num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, qk_scale=qk_scale,
                  drop_rate=drop_rate, attn_drop_rate=attn_drop_rate, drop_path_rate=rate,
                  init_values=init_values, norm_eps=norm_eps)
            for rate in drop_path_rates(drop_path_rate, depth)])
        if use_mean_pooling:
            self.norm = nn.Identity()
            self.fc_norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        else:
            self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
            self.fc_norm = None
        self.return_feat_map = return_feat_map
        if not self.patch_embed.projection.weight.is_meta:
            init_vit_weights(self)
            if use_learnable_pos_emb:
                nn.init.trunc_normal_(self.pos_embed, std=0.02, a=-2.0, b=2.0)
        self.pretrained = pretrained

    def position_embedding(self, h: int, w: int) -> torch.Tensor:
        """The position table for a ``h x w`` token grid (bicubic resize per time step when it
        is not the grid the table was made for, as MMAction2 does)."""
        if (h, w) == self.grid_size:
            return self.pos_embed
        table = self.pos_embed.reshape(-1, *self.grid_size, self.embed_dims).permute(0, 3, 1, 2)
        table = F.interpolate(table, size=(h, w), mode="bicubic", align_corners=False)
        return table.permute(0, 2, 3, 1).reshape(1, -1, self.embed_dims)

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
        """Clips -> position-embedded tokens ``[N, L, C]`` and the token grid ``(t, h, w)``."""
        if x.dim() != 5:
            raise ValueError(f"videomae expects [N, C, T, H, W] clips, got shape {tuple(x.shape)}")
        tokens = self.patch_embed.projection(x)
        grid = tuple(tokens.shape[2:])
        tokens = tokens.flatten(2).transpose(1, 2)
        pos = self.position_embedding(grid[1], grid[2])
        if pos.shape[1] != tokens.shape[1]:
            raise ValueError(f"videomae was built for num_frames = {self.num_frames} (tubelet_size "
                             f"{self.tubelet_size}), got clips of {x.shape[2]} frames")
        return self.pos_drop(tokens + pos), grid

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Clips ``[N, C, T, H, W]`` -> ``[N, embed_dims]`` (or the feature map).

        ``mask`` (bool ``[N, L]``, True = hidden, the same count in every row): VideoMAE's
        pre-training encoder: only the visible tokens pass, and their ``norm``-ed features
        ``[N, visible, embed_dims]`` are returned.
        """
        tokens, (t, h, w) = self.embed(x)
        if mask is not None:
            tokens = tokens[~mask].reshape(tokens.shape[0], -1, tokens.shape[2])
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)
        if mask is not None:
            return tokens
        if self.return_feat_map:
            return tokens.reshape(x.shape[0], t, h, w, -1).permute(0, 4, 1, 2, 3)
        if self.fc_norm is not None:
            return self.fc_norm(tokens.mean(1))
        return tokens[:, 0]

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A recognizer's / pre-training run's ``backbone.*`` tensors (or a bare ViT state dict),
        non-strictly: tensors of another name or shape are skipped (logged), and ours that the
        file lacks (``fc_norm`` after pre-training) keep their initialisation."""
        state = backbone_weights(state)
        own = self.state_dict()
        usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
        skipped = sorted(k for k in state if k not in usable)
        missing = sorted(k for k in own if k not in usable)
        if not usable:
            raise CheckpointError(f"no tensor fits the VideoMAE ViT (e.g. {sorted(state)[:3]})")
        logger.info("videomae: loaded %d tensors from %s", len(usable), self.pretrained)
        if skipped or missing:
            logger.warning("videomae: %s: %d tensors not used (e.g. %s), %d left at their initial values "
                           "(e.g. %s)", self.pretrained, len(skipped), skipped[:3], len(missing), missing[:3])
        return {**own, **usable}


__all__ = ["Attention", "Block", "VisionTransformer", "drop_path_rates", "init_vit_weights",
           "sinusoid_table"]
