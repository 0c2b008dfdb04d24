"""The two motion-enhancement modules of CMR, on frames ``[N * T, C, H, W]``.

Both multiply their input by a gate ``2 * sigmoid(a)`` whose logit ``a`` is a bias-free, linear
function of a *motion* signal that is exactly zero when the clip does not change. So a static
clip passes through unchanged, and with the last layer zero-initialised (the default) every clip
does at initialisation: the modules start as the identity and a pretrained TSM is unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk.layers import Conv2d


def _clips(x: torch.Tensor, num_segments: int) -> torch.Tensor:
    nt = x.shape[0]
    if nt % num_segments:
        raise ValueError(f"motion enhancement: {nt} frames are not a multiple of "
                         f"num_segments = {num_segments}")
    return x.reshape(nt // num_segments, num_segments, *x.shape[1:])


def adjacent_difference(f: torch.Tensor) -> torch.Tensor:
    """``f[:, t + 1] - f[:, t]`` for each frame ``t`` of ``f`` ``[N, T, ...]``.

    The last frame has no successor and takes the difference of the last pair,
    ``f[:, T - 1] - f[:, T - 2]``; a single-frame clip has zero difference.
    """
    if f.shape[1] < 2:
        return torch.zeros_like(f)
    d = f[:, 1:] - f[:, :-1]
    return torch.cat([d, d[:, -1:]], dim=1)


class CME(nn.Module):
    """Channel-wise Motion Enhancement: per-frame channel gates from all the other frames.

    ``z_t`` = spatial mean of frame ``t`` (``C``), ``u_t = W_1 z_t`` (``C / reduction``),
    ``m_t = mean_{i != t} |u_t - u_i|`` (how much each squeezed channel of frame ``t`` differs
    from every other frame of the clip: a global temporal receptive field),
    ``gate_t = 2 * sigmoid(W_2 m_t)`` (``C``), output ``x_t * gate_t``. ``W_1``, ``W_2`` are
    bias-free; ``W_2`` starts at zero. Static clip: ``m = 0``, gates 1.
    """

    def __init__(self, channels: int, num_segments: int, reduction: int = 16, zero_init: bool = True):
        super().__init__()
        if reduction < 1:
            raise ValueError(f"CME reduction must be positive, got {reduction}")
        hidden = max(1, channels // reduction)
        self.num_segments = num_segments
        self.squeeze = nn.Linear(channels, hidden, bias=False)
        self.expand = nn.Linear(hidden, channels, bias=False)
        if zero_init:
            nn.init.zeros_(self.expand.weight)

    def motion(self, x: torch.Tensor) -> torch.Tensor:
        """The motion descriptor ``m`` ``[N, T, C / reduction]``."""
        u = self.squeeze(_clips(x, self.num_segments).mean(dim=(3, 4)))     # N, T, C'
        t = u.shape[1]
        if t < 2:
            return torch.zeros_like(u)
        pairwise = (u.unsqueeze(2) - u.unsqueeze(1)).abs()                 # N, T, T, C'
        return pairwise.sum(dim=2) / (t - 1)                               # the i = t term is 0

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """The channel gates ``[N * T, C]``, each in ``(0, 2)``."""
        return 2 * torch.sigmoid(self.expand(self.motion(x))).flatten(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gates(x)[:, :, None, None].to(x.dtype)


class SME(nn.Module):
    """Spatial-wise Motion Enhancement: a per-frame spatial map from adjacent-frame changes.

    ``f_t = W_e x_t`` (1x1 convolution to ``C / reduction`` channels), then per position ``p``
    the point-to-point change to the next frame: ``d_t(p) = f_{t+1}(p) - f_t(p)`` and the
    dissimilarity ``1 - cos(f_t(p), f_{t+1}(p))`` (0 for equal vectors, zero ones included; the
    last frame reuses the pair ``(T - 2, T - 1)``, as :func:`adjacent_difference`); a 3x3 convolution of the ``C / reduction + 1`` maps gives the logit of
    ``attention_t = 2 * sigmoid(.)`` ``[1, H, W]``, output ``x_t * attention_t``. Convolutions
    are bias-free, the 3x3 one starts at zero. Static clip: all maps 0, attention uniformly 1.
    """

    def __init__(self, channels: int, num_segments: int, reduction: int = 16, zero_init: bool = True):
        super().__init__()
        if reduction < 1:
            raise ValueError(f"SME reduction must be positive, got {reduction}")
        hidden = max(1, channels // reduction)
        self.num_segments = num_segments
        self.embed = Conv2d(channels, hidden, 1, bias=False)
        self.attend = Conv2d(hidden + 1, 1, 3, padding=1, bias=False)
        if zero_init:
            nn.init.zeros_(self.attend.weight)

    def motion(self, x: torch.Tensor) -> torch.Tensor:
        """The motion maps ``[N * T, C / reduction + 1, H, W]`` (differences, dissimilarity)."""
        f = _clips(self.embed(x), self.num_segments)                       # N, T, C', H, W
        if f.shape[1] < 2:
            return torch.zeros(x.shape[0], f.shape[2] + 1, *x.shape[2:], dtype=f.dtype, device=f.device)
        # pairs (earlier, later): (t, t + 1), and for the last frame (T - 2, T - 1) again
        earlier = torch.cat([f[:, :-1], f[:, -2:-1]], dim=1)
        later = torch.cat([f[:, 1:], f[:, -1:]], dim=1)
        d = later - earlier
        # 1 - cosine similarity, written so that two equal vectors (zero ones too) give 0
        norms = earlier.norm(dim=2) * later.norm(dim=2)
        dissimilarity = (norms - (earlier * later).sum(dim=2)) / (norms + 1e-6)
        return torch.cat([d, dissimilarity.unsqueeze(2)], dim=2).flatten(0, 1)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """The spatial attention ``[N * T, 1, H, W]``, each value in ``(0, 2)``."""
        return 2 * torch.sigmoid(self.attend(self.motion(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.attention(x).to(x.dtype)
