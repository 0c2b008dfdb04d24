"""TimeSformer (Bertasius et al., ICML 2021) as MMAction2 1.2.0 builds it, without mmcv.

Module and parameter names follow MMAction2's (which come from mmcv 2.1's
``BaseTransformerLayer`` / ``FFN`` / ``MultiheadAttention`` and MMAction2's
``DividedTemporalAttentionWithNorm`` / ``DividedSpatialAttentionWithNorm`` / ``FFNWithNorm``),
e.g. ``transformer_layers.layers.3.attentions.0.attn.in_proj_weight`` or
``transformer_layers.layers.3.ffns.0.layers.0.0.weight``, so an MMAction2 TimeSformer state
dict loads with identical keys. Attention is :class:`torch.nn.MultiheadAttention`, whose
``in_proj_weight``/``out_proj`` are the tensors MMAction2 saves.

Token layout (as MMAction2's): after the patch embedding each clip is one sequence
``[cls, (patch 0, frame 0), (patch 0, frame 1), ..., (patch P-1, frame T-1)]``, patch-major
and frame-minor, for divided and joint attention; ``space_only`` keeps one sequence of
``1 + P`` tokens per frame and averages the frames at the end.
"""
from __future__ import annotations

import logging
from typing import Literal

import torch
from torch import nn

from actioncore.sdk.layers import DropPath
from actioncore.sdk.weights import PretrainedMixin, backbone_weights

logger = logging.getLogger("actioncore.timesformer")

AttentionType = Literal["divided_space_time", "space_only", "joint_space_time"]


class PatchEmbed(nn.Module):
    """Each frame cut into ``patch_size`` squares, projected to ``embed_dims`` by a strided conv."""

    def __init__(self, img_size: int, patch_size: int, in_channels: int, embed_dims: int):
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f"timesformer img_size {img_size} is not a multiple of "
                             f"patch_size {patch_size}")
        self.img_size = img_size
        self.num_patches = (img_size // patch_size) ** 2
        self.projection = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)
        # MMAction2: kaiming_init(mode='fan_in', nonlinearity='linear'), normal, bias 0
        nn.init.kaiming_normal_(self.projection.weight, mode="fan_in", nonlinearity="linear")
        nn.init.zeros_(self.projection.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, T, H, W]`` -> ``[B * T, P, embed_dims]`` (frames of a clip adjacent)."""
        x = x.transpose(1, 2).flatten(0, 1)
        return self.projection(x).flatten(2).transpose(1, 2)


class FFN(nn.Module):
    """mmcv's two-layer ``FFN`` (``layers.0.0`` and ``layers.1`` are the Linears), GELU,
    identity added after DropPath; ``with_norm`` is MMAction2's ``FFNWithNorm`` (pre-norm
    ``norm`` inside, residual from the un-normalised input)."""

    def __init__(self, embed_dims: int, hidden: int, drop_path: float, *, with_norm: bool,
                 eps: float):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(embed_dims, hidden), nn.GELU(), nn.Dropout(0.0)),
            nn.Linear(hidden, embed_dims), nn.Dropout(0.0))
        self.dropout_layer = DropPath(drop_path)
        self.norm = nn.LayerNorm(embed_dims, eps=eps) if with_norm else None

    def forward(self, x: torch.Tensor, identity: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm is not None:
            identity, x = x, self.norm(x)
        return (x if identity is None else identity) + self.dropout_layer(self.layers(x))


class SelfAttention(nn.Module):
    """mmcv's ``MultiheadAttention``: ``identity + DropPath(attn(x, x, x))``."""

    def __init__(self, embed_dims: int, num_heads: int, drop_path: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.dropout_layer = DropPath(drop_path)

    def forward(self, x: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        return identity + self.dropout_layer(self.attn(x, x, x, need_weights=False)[0])


class DividedTemporalAttention(nn.Module):
    """Attention along time only: each patch position attends over its ``num_frames`` tokens.

    MMAction2's ``DividedTemporalAttentionWithNorm``: pre-norm, attention, DropPath, then the
    zero-initialised ``temporal_fc``, added to the patch tokens; the cls token passes unchanged.
    """

    def __init__(self, embed_dims: int, num_heads: int, drop_path: float, eps: float):
        super().__init__()
        self.norm = nn.LayerNorm(embed_dims, eps=eps)
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.dropout_layer = DropPath(drop_path)
        self.temporal_fc = nn.Linear(embed_dims, embed_dims)
        nn.init.zeros_(self.temporal_fc.weight)
        nn.init.zeros_(self.temporal_fc.bias)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        cls, tokens = x[:, :1], x[:, 1:]
        b, pt, m = tokens.shape
        q = self.norm(tokens.reshape(b * (pt // num_frames), num_frames, m))
        res = self.dropout_layer(self.attn(q, q, q, need_weights=False)[0])
        res = self.temporal_fc(res).reshape(b, pt, m)
        return torch.cat((cls, tokens + res), dim=1)


class DividedSpatialAttention(nn.Module):
    """Attention within each frame over its patches and the cls token (copied to every frame;
    its outputs are averaged over the frames). MMAction2's ``DividedSpatialAttentionWithNorm``."""

    def __init__(self, embed_dims: int, num_heads: int, drop_path: float, eps: float):
        super().__init__()
        self.norm = nn.LayerNorm(embed_dims, eps=eps)
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.dropout_layer = DropPath(drop_path)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        b, n, m = x.shape
        t, p = num_frames, (n - 1) // num_frames
        cls = x[:, :1].expand(b, t, m).reshape(b * t, 1, m)
        tokens = x[:, 1:].reshape(b, p, t, m).transpose(1, 2).reshape(b * t, p, m)
        q = self.norm(torch.cat((cls, tokens), dim=1))
        res = self.dropout_layer(self.attn(q, q, q, need_weights=False)[0])
        res_cls = res[:, 0].reshape(b, t, m).mean(dim=1, keepdim=True)
        res_tokens = res[:, 1:].reshape(b, t, p, m).transpose(1, 2).reshape(b, p * t, m)
        return x + torch.cat((res_cls, res_tokens), dim=1)


class DividedLayer(nn.Module):
    """``operation_order = ('self_attn', 'self_attn', 'ffn')``: temporal, spatial, FFN."""

    def __init__(self, embed_dims: int, num_heads: int, drop_path: float, eps: float):
        super().__init__()
        self.attentions = nn.ModuleList([
            DividedTemporalAttention(embed_dims, num_heads, drop_path, eps),
            DividedSpatialAttention(embed_dims, num_heads, drop_path, eps)])
        self.ffns = nn.ModuleList([FFN(embed_dims, 4 * embed_dims, drop_path,
                                       with_norm=True, eps=eps)])

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.attentions[0](x, num_frames)
        x = self.attentions[1](x, num_frames)
        return self.ffns[0](x)


class PreNormLayer(nn.Module):
    """``operation_order = ('norm', 'self_attn', 'norm', 'ffn')``: a pre-norm ViT block."""

    def __init__(self, embed_dims: int, num_heads: int, drop_path: float, eps: float):
        super().__init__()
        self.attentions = nn.ModuleList([SelfAttention(embed_dims, num_heads, drop_path)])
        self.ffns = nn.ModuleList([FFN(embed_dims, 4 * embed_dims, drop_path,
                                       with_norm=False, eps=eps)])
        self.norms = nn.ModuleList([nn.LayerNorm(embed_dims, eps=eps) for _ in range(2)])

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        x = self.attentions[0](self.norms[0](x), identity=x)
        return self.ffns[0](self.norms[1](x), identity=x)


class TransformerLayers(nn.Module):
    """Holds ``layers`` as mmcv's ``TransformerLayerSequence`` does."""

    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, num_frames)
        return x


def _trunc_normal_(tensor: torch.Tensor, std: float) -> None:
    # mmengine's trunc_normal_(std) truncates at +-2 (absolute), as timm does
    nn.init.trunc_normal_(tensor, std=std, a=-2.0, b=2.0)


class TimeSformer(PretrainedMixin):
    """TimeSformer: a ViT over the frames of a clip, ``[N, C, T, H, W]`` -> cls feature ``[N, D]``.

    ``attention_type``: ``divided_space_time`` (each block: temporal attention among the tokens
    of one patch position, then spatial attention within each frame, then the MLP),
    ``joint_space_time`` (one attention over all ``T * P + 1`` tokens) or ``space_only`` (a ViT
    per frame, frames averaged before the final norm; no time embedding).

    :param num_frames: frames per clip (``T``); the time embedding has this many rows, so
        divided and joint attention need exactly this many frames.
    :param img_size: frame height and width the position embedding is made for.
    :param patch_size: side of the square patches.
    :param embed_dims: token width.
    :param num_heads: attention heads.
    :param num_transformer_layers: transformer blocks.
    :param in_channels: input channels.
    :param dropout_ratio: dropout after adding the position and time embeddings.
    :param drop_path_rate: stochastic depth of the last block, rising linearly from 0 in the
        first (MMAction2 fixes it at 0.1; its ``transformer_layers`` mmcv config is not taken).
    :param attention_type: see above.
    :param norm_eps: epsilon of every LayerNorm (MMAction2: ``norm_cfg = dict(type='LN', eps=1e-6)``).
    :param pretrained: a local ViT (mmcv layout, e.g. MMAction2's ``vit_base_patch16_224.pth``),
        TimeSformer state dict or actioncore checkpoint of a TimeSformer recognizer (its
        ``backbone.*`` tensors), loaded non-strictly once the model is built; a ViT or
        ``space_only`` one gets MMAction2's renaming for divided attention (ViT block norms to
        the attention/FFN norms, spatial weights copied to the temporal attention).
    """

    def __init__(
        self, *, num_frames: int, img_size: int = 224, patch_size: int = 16,
        embed_dims: int = 768, num_heads: int = 12, num_transformer_layers: int = 12,
        in_channels: int = 3, dropout_ratio: float = 0.0, drop_path_rate: float = 0.1,
        attention_type: AttentionType = "divided_space_time", norm_eps: float = 1e-6,
        pretrained: str | None = None,
    ):
        super().__init__()
        if attention_type not in ("divided_space_time", "space_only", "joint_space_time"):
            raise ValueError(f"timesformer attention_type {attention_type!r}: expected "
                             f"'divided_space_time', 'space_only' or 'joint_space_time'")
        if num_frames < 1 or num_transformer_layers < 1:
            raise ValueError("timesformer num_frames and num_transformer_layers must be positive")
        if embed_dims % num_heads:
            raise ValueError(f"timesformer embed_dims {embed_dims} is not a multiple of "
                             f"num_heads {num_heads}")
        self.num_frames = num_frames
        self.embed_dims = embed_dims
        self.out_channels = embed_dims
        self.num_transformer_layers = num_transformer_layers
        self.attention_type = attention_type
        self.patch_embed = PatchEmbed(img_size, patch_size, in_channels, embed_dims)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dims))
        self.drop_after_pos = nn.Dropout(dropout_ratio)
        if attention_type != "space_only":
            self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dims))
            self.drop_after_time = nn.Dropout(dropout_ratio)
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        block = DividedLayer if attention_type == "divided_space_time" else PreNormLayer
        rates = [drop_path_rate * i / max(num_transformer_layers - 1, 1)
                 for i in range(num_transformer_layers)]  # np.linspace(0, rate, n)
        self.transformer_layers = TransformerLayers(
            [block(embed_dims, num_heads, rate, norm_eps) for rate in rates])
        if not self.pos_embed.is_meta:
            _trunc_normal_(self.pos_embed, std=0.02)
            _trunc_normal_(self.cls_token, std=0.02)
        self.pretrained = pretrained

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``[N, C, T, H, W]`` -> cls-token features ``[N, embed_dims]``."""
        if x.dim() != 5:
            raise ValueError(f"timesformer expects [N, C, T, H, W] clips, got shape {tuple(x.shape)}")
        b, _, t, h, w = x.shape
        size = self.patch_embed.img_size
        if (h, w) != (size, size):
            raise ValueError(f"timesformer was built for {size}x{size} frames (img_size), "
                             f"got {h}x{w}")
        if self.attention_type != "space_only" and t != self.num_frames:
            raise ValueError(f"timesformer was built for num_frames = {self.num_frames}, got "
                             f"clips of {t} frames")
        x = self.patch_embed(x)                                    # [b*t, p, m]
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = self.drop_after_pos(x + self.pos_embed)
        if self.attention_type != "space_only":
            bt, p1, m = x.shape
            cls = x[::t, :1]                                       # frame 0's cls of each clip
            tokens = x[:, 1:].reshape(b, t, p1 - 1, m).transpose(1, 2)  # [b, p, t, m]
            tokens = self.drop_after_time(tokens + self.time_embed.unsqueeze(1))
            x = torch.cat((cls, tokens.reshape(b, (p1 - 1) * t, m)), dim=1)
        x = self.transformer_layers(x, t)
        if self.attention_type == "space_only":
            x = x.reshape(b, t, *x.shape[1:]).mean(dim=1)
        return self.norm(x)[:, 0]

    # ------------------------------------------------------------------ weights
    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A ViT / TimeSformer state dict as MMAction2's ``init_weights`` takes it, non-strictly:
        tensors of another name or shape are skipped, ours that the file lacks keep their
        initialisation (both logged)."""
        state = backbone_weights(state)
        if self.attention_type == "divided_space_time" and not any(".attentions.1." in k for k in state):
            state = self.vit_to_divided(state)
        own = self.state_dict()
        usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
        skipped = sorted(k for k in state if k not in usable)
        missing = sorted(k for k in own if k not in usable)
        logger.info("timesformer: loaded %d tensors from %s", len(usable), self.pretrained)
        if skipped or missing:
            logger.warning("timesformer: %s: %d tensors not used (e.g. %s), %d left at their "
                           "initial values (e.g. %s)", self.pretrained, len(skipped), skipped[:3],
                           len(missing), missing[:3])
        return {**own, **usable}

    @staticmethod
    def vit_to_divided(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2's renaming of ViT block weights for divided attention.

        ``norms.0`` -> ``attentions.0.norm``, ``norms.1`` -> ``ffns.0.norm``, then every
        ``attentions.0`` tensor is copied to ``attentions.1`` (spatial attention starts from the
        ViT attention, and so does the temporal one).
        """
        out: dict[str, torch.Tensor] = {}
        for key, value in state.items():
            if "norms" in key:
                key = key.replace("norms.0", "attentions.0.norm").replace("norms.1", "ffns.0.norm")
            out[key] = value
        for key in list(out):
            if "attentions.0" in key:
                out[key.replace("attentions.0", "attentions.1")] = out[key].clone()
        return out


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["TimeSformer", "AttentionType", "count_parameters"]
