"""MViT v2 (Li et al., "MViTv2: Improved Multiscale Vision Transformers for Classification and
Detection", CVPR 2022) as MMAction2 1.2.0's ``MViT`` builds it, without mmcv.

Names are MMAction2's (``patch_embed.projection``, ``blocks.i.attn.qkv``, ``...attn.pool_q``,
``...attn.norm_q``, ``...attn.rel_pos_t``, ``blocks.i.pool_skip``, ``norm3``, ...), so its
checkpoints load with identical keys. Attention runs through
:func:`torch.nn.functional.scaled_dot_product_attention`; the decomposed relative position terms
(``q . R_t + q . R_h + q . R_w``, none for the cls token) go in as its float ``attn_mask``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from actioncore.sdk.layers import Conv3d, DropPath, linear_drop_path_rates
from actioncore.sdk.weights import PretrainedMixin

ARCHS: dict[str, dict[str, object]] = {
    "tiny": {"embed_dims": 96, "num_layers": 10, "num_heads": 1, "downscale_indices": (1, 3, 8)},
    "small": {"embed_dims": 96, "num_layers": 16, "num_heads": 1, "downscale_indices": (1, 3, 14)},
    "base": {"embed_dims": 96, "num_layers": 24, "num_heads": 1, "downscale_indices": (2, 5, 21)},
    "large": {"embed_dims": 144, "num_layers": 48, "num_heads": 2, "downscale_indices": (2, 8, 44)},
}
"""MMAction2's ``arch_zoo``."""

Size3 = tuple[int, int, int]


def resize_rel_pos(rel_pos: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """``[q_size, k_size, head_dim]`` embeddings of the relative positions between query and key
    positions of one axis, the table linearly resized when its length does not fit."""
    max_dist = 2 * max(q_size, k_size) - 1
    if rel_pos.shape[0] != max_dist:
        rel_pos = F.interpolate(rel_pos.transpose(0, 1).unsqueeze(0), size=max_dist, mode="linear")
        rel_pos = rel_pos.squeeze(0).transpose(0, 1)
    q_ratio, k_ratio = max(k_size / q_size, 1.0), max(q_size / k_size, 1.0)
    coords = (torch.arange(q_size, device=rel_pos.device)[:, None] * q_ratio
              - torch.arange(k_size, device=rel_pos.device)[None, :] * k_ratio + (k_size - 1) * k_ratio)
    return rel_pos[coords.long()]


def rel_pos_bias(q: torch.Tensor, q_shape: Size3, k_shape: Size3, rel_pos_t: torch.Tensor,
                 rel_pos_h: torch.Tensor, rel_pos_w: torch.Tensor, *, cls_token: bool) -> torch.Tensor:
    """``[B, heads, Lq, Lk]`` additive logits of MMAction2's ``add_decomposed_rel_pos`` (zero in the
    cls token's row and column)."""
    b, heads, lq, c = q.shape
    s = int(cls_token)
    r_q = q[:, :, s:].reshape(b, heads, *q_shape, c)
    rel = [torch.einsum("bythwc,tkc->bythwk", r_q, resize_rel_pos(rel_pos_t, q_shape[0], k_shape[0])),
           torch.einsum("bythwc,hkc->bythwk", r_q, resize_rel_pos(rel_pos_h, q_shape[1], k_shape[1])),
           torch.einsum("bythwc,wkc->bythwk", r_q, resize_rel_pos(rel_pos_w, q_shape[2], k_shape[2]))]
    partial = rel[0][..., :, None, None] + rel[1][..., None, :, None]  # [..., kt, kh, 1]: small
    # the sum is written straight into the mask (not summed, then padded: two more passes over
    # the largest tensor of the block and a zero fill of it)
    bias = q.new_empty(b, heads, lq, s + k_shape[0] * k_shape[1] * k_shape[2])
    if s:  # no bias in the cls token's row and column
        bias[:, :, 0].zero_()
        bias[:, :, 1:, 0].zero_()
    grid = bias[:, :, s:, s:].view(b, heads, *q_shape, *k_shape)
    last = rel[2][..., None, None, :]
    if torch.is_grad_enabled() and (partial.requires_grad or last.requires_grad):
        grid.copy_(partial + last)  # out= has no gradient
    else:
        torch.add(partial, last, out=grid)
    return bias


def attention_pool(x: torch.Tensor, pool: nn.Module, in_size: Size3, *, cls_token: bool,
                   norm: nn.Module | None = None) -> tuple[torch.Tensor, Size3]:
    """Pool the patch tokens of ``x`` (``[B, heads, L, C]`` or ``[B, L, C]``) on their T x H x W
    grid; the cls token passes unpooled. Returns the tokens and the pooled grid size."""
    squeeze = x.dim() == 3
    if squeeze:
        x = x.unsqueeze(1)
    b, heads, length, c = x.shape
    t, h, w = in_size
    if length != t * h * w + int(cls_token):
        raise ValueError(f"mvit: {length} tokens do not fit a {t}x{h}x{w} grid")
    if cls_token:
        cls, x = x[:, :, :1], x[:, :, 1:]
    x = pool(x.reshape(b * heads, t, h, w, c).permute(0, 4, 1, 2, 3).contiguous())
    out_size = tuple(x.shape[2:])
    x = x.reshape(b, heads, c, -1).transpose(2, 3)
    if cls_token:
        x = torch.cat((cls, x), dim=2)
    if norm is not None:
        x = norm(x)
    return (x.squeeze(1) if squeeze else x), out_size  # type: ignore[return-value]


class MLP(nn.Module):
    """``fc1`` -> GELU -> ``fc2`` (output width may differ from the input's)."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiScaleAttention(nn.Module):
    """Pooling attention: queries, keys and values each pooled by a depthwise strided Conv3d and
    normalised, decomposed relative positions, and the pooled query added back (residual pooling)."""

    def __init__(self, in_dims: int, out_dims: int, num_heads: int, *, qkv_bias: bool, norm_eps: float,
                 pool_kernel: Size3, stride_q: Size3, stride_kv: Size3, rel_pos_embed: bool,
                 residual_pooling: bool, input_size: Size3, rel_pos_zero_init: bool, with_cls_token: bool):
        super().__init__()
        self.num_heads, self.out_dims, self.with_cls_token = num_heads, out_dims, with_cls_token
        head_dim = out_dims // num_heads
        self.scale = head_dim ** -0.5
        self.qkv = nn.Linear(in_dims, out_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dims, out_dims)
        padding = tuple(k // 2 for k in pool_kernel)

        def pooling(stride: Sequence[int]) -> tuple[nn.Module, nn.Module]:
            conv = Conv3d(head_dim, head_dim, pool_kernel, stride=tuple(stride), padding=padding, groups=head_dim,
                          bias=False)
            return conv, nn.LayerNorm(head_dim, eps=norm_eps)

        self.pool_q, self.norm_q = pooling(stride_q)
        self.pool_k, self.norm_k = pooling(stride_kv)
        self.pool_v, self.norm_v = pooling(stride_kv)
        self.residual_pooling = residual_pooling
        self.rel_pos_embed = rel_pos_embed
        if rel_pos_embed:
            if input_size[1] != input_size[2]:
                raise ValueError(f"mvit relative positions need a square grid, got {input_size}")
            size = input_size[1]
            rel_dim = 2 * max(size // stride_q[1], size // stride_kv[1]) - 1
            self.rel_pos_h = nn.Parameter(torch.zeros(rel_dim, head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(rel_dim, head_dim))
            self.rel_pos_t = nn.Parameter(torch.zeros(2 * input_size[0] - 1, head_dim))
            if not rel_pos_zero_init and not self.rel_pos_h.is_meta:
                for p in (self.rel_pos_h, self.rel_pos_w, self.rel_pos_t):
                    nn.init.trunc_normal_(p, std=0.02, a=-2.0, b=2.0)

    def forward(self, x: torch.Tensor, in_size: Size3) -> tuple[torch.Tensor, Size3]:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        cls = self.with_cls_token
        q, q_shape = attention_pool(q, self.pool_q, in_size, norm=self.norm_q, cls_token=cls)
        k, k_shape = attention_pool(k, self.pool_k, in_size, norm=self.norm_k, cls_token=cls)
        v, _ = attention_pool(v, self.pool_v, in_size, norm=self.norm_v, cls_token=cls)
        bias = None
        if self.rel_pos_embed:
            bias = rel_pos_bias(q, q_shape, k_shape, self.rel_pos_t, self.rel_pos_h, self.rel_pos_w,
                                cls_token=cls)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
        if self.residual_pooling:
            out = out + (F.pad(q[:, :, 1:], (0, 0, 1, 0)) if cls else q)
        return self.proj(out.transpose(1, 2).reshape(b, -1, self.out_dims)), q_shape


class MultiScaleBlock(nn.Module):
    """Pre-norm pooling attention and MLP; where the width grows a Linear ``proj`` makes the skip,
    where the grid shrinks a max pool (``pool_skip``) does."""

    def __init__(self, in_dims: int, out_dims: int, num_heads: int, *, mlp_ratio: float, qkv_bias: bool,
                 drop_path: float, norm_eps: float, qkv_pool_kernel: Size3, stride_q: Size3, stride_kv: Size3,
                 rel_pos_embed: bool, residual_pooling: bool, with_cls_token: bool, dim_mul_in_attention: bool,
                 input_size: Size3, rel_pos_zero_init: bool, with_cp: bool):
        super().__init__()
        self.with_cls_token, self.dim_mul_in_attention, self.with_cp = with_cls_token, dim_mul_in_attention, with_cp
        self.norm1 = nn.LayerNorm(in_dims, eps=norm_eps)
        attn_dims = out_dims if dim_mul_in_attention else in_dims
        self.attn = MultiScaleAttention(
            in_dims, attn_dims, num_heads, qkv_bias=qkv_bias, norm_eps=norm_eps, pool_kernel=qkv_pool_kernel,
            stride_q=stride_q, stride_kv=stride_kv, rel_pos_embed=rel_pos_embed, residual_pooling=residual_pooling,
            input_size=input_size, rel_pos_zero_init=rel_pos_zero_init, with_cls_token=with_cls_token)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(attn_dims, eps=norm_eps)
        self.mlp = MLP(attn_dims, int(attn_dims * mlp_ratio), out_dims)
        self.proj = nn.Linear(in_dims, out_dims) if in_dims != out_dims else None
        if any(s > 1 for s in stride_q):
            kernel = [s + 1 if s > 1 else s for s in stride_q]
            self.pool_skip = nn.MaxPool3d(kernel, stride_q, [k // 2 for k in kernel], ceil_mode=False)
            self.init_out_size: Size3 = tuple(n // s for n, s in zip(input_size, stride_q))  # type: ignore[assignment]
        else:
            self.pool_skip = None
            self.init_out_size = input_size

    def _forward(self, x: torch.Tensor, in_size: Size3) -> tuple[torch.Tensor, Size3]:
        x_norm = self.norm1(x)
        x_attn, out_size = self.attn(x_norm, in_size)
        skip = self.proj(x_norm) if self.dim_mul_in_attention and self.proj is not None else x
        if self.pool_skip is not None:
            skip, _ = attention_pool(skip, self.pool_skip, in_size, cls_token=self.with_cls_token)
        x = skip + self.drop_path(x_attn)
        x_norm = self.norm2(x)
        skip = self.proj(x_norm) if not self.dim_mul_in_attention and self.proj is not None else x
        return skip + self.drop_path(self.mlp(x_norm)), out_size

    def forward(self, x: torch.Tensor, in_size: Size3) -> tuple[torch.Tensor, Size3]:
        """``with_cp``: the block's activations are recomputed in the backward pass."""
        if self.with_cp and self.training and torch.is_grad_enabled():
            return checkpoint(self._forward, x, in_size, use_reentrant=False)
        return self._forward(x, in_size)


class PatchEmbed3D(nn.Module):
    """The overlapping ``kernel_size`` / ``stride`` / ``padding`` Conv3d of MMAction2's patch
    embedding; gives tokens ``[B, T'H'W', C]`` and the grid size."""

    def __init__(self, in_channels: int, embed_dims: int, *, kernel_size: Size3, stride: Size3, padding: Size3,
                 input_size: Size3):
        super().__init__()
        self.projection = Conv3d(in_channels, embed_dims, kernel_size, stride=stride, padding=padding)
        self.init_out_size: Size3 = tuple(  # type: ignore[assignment]
            (n + 2 * p - k) // s + 1 for n, p, k, s in zip(input_size, padding, kernel_size, stride))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Size3]:
        x = self.projection(x)
        return x.flatten(2).transpose(1, 2), tuple(x.shape[2:])  # type: ignore[return-value]


class MViT(PretrainedMixin):
    """MViT v2: ``[N, C, T, H, W]`` clips -> the normalised last-stage cls token ``[N, C']``
    (MMAction2's ``MViTHead`` input), or with ``output_cls_token = false`` the patch tokens
    ``[N, C', T', H', W']``.

    :param arch: ``tiny`` / ``small`` / ``base`` / ``large`` or a table with ``embed_dims``,
        ``num_layers``, ``num_heads``, ``downscale_indices`` (and optionally ``dim_mul_indices``).
    :param spatial_size: frame side the relative position tables are made for.
    :param temporal_size: frames per clip the tables are made for.
    :param in_channels: input channels.
    :param drop_path_rate: stochastic depth of the last block, rising linearly from 0.
    :param use_abs_pos_embed: add a learned absolute position embedding (trilinearly resized for
        other input sizes).
    :param pool_kernel: kernel of the query/key/value pooling.
    :param dim_mul: width factor at each ``dim_mul_indices`` block.
    :param head_mul: heads factor there.
    :param adaptive_kv_stride: key/value pooling stride of the first stage (halved, not below 1,
        at every downscale).
    :param rel_pos_embed: decomposed relative position embeddings.
    :param residual_pooling: add the pooled query to the attention output.
    :param dim_mul_in_attention: widen in the attention (else in the MLP before the next stage).
    :param with_cls_token: prepend a cls token.
    :param output_cls_token: return the cls token (needs ``with_cls_token``).
    :param rel_pos_zero_init: start the relative position tables at zero.
    :param mlp_ratio: MLP width over the token width.
    :param qkv_bias: bias of the query/key/value projection.
    :param norm_eps: LayerNorm epsilon (MMAction2: 1e-6).
    :param patch_kernel: patch embedding kernel; ``patch_stride``, ``patch_padding`` likewise.
    :param with_cp: gradient checkpointing per block.
    :param pretrained: a local MViT / recognizer checkpoint (its ``backbone.*`` tensors).
    """

    def __init__(
        self, *, arch: str | dict = "base", spatial_size: int = 224, temporal_size: int = 16, in_channels: int = 3,
        drop_path_rate: float = 0.0, use_abs_pos_embed: bool = False, pool_kernel: Sequence[int] = (3, 3, 3),
        dim_mul: int = 2, head_mul: int = 2, adaptive_kv_stride: Sequence[int] = (1, 8, 8),
        rel_pos_embed: bool = True, residual_pooling: bool = True, dim_mul_in_attention: bool = True,
        with_cls_token: bool = True, output_cls_token: bool = True, rel_pos_zero_init: bool = False,
        mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-6,
        patch_kernel: Sequence[int] = (3, 7, 7), patch_stride: Sequence[int] = (2, 4, 4),
        patch_padding: Sequence[int] = (1, 3, 3), with_cp: bool = False, pretrained: str | None = None,
    ):
        super().__init__()
        if isinstance(arch, str):
            if arch.lower() not in ARCHS:
                raise ValueError(f"mvit arch {arch!r}: expected one of {sorted(ARCHS)} or a table")
            settings = ARCHS[arch.lower()]
        else:
            needed = {"embed_dims", "num_layers", "num_heads", "downscale_indices"}
            if not needed <= set(arch):
                raise ValueError(f"mvit arch table needs {sorted(needed)}; got {sorted(arch)}")
            settings = arch
        if output_cls_token and not with_cls_token:
            raise ValueError("mvit output_cls_token needs with_cls_token = true")
        self.embed_dims = int(settings["embed_dims"])  # type: ignore[arg-type]
        self.num_layers = int(settings["num_layers"])  # type: ignore[arg-type]
        downscale = list(settings["downscale_indices"])  # type: ignore[call-overload]
        dim_mul_indices = list(settings.get("dim_mul_indices", downscale))  # type: ignore[attr-defined]
        self.with_cls_token, self.output_cls_token = with_cls_token, output_cls_token
        self.patch_embed = PatchEmbed3D(in_channels, self.embed_dims, kernel_size=tuple(patch_kernel),
                                        stride=tuple(patch_stride), padding=tuple(patch_padding),
                                        input_size=(temporal_size, spatial_size, spatial_size))
        self.patch_resolution = self.patch_embed.init_out_size
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        self.use_abs_pos_embed = use_abs_pos_embed
        if use_abs_pos_embed:
            t, h, w = self.patch_resolution
            self.pos_embed = nn.Parameter(torch.zeros(1, t * h * w + 1, self.embed_dims))
        rates = linear_drop_path_rates(drop_path_rate, self.num_layers)
        self.blocks = nn.ModuleList()
        dims, heads = [self.embed_dims], int(settings["num_heads"])  # type: ignore[call-overload]
        stride_kv, input_size = list(adaptive_kv_stride), self.patch_resolution
        for i in range(self.num_layers):
            if i in downscale or i in dim_mul_indices:
                heads *= head_mul
            stride_q = [1, 1, 1]
            if i in downscale:
                stride_q = [1, 2, 2]
                stride_kv = [max(s // 2, 1) for s in stride_kv]
            widen = i in dim_mul_indices if dim_mul_in_attention else i + 1 in dim_mul_indices
            out_dims = dims[-1] * dim_mul if widen else dims[-1]
            block = MultiScaleBlock(
                dims[-1], out_dims, heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop_path=rates[i],
                norm_eps=norm_eps, qkv_pool_kernel=tuple(pool_kernel), stride_q=tuple(stride_q),
                stride_kv=tuple(stride_kv), rel_pos_embed=rel_pos_embed, residual_pooling=residual_pooling,
                with_cls_token=with_cls_token, dim_mul_in_attention=dim_mul_in_attention, input_size=input_size,
                rel_pos_zero_init=rel_pos_zero_init, with_cp=with_cp)
            self.blocks.append(block)
            input_size = block.init_out_size
            dims.append(out_dims)
        self.out_channels = dims[-1]
        self.add_module(f"norm{len(downscale)}", nn.LayerNorm(dims[-1], eps=norm_eps))
        self._norm = f"norm{len(downscale)}"
        self._init_weights()
        self.pretrained = pretrained

    def _init_weights(self) -> None:
        """MMAction2's ``init_cfg``: convolutions truncated normal (std 0.02), Linears truncated
        normal (std 0.02, bias 0.02), LayerNorms weight 1 and bias 0.02; ``pos_embed`` std 0.02."""
        if self.cls_token.is_meta:
            return
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.02 if isinstance(m, nn.Linear) else 0.0)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.constant_(m.bias, 0.02)
        if self.use_abs_pos_embed:
            nn.init.trunc_normal_(self.pos_embed, std=0.02, a=-2.0, b=2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``[N, C, T, H, W]`` -> ``[N, C']`` cls tokens (or patch tokens, see above)."""
        if x.dim() != 5:
            raise ValueError(f"mvit expects [N, C, T, H, W] clips, got shape {tuple(x.shape)}")
        x, size = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        if self.use_abs_pos_embed:
            x = x + self.resized_pos_embed(size)
        if not self.with_cls_token:
            x = x[:, 1:]
        for block in self.blocks:
            x, size = block(x, size)
        x = getattr(self, self._norm)(x)
        if self.output_cls_token:
            return x[:, 0]
        patches = x[:, 1:] if self.with_cls_token else x
        return patches.transpose(1, 2).reshape(x.shape[0], -1, *size)

    def resized_pos_embed(self, size: Size3) -> torch.Tensor:
        """``pos_embed`` for a ``size`` token grid (trilinear, as MMAction2's ``resize_pos_embed``)."""
        if tuple(size) == tuple(self.patch_resolution):
            return self.pos_embed
        t, h, w = self.patch_resolution
        grid = self.pos_embed[:, 1:].reshape(1, t, h, w, -1).permute(0, 4, 1, 2, 3)
        grid = F.interpolate(grid, size=size, mode="trilinear", align_corners=False).flatten(2).transpose(1, 2)
        return torch.cat((self.pos_embed[:, :1], grid), dim=1)
