"""PEM's loss: IoU regression on a class-balanced sample of proposals.

(TEM's binary logistic regression loss is shared with BMN: ``actioncore_localization.losses``.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def proposal_iou_loss(predicted: torch.Tensor, reference: torch.Tensor, *, high_threshold: float = 0.6,
                      low_threshold: float = 0.2, ratio_medium: float = 1.0, ratio_low: float = 2.0,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Smooth-L1 regression of proposal IoU, on all high-IoU proposals and a sample of the rest.

    Proposals split by their reference IoU into high (> ``high_threshold``), medium and low
    (<= ``low_threshold``). Every high one counts; medium ones are drawn with probability
    ``ratio_medium * n_high / n_medium`` and low ones with ``ratio_low * n_high / n_low`` (each
    capped at 1), so that the many poor proposals do not swamp the few good ones (BSN, 3.4).
    The loss is the mean smooth-L1 over the drawn proposals; zero (with a gradient path) when
    none is drawn.

    MMAction2 1.2.0 reduces the smooth-L1 to its mean *before* applying these weights, so there
    the sampling has no effect; this function weights each proposal as the original BSN does.
    """
    predicted = predicted.reshape(-1)
    reference = reference.reshape(-1).to(predicted.device, predicted.dtype)
    high = reference > high_threshold
    low = reference <= low_threshold
    medium = ~high & ~low
    num_high = float(high.sum())
    keep = high.clone()
    for mask, ratio in ((medium, ratio_medium), (low, ratio_low)):
        count = float(mask.sum())
        if count == 0:
            continue
        share = min(ratio * num_high / count, 1.0)
        device = generator.device if generator is not None else reference.device
        draws = torch.rand(reference.shape, generator=generator, device=device).to(reference.device)
        keep |= mask & (draws > 1.0 - share)
    weights = keep.to(predicted.dtype)
    per_proposal = F.smooth_l1_loss(predicted, reference, reduction="none")
    return (per_proposal * weights).sum() / weights.sum().clamp(min=1.0)
