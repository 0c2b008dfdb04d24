"""VideoMAE's masked autoencoder for pre-training (``modeling_pretrain.PretrainVisionTransformer``
of the official code, MCG-NJU/VideoMAE): the ViT encoder sees only the visible tokens; a narrow
decoder gets them (projected to its width, plus its own sinusoid positions) followed by one shared
``mask_token`` per hidden token (plus the hidden positions), and predicts the pixels of the hidden
cubes.

The encoder is this plugin's :class:`~actioncore_videomae.VisionTransformer` under ``backbone``
(built without mean pooling: its final ``norm`` is the pre-training encoder's), so a
pre-training checkpoint's ``backbone.*`` tensors are exactly what the ``videomae`` recognizer's
backbone loads to fine-tune (``runtime.load_from`` or ``model.backbone.pretrained``).

The masking, the pixel targets and the loss belong to the ``masked_video_pretraining`` task
(actioncore-masked-video); this module is the network only.
"""
from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk import Backbone

from .vit import Block, VisionTransformer, drop_path_rates, init_vit_weights, sinusoid_table


class VideoMAEPretrainer(nn.Module):
    """Encoder + lightweight decoder: ``(clips [N, C, T, H, W], mask [N, L]) -> [N, hidden, D]``,
    ``D = in_channels * tubelet_size * patch_size ** 2`` pixel values per hidden cube, in the
    order of the hidden tokens (time-major, as ``mask[i].nonzero()`` lists them).

    Defaults are the official ViT-B recipe (``pretrain_videomae_base_patch16_224``, decoder
    depth 4): decoder width 384, 6 heads; ViT-S uses 192 / 3, ViT-L 512 / 8.

    Initialisation follows the official code: every Linear xavier-uniform (bias 0), LayerNorm 1/0,
    ``mask_token`` truncated normal (std 0.02); the encoder's MMAction2 default (truncated normal)
    is replaced accordingly.

    :param backbone: the encoder, a ``videomae`` ViT with ``use_mean_pooling = false``.
    :param decoder_embed_dims: decoder token width.
    :param decoder_depth: decoder blocks.
    :param decoder_num_heads: decoder attention heads.
    :param mlp_ratio: decoder MLP hidden width / ``decoder_embed_dims``.
    :param qkv_bias: decoder attention learns ``q_bias`` / ``v_bias``.
    :param drop_path_rate: decoder stochastic depth of the last block (official: 0).
    :param init_values: decoder LayerScale initial value (official: 0, off).
    :param norm_eps: decoder LayerNorm epsilon.
    """

    def __init__(self, *, backbone: Backbone, decoder_embed_dims: int = 384, decoder_depth: int = 4,
                 decoder_num_heads: int = 6, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path_rate: float = 0.0, init_values: float = 0.0, norm_eps: float = 1e-6):
        super().__init__()
        if not isinstance(backbone, VisionTransformer):
            raise TypeError(f"videomae_pretrainer needs a 'videomae' backbone, got {type(backbone).__name__}")
        if backbone.fc_norm is not None or backbone.return_feat_map:
            raise ValueError("videomae_pretrainer: set model.backbone.use_mean_pooling = false (the pre-training "
                             "encoder ends with its own norm over the visible tokens) and return_feat_map = false")
        self.backbone = backbone
        self.patch_size = backbone.patch_size
        self.tubelet_size = backbone.tubelet_size
        in_channels = backbone.patch_embed.projection.in_channels
        self.encoder_to_decoder = nn.Linear(backbone.embed_dims, decoder_embed_dims, bias=False)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dims))
        self.register_buffer("decoder_pos_embed", sinusoid_table(backbone.pos_embed.shape[1], decoder_embed_dims),
                             persistent=False)
        self.decoder = nn.Module()
        self.decoder.blocks = nn.ModuleList([
            Block(decoder_embed_dims, decoder_num_heads, mlp_ratio=mlp_ratio, qkv_bias=qkv_bias,
                  drop_path_rate=rate, init_values=init_values, norm_eps=norm_eps)
            for rate in drop_path_rates(drop_path_rate, decoder_depth)])
        self.decoder.norm = nn.LayerNorm(decoder_embed_dims, eps=norm_eps)
        self.decoder.head = nn.Linear(decoder_embed_dims, in_channels * self.tubelet_size * self.patch_size ** 2)
        if not self.mask_token.is_meta:
            init_vit_weights(self, xavier=True)
            nn.init.trunc_normal_(self.mask_token, std=0.02, a=-2.0, b=2.0)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predicted pixels of the hidden cubes ``[N, hidden, D]`` (``mask``: bool ``[N, L]``,
        True = hidden, the same count per row)."""
        n = inputs.shape[0]
        visible = self.encoder_to_decoder(self.backbone(inputs, mask))
        pos = self.position_table(mask).expand(n, -1, -1)
        width = visible.shape[2]
        pos_visible = pos[~mask].reshape(n, -1, width)
        pos_hidden = pos[mask].reshape(n, -1, width)
        x = torch.cat((visible + pos_visible, self.mask_token + pos_hidden), dim=1)
        for block in self.decoder.blocks:
            x = block(x)
        hidden = pos_hidden.shape[1]
        return self.decoder.head(self.decoder.norm(x[:, -hidden:]))

    def position_table(self, mask: torch.Tensor) -> torch.Tensor:
        if mask.shape[1] != self.decoder_pos_embed.shape[1]:
            raise ValueError(f"videomae_pretrainer: the mask has {mask.shape[1]} tokens, the model was built for "
                             f"{self.decoder_pos_embed.shape[1]} (model.backbone.img_size / num_frames)")
        return self.decoder_pos_embed


__all__ = ["VideoMAEPretrainer"]
