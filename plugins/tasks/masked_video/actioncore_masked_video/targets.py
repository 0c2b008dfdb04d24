"""VideoMAE's reconstruction targets (``engine_for_pretraining.train_one_epoch`` of the official
code): the pixels (0-1) of each ``tubelet x patch x patch`` cube, ordered ``(frame, row, column,
channel)``; with ``normalize`` each cube is standardised per channel over its own pixels (mean, and
the *unbiased* standard deviation plus 1e-6), the paper's normalised-pixel target."""
from __future__ import annotations

import torch

EPS = 1e-6
"""Added to each cube's standard deviation, as the official code does."""


def cube_pixels(videos: torch.Tensor, *, tubelet_size: int, patch_size: int) -> torch.Tensor:
    """``[N, C, T, H, W]`` -> ``[N, L, tubelet * patch * patch, C]``; ``L`` cubes time-major
    (``einops``: ``b c (t p0) (h p1) (w p2) -> b (t h w) (p0 p1 p2) c``)."""
    n, c, t, h, w = videos.shape
    if t % tubelet_size or h % patch_size or w % patch_size:
        raise ValueError(f"clips of {t} frames of {h}x{w} do not split into {tubelet_size}x{patch_size}x{patch_size} cubes")
    x = videos.reshape(n, c, t // tubelet_size, tubelet_size, h // patch_size, patch_size, w // patch_size, patch_size)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)
    return x.reshape(n, -1, tubelet_size * patch_size * patch_size, c)


def pixel_targets(videos: torch.Tensor, *, tubelet_size: int, patch_size: int, normalize: bool = True) -> torch.Tensor:
    """``[N, L, tubelet * patch * patch * C]`` targets of 0-1 ``videos`` (see the module docstring)."""
    cubes = cube_pixels(videos.float(), tubelet_size=tubelet_size, patch_size=patch_size)
    if normalize:
        std = cubes.var(dim=-2, unbiased=True, keepdim=True).sqrt()
        cubes = (cubes - cubes.mean(dim=-2, keepdim=True)) / (std + EPS)
    return cubes.flatten(2)


__all__ = ["EPS", "cube_pixels", "pixel_targets"]
