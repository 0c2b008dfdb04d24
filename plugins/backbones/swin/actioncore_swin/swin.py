"""Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022) as MMAction2 1.2.0's
``SwinTransformer3D`` builds it, without mmcv or einops.

Module, parameter and buffer names are MMAction2's (``patch_embed.proj``,
``layers.i.blocks.j.attn.relative_position_bias_table``, ``...attn.relative_position_index``,
``layers.i.downsample.reduction``, ``norm3``, ...), so its checkpoints load with identical keys.

Window attention runs through :func:`torch.nn.functional.scaled_dot_product_attention`: the
relative position bias and, for shifted windows, the mask between tokens of different regions are
added together into one float ``attn_mask``. The mask is -inf where MMAction2's is -100: its weights
after the softmax, exp(-100) ~ 4e-44, are float32 denormals, which the CPU computes about 2x slower
in the softmax and its backward (measured on Swin-T's first stage); they round to nothing in the
output, so converted checkpoints give MMAction2's outputs (``benchmarks/parity/swin.py``).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from math import ceil

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from actioncore.sdk import CheckpointError
from actioncore.sdk.layers import Conv3d, DropPath, linear_drop_path_rates
from actioncore.sdk.weights import PretrainedMixin, backbone_weights

logger = logging.getLogger("actioncore.swin")

ARCHS: dict[str, dict[str, object]] = {
    "tiny": {"embed_dims": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24)},
    "small": {"embed_dims": 96, "depths": (2, 2, 18, 2), "num_heads": (3, 6, 12, 24)},
    "base": {"embed_dims": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32)},
    "large": {"embed_dims": 192, "depths": (2, 2, 18, 2), "num_heads": (6, 12, 24, 48)},
}
"""MMAction2's ``arch_zoo`` (its one-letter aliases ``t``/``s``/``b``/``l`` are accepted too)."""

Size3 = tuple[int, int, int]


def window_partition(x: torch.Tensor, window: Size3) -> torch.Tensor:
    """``[B, D, H, W, C]`` -> ``[B * windows, wd * wh * ww, C]`` (windows in D, H, W order)."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def window_reverse(windows: torch.Tensor, window: Size3, b: int, d: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`."""
    x = windows.view(b, d // window[0], h // window[1], w // window[2], window[0], window[1], window[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def fit_window(size: Sequence[int], window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """MMAction2's ``get_window_size``: an axis no longer than the window is one window, unshifted."""
    use_window, use_shift = list(window), list(shift)
    for i, n in enumerate(size):
        if n <= window[i]:
            use_window[i], use_shift[i] = n, 0
    return tuple(use_window), tuple(use_shift)  # type: ignore[return-value]


@lru_cache(maxsize=32)
def shift_mask(d: int, h: int, w: int, window: Size3, shift: Size3, device: torch.device) -> torch.Tensor:
    """``[windows, N, N]``: 0 between tokens of one region of the rolled map, -inf otherwise
    (MMAction2's ``compute_mask``, with -inf for its -100: see the module's docstring)."""
    regions = torch.zeros((1, d, h, w, 1), device=device)
    count = 0
    for ds in (slice(-window[0]), slice(-window[0], -shift[0]), slice(-shift[0], None)):
        for hs in (slice(-window[1]), slice(-window[1], -shift[1]), slice(-shift[1], None)):
            for ws in (slice(-window[2]), slice(-window[2], -shift[2]), slice(-shift[2], None)):
                regions[:, ds, hs, ws, :] = count
                count += 1
    windows = window_partition(regions, window).squeeze(-1)
    diff = windows.unsqueeze(1) - windows.unsqueeze(2)
    return torch.zeros_like(diff).masked_fill(diff != 0, float("-inf"))


def relative_position_index(window: Size3) -> torch.Tensor:
    """``[N, N]`` index into the ``(2wd-1)(2wh-1)(2ww-1)`` relative-position bias table."""
    coords = torch.stack(torch.meshgrid(*(torch.arange(n) for n in window), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    for i in range(3):
        rel[:, :, i] += window[i] - 1
    rel[:, :, 0] *= (2 * window[1] - 1) * (2 * window[2] - 1)
    rel[:, :, 1] *= 2 * window[2] - 1
    return rel.sum(-1)


def _attention_with_bias_grad(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, bias: torch.Tensor,
                              mask: torch.Tensor | None, scale: float, dropout_p: float) -> torch.Tensor:
    """softmax(q k^T * scale + bias + mask) v, written out: on the CPU, when the bias needs a
    gradient (training), SDPA can only take its unfused path, about 1.25x slower than this
    (measured at Swin-T's first stage, one thread); inference keeps SDPA's fused kernel.

    ``q`` ``[clips * windows, heads, N, d]``, ``bias`` ``[heads, N, N]``, ``mask`` ``[windows, N, N]``:
    the mask goes in in place (the addition's backward needs neither operand), saving a pass over
    and an allocation of the largest tensor of the block; on the logits themselves, not a view of
    them, which autograd would copy back in the backward pass."""
    if mask is not None:  # [clips, windows, heads, N, d], so that the mask broadcasts
        q, k, v = (t.unflatten(0, (-1, mask.shape[0])) for t in (q, k, v))
    logits = (q * scale) @ k.transpose(-2, -1) + bias
    if mask is not None:
        logits.add_(mask.unsqueeze(1))
    x = F.dropout(logits.softmax(dim=-1), dropout_p) @ v
    return x if mask is None else x.flatten(0, 1)


class WindowAttention3D(nn.Module):
    """Multi-head self-attention inside each window, with a learned relative position bias."""

    def __init__(self, embed_dims: int, window_size: Size3, num_heads: int, *, qkv_bias: bool,
                 qk_scale: float | None, attn_drop: float, proj_drop: float):
        super().__init__()
        self.num_heads = num_heads
        self.scale = qk_scale or (embed_dims // num_heads) ** -0.5
        self.attn_drop = attn_drop
        table = (2 * window_size[0] - 1) * (2 * window_size[1] - 1) * (2 * window_size[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window_size))
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        if not self.relative_position_bias_table.is_meta:
            nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02, a=-2.0, b=2.0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``[B * windows, N, C]``; ``mask`` ``[windows, N, N]`` of 0 / -inf or None."""
        bw, n, c = x.shape
        q, k, v = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        index = self.relative_position_index[:n, :n].reshape(-1)
        bias = self.relative_position_bias_table[index].reshape(n, n, -1).permute(2, 0, 1)  # [heads, N, N]
        dropout = self.attn_drop if self.training else 0.0
        if bias.requires_grad and torch.is_grad_enabled() and q.is_cpu:
            x = _attention_with_bias_grad(q, k, v, bias=bias.to(q.dtype), scale=self.scale, dropout_p=dropout,
                                          mask=None if mask is None else mask.to(q.dtype))
        elif mask is None:
            # torch's fused CPU kernel takes a 4-D mask whose batch is 1 or q's; a 3-D bias or 5-D
            # inputs fall back to the unfused path, 2-5x slower here
            x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0).to(q.dtype), scale=self.scale,
                                               dropout_p=dropout)
        else:  # the windows of each clip share the shift mask: one call per clip, no copied mask
            windows = mask.shape[0]
            full = (bias.unsqueeze(0) + mask.unsqueeze(1).to(bias.dtype)).to(q.dtype)  # [windows, heads, N, N]
            parts = [F.scaled_dot_product_attention(q[i:i + windows], k[i:i + windows], v[i:i + windows],
                                                    attn_mask=full, scale=self.scale, dropout_p=dropout)
                     for i in range(0, bw, windows)]
            x = parts[0] if len(parts) == 1 else torch.cat(parts)
        x = x.reshape(bw, self.num_heads, n, -1)
        return self.proj_drop(self.proj(x.transpose(1, 2).reshape(bw, n, c)))


class Mlp(nn.Module):
    """``fc1`` -> GELU -> dropout -> ``fc2`` -> dropout."""

    def __init__(self, in_features: int, hidden_features: int, drop: float):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class SwinTransformerBlock3D(nn.Module):
    """Pre-norm (shifted-)window attention and MLP, each with a residual and drop path.

    ``with_cp`` recomputes each half in the backward pass (:func:`torch.utils.checkpoint.checkpoint`,
    as MMAction2 splits it) instead of keeping its activations.
    """

    def __init__(self, embed_dims: int, num_heads: int, *, window_size: Size3, shift_size: Size3,
                 mlp_ratio: float, qkv_bias: bool, qk_scale: float | None, drop: float, attn_drop: float,
                 drop_path: float, with_cp: bool):
        super().__init__()
        if not all(0 <= s < w for s, w in zip(shift_size, window_size)):
            raise ValueError(f"swin shift_size {shift_size} must lie in [0, window_size {window_size})")
        self.window_size, self.shift_size, self.with_cp = window_size, shift_size, with_cp
        self.norm1 = nn.LayerNorm(embed_dims)
        self.attn = WindowAttention3D(embed_dims, window_size, num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                                      attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(embed_dims)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), drop)

    def forward_part1(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, d, h, w, c = x.shape
        window, shift = fit_window((d, h, w), self.window_size, self.shift_size)
        x = self.norm1(x)
        pads = [(window[i] - n % window[i]) % window[i] for i, n in enumerate((d, h, w))]
        x = F.pad(x, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        windows = self.attn(window_partition(x, window), mask=mask if shifted else None)
        x = window_reverse(windows.view(-1, *window, c), window, b, dp, hp, wp)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        if any(pads):
            x = x[:, :d, :h, :w, :].contiguous()
        return x

    def forward_part2(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path(self.mlp(self.norm2(x)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, D, H, W, C]``; ``mask`` the stage's shift mask."""
        if self.with_cp and self.training and torch.is_grad_enabled():
            x = x + self.drop_path(checkpoint(self.forward_part1, x, mask, use_reentrant=False))
            return x + checkpoint(self.forward_part2, x, use_reentrant=False)
        x = x + self.drop_path(self.forward_part1(x, mask))
        return x + self.forward_part2(x)


class PatchMerging(nn.Module):
    """2x2 spatial neighbours concatenated (``4C``), normalised and projected to ``2C``."""

    def __init__(self, embed_dims: int):
        super().__init__()
        self.out_embed_dims = 2 * embed_dims
        self.reduction = nn.Linear(4 * embed_dims, 2 * embed_dims, bias=False)
        self.norm = nn.LayerNorm(4 * embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w, _ = x.shape
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class BasicLayer(nn.Module):
    """One stage: ``depth`` blocks alternating plain and shifted windows, then (except the
    last stage) patch merging."""

    def __init__(self, embed_dims: int, depth: int, num_heads: int, *, window_size: Size3, drop_paths: list[float],
                 downsample: bool, with_cp: bool, **block: object):
        super().__init__()
        self.window_size = window_size
        self.shift_size = tuple(i // 2 for i in window_size)
        self.blocks = nn.ModuleList([
            SwinTransformerBlock3D(embed_dims, num_heads, window_size=window_size,
                                   shift_size=(0, 0, 0) if i % 2 == 0 else self.shift_size,
                                   drop_path=drop_paths[i], with_cp=with_cp, **block)  # type: ignore[arg-type]
            for i in range(depth)])
        self.downsample = PatchMerging(embed_dims) if downsample else None
        self.out_embed_dims = 2 * embed_dims if downsample else embed_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, D, H, W]`` -> ``[B, D, H, W, C]`` after the blocks (not yet merged)."""
        _, _, d, h, w = x.shape
        window, shift = fit_window((d, h, w), self.window_size, self.shift_size)
        x = x.permute(0, 2, 3, 4, 1)
        padded = [ceil(n / window[i]) * window[i] for i, n in enumerate((d, h, w))]
        mask = shift_mask(*padded, window, shift, x.device)
        for block in self.blocks:
            x = block(x, mask)
        return x


class PatchEmbed3D(nn.Module):
    """Non-overlapping ``patch_size`` cubes (input zero-padded to multiples) -> ``embed_dims``,
    then LayerNorm when ``patch_norm``."""

    def __init__(self, patch_size: Size3, in_channels: int, embed_dims: int, *, patch_norm: bool):
        super().__init__()
        self.patch_size = patch_size
        self.proj = Conv3d(in_channels, embed_dims, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dims) if patch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, d, h, w = x.shape
        p = self.patch_size
        x = F.pad(x, (0, (p[2] - w % p[2]) % p[2], 0, (p[1] - h % p[1]) % p[1], 0, (p[0] - d % p[0]) % p[0]))
        x = self.proj(x)
        if self.norm is not None:
            x = self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)
        return x


def _triple(value: int | Sequence[int], name: str) -> Size3:
    out = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(out) != 3:
        raise ValueError(f"swin {name} must be an int or 3 ints (T, H, W), got {value!r}")
    return out  # type: ignore[return-value]


class SwinTransformer3D(PretrainedMixin):
    """Video Swin: ``[N, C, T, H, W]`` clips -> last-stage features ``[N, C', T/2, H/32, W/32]``.

    :param arch: ``tiny`` / ``small`` / ``base`` / ``large`` (or ``t``/``s``/``b``/``l``), or a table
        with ``embed_dims``, ``depths`` and ``num_heads``.
    :param patch_size: the patch cube (T, H, W).
    :param in_channels: input channels.
    :param window_size: the attention window (T, H, W); shifted blocks roll by half of it.
    :param mlp_ratio: MLP width over the token width.
    :param qkv_bias: bias of the query/key/value projection.
    :param qk_scale: attention scale instead of ``head_dim ** -0.5``.
    :param drop_rate: dropout after the patch embedding, in the MLPs and after the projections.
    :param attn_drop_rate: dropout of the attention weights.
    :param drop_path_rate: stochastic depth of the last block, rising linearly from 0 over all blocks.
    :param patch_norm: LayerNorm after the patch embedding.
    :param frozen_stages: freeze the patch embedding (0) and the first ``frozen_stages`` stages.
    :param with_cp: gradient checkpointing in every block (less memory, one more forward).
    :param out_after_downsample: MMAction2's option: the output is taken after the last stage's
        patch merging (only meaningful with fewer than 4 stages).
    :param pretrained: a local 2D Swin checkpoint (``{'model': ...}``, e.g. MMAction2's
        ``swin_tiny_patch4_window7_224.pth``; inflated as MMAction2's ``pretrained2d`` does: the
        patch kernel repeated over time / ``patch_size[0]``, the bias tables resized bicubically
        and repeated ``2 * window_size[0] - 1`` times, ``norm`` renamed ``norm3``), or a 3D Swin /
        recognizer checkpoint (its ``backbone.*`` tensors) loaded as it is.
    """

    def __init__(
        self, *, arch: str | dict = "tiny", patch_size: int | Sequence[int] = (2, 4, 4), in_channels: int = 3,
        window_size: int | Sequence[int] = (8, 7, 7), mlp_ratio: float = 4.0, qkv_bias: bool = True,
        qk_scale: float | None = None, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1, patch_norm: bool = True, frozen_stages: int = -1, with_cp: bool = False,
        out_after_downsample: bool = False, pretrained: str | None = None,
    ):
        super().__init__()
        if isinstance(arch, str):
            aliases = {a[0]: a for a in ARCHS}
            name = aliases.get(arch.lower(), arch.lower())
            if name not in ARCHS:
                raise ValueError(f"swin arch {arch!r}: expected one of {sorted(ARCHS)} or a table")
            settings = ARCHS[name]
        else:
            if set(arch) != {"embed_dims", "depths", "num_heads"}:
                raise ValueError(f"swin arch table needs exactly embed_dims, depths, num_heads; got {sorted(arch)}")
            settings = arch
        self.embed_dims = int(settings["embed_dims"])  # type: ignore[arg-type]
        depths, heads = list(settings["depths"]), list(settings["num_heads"])  # type: ignore[call-overload]
        if len(depths) != len(heads) or not 1 <= len(depths) <= 4:
            raise ValueError(f"swin depths {depths} and num_heads {heads} must be 1-4 stages of equal length")
        self.patch_size = _triple(patch_size, "patch_size")
        self.window_size = _triple(window_size, "window_size")
        self.frozen_stages = frozen_stages
        self.out_after_downsample = out_after_downsample
        self.patch_embed = PatchEmbed3D(self.patch_size, in_channels, self.embed_dims, patch_norm=patch_norm)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = linear_drop_path_rates(drop_path_rate, sum(depths))
        self.layers = nn.ModuleList()
        dims = [self.embed_dims]
        for i, (depth, num_heads) in enumerate(zip(depths, heads)):
            layer = BasicLayer(dims[-1], depth, num_heads, window_size=self.window_size,
                               drop_paths=rates[:depth], downsample=i < len(depths) - 1, with_cp=with_cp,
                               mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, qk_scale=qk_scale, drop=drop_rate,
                               attn_drop=attn_drop_rate)
            rates = rates[depth:]
            self.layers.append(layer)
            dims.append(layer.out_embed_dims)
        last = len(depths) - 1
        self.out_channels = dims[last + 1] if out_after_downsample else dims[last]
        self.add_module(f"norm{last}", nn.LayerNorm(self.out_channels))
        self._last = last
        self._init_weights()
        self.pretrained = pretrained
        self._freeze_stages()

    def _init_weights(self) -> None:
        """MMAction2's ``init_cfg``: Linear truncated normal (std 0.02, bias 0), LayerNorm (1, 0)."""
        for m in self.modules():
            if isinstance(m, nn.Linear) and not m.weight.is_meta:
                nn.init.trunc_normal_(m.weight, std=0.02, a=-2.0, b=2.0)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _freeze_stages(self) -> None:
        frozen = ([self.patch_embed] if self.frozen_stages >= 0 else []) + list(self.layers[:max(self.frozen_stages, 0)])
        for module in frozen:
            module.eval()
            for p in module.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> "SwinTransformer3D":
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``[N, C, T, H, W]`` -> normalised last-stage features ``[N, C', T', H', W']``."""
        if x.dim() != 5:
            raise ValueError(f"swin expects [N, C, T, H, W] clips, got shape {tuple(x.shape)}")
        x = self.pos_drop(self.patch_embed(x))
        for i, layer in enumerate(self.layers):
            x = layer(x.contiguous())
            if i == self._last:
                if layer.downsample is not None and self.out_after_downsample:
                    x = layer.downsample(x)
                return getattr(self, f"norm{i}")(x).permute(0, 4, 1, 2, 3).contiguous()
            x = layer.downsample(x).permute(0, 4, 1, 2, 3)
        raise AssertionError("unreachable")

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if "model" in state and isinstance(state["model"], dict):  # an official 2D Swin file
            state = state["model"]
        state = backbone_weights(state)
        weight = state.get("patch_embed.proj.weight")
        if weight is not None and weight.dim() == 4:
            state = self.inflate_2d(state)
        own = self.state_dict()
        wrong = [k for k, v in state.items() if k in own and v.shape != own[k].shape]
        if wrong:
            raise CheckpointError(f"swin: tensors of other shapes, e.g. {wrong[:3]}")
        usable = {k: v for k, v in state.items() if k in own}
        missing = sorted(set(own) - set(usable))
        if missing:
            logger.warning("swin: %s: %d tensors left at their initial values (e.g. %s)", self.pretrained,
                           len(missing), missing[:3])
        return {**own, **usable}

    def inflate_2d(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2's ``inflate_weights``: a 2D Swin state dict made to fit this 3D model."""
        own = self.state_dict()
        out = {k: v for k, v in state.items() if "relative_position_index" not in k and "attn_mask" not in k}
        t = self.patch_size[0]
        out["patch_embed.proj.weight"] = out["patch_embed.proj.weight"].unsqueeze(2).repeat(1, 1, t, 1, 1) / t
        wd, wh, ww = self.window_size
        for key in [k for k in out if "relative_position_bias_table" in k]:
            table = out[key]
            if key not in own or table.shape[1] != own[key].shape[1]:
                logger.warning("swin: %s does not fit (heads differ), not loaded", key)
                del out[key]
                continue
            plane = (2 * wh - 1) * (2 * ww - 1)
            if table.shape[0] != plane:
                side = int(table.shape[0] ** 0.5)
                table = F.interpolate(table.permute(1, 0).reshape(1, -1, side, side),
                                      size=(2 * wh - 1, 2 * ww - 1), mode="bicubic")
                table = table.reshape(-1, plane).permute(1, 0)
            out[key] = table.repeat(2 * wd - 1, 1)
        if f"norm{self._last}.weight" in own and "norm.weight" in out:
            out[f"norm{self._last}.weight"] = out.pop("norm.weight")
            out[f"norm{self._last}.bias"] = out.pop("norm.bias")
        return out
