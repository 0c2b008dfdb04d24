"""VideoMAE's tube masking (``masking_generator.TubeMaskingGenerator`` of the official code):
one random set of ``int(mask_ratio * h * w)`` patch positions is hidden in every time slice of a
clip, so that a hidden cube cannot be recovered by copying the same place from a neighbouring
frame (videos are redundant in time; the paper's reason for tubes and a 90% ratio)."""
from __future__ import annotations

import torch


def hidden_per_slice(mask_ratio: float, positions: int) -> int:
    """Hidden patch positions per time slice: ``int(mask_ratio * positions)``, as the official
    generator counts them (at least one position must stay visible)."""
    hidden = int(mask_ratio * positions)
    if not 0 < hidden < positions:
        raise ValueError(f"mask_ratio {mask_ratio} hides {hidden} of {positions} patch positions per frame: "
                         f"need at least one hidden and one visible")
    return hidden


def tube_mask(*, batch: int, grid: tuple[int, int, int], mask_ratio: float,
              generator: torch.Generator | None = None, device: torch.device | str = "cpu") -> torch.Tensor:
    """bool ``[batch, t * h * w]`` (True = hidden), time-major as the patch embedding orders its
    tokens; each row has its own positions, repeated over its ``t`` slices of ``grid = (t, h, w)``."""
    t, h, w = grid
    hidden = hidden_per_slice(mask_ratio, h * w)
    order = torch.rand(batch, h * w, generator=generator).argsort(dim=1)
    per_slice = torch.zeros(batch, h * w, dtype=torch.bool).scatter_(1, order[:, :hidden], True)
    return per_slice.repeat(1, t).to(device)


__all__ = ["hidden_per_slice", "tube_mask"]
