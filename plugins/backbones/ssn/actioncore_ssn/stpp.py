"""Structured temporal pyramid pooling (STPP), the training and the test variant of MMAction2 0.24.

A proposal is seen in three stages: starting (the augmentation before it), course (the proposal)
and ending (the augmentation after it). Each stage is a pyramid: ``stage = (1, 2)`` pools the
whole stage and its two halves, ``stage = 1`` the whole stage; ``stpp_stage = (1, 1, 1)`` (0.24's
THUMOS14 configs) gives three parts. Starting and ending parts are scaled by the share of their
augmentation inside the video (the scale factors).

Training pools *features* of the fixed ``(2, 5, 2)`` frames of each sampled proposal; a part is
the mean of its frames divided by its stage's number of parts. Testing pools *scores*: the
classifiers are applied to every sampled frame first (:func:`split_test_scores`), then each
proposal averages the per-frame scores over its parts in sampled-frame ticks; the per-part
completeness / regression scores are summed. As in 0.24, test parts are not divided by their
stage's number of parts (they match training only for one-part stages).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

StageConfig = int | Sequence[int]


def stage_parts(stage: StageConfig) -> tuple[int, ...]:
    """A stage's pyramid levels: ``1 -> (1,)``, ``(1, 2) -> (1, 2)``."""
    parts = (int(stage),) if isinstance(stage, int) else tuple(int(p) for p in stage)
    if not parts or min(parts) < 1:
        raise ValueError(f"STPP stage {stage!r} must be a positive int or a tuple of them")
    return parts


def num_parts(stpp_stage: Sequence[StageConfig]) -> int:
    """Parts over all three stages (0.24's ``num_multipliers``): 3 for ``(1, 1, 1)``."""
    return sum(sum(stage_parts(s)) for s in stpp_stage)


def _ticks(left: float, right: float, parts: int) -> torch.Tensor:
    """0.24's part boundaries: ``arange(left, right + 1e-5, (right - left) / parts)`` cut to int."""
    return torch.arange(left, right + 1e-5, (right - left) / parts).int()


def stpp_train(features: torch.Tensor, scale_factors: torch.Tensor, *, stpp_stage: Sequence[StageConfig],
               num_segments: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(course [N, C], stpp [N, num_parts * C])`` from frame features ``[N * sum(num_segments), C]``.

    ``scale_factors`` ``[N, 2]`` scale the starting and ending stages.
    """
    total = sum(num_segments)
    x = features.reshape(-1, total, features.shape[-1])
    scales = scale_factors.reshape(-1, 2).to(x.dtype)
    bounds = (0, num_segments[0], num_segments[0] + num_segments[1], total)
    pooled = []
    for index, stage in enumerate(stpp_stage):
        levels = stage_parts(stage)
        stage_x = x[:, bounds[index]:bounds[index + 1]]
        length = stage_x.shape[1]
        scale = scales[:, 0:1] if index == 0 else scales[:, 1:2] if index == 2 else None
        for parts in levels:
            ticks = _ticks(0, length, parts)
            for i in range(parts):
                part = stage_x[:, ticks[i]:ticks[i + 1]].mean(dim=1) / sum(levels)
                pooled.append(part if scale is None else part * scale)
    return x[:, bounds[1]:bounds[2]].mean(dim=1), torch.cat(pooled, dim=1)


def _pyramid(raw: torch.Tensor, ticks: Sequence[int], scales: Sequence[float], score_len: int,
             stpp_stage: Sequence[StageConfig]) -> torch.Tensor:
    """One proposal's completeness or regression scores ``[score_len]`` from per-frame scores
    ``[T, num_parts * score_len]`` (0.24's ``STPPTest._pyramids_pooling``)."""
    out = raw.new_zeros(score_len)
    offset = 0
    for index, stage in enumerate(stpp_stage):
        levels = stage_parts(stage)
        scale = scales[0] if index == 0 else scales[1] if index == len(stpp_stage) - 1 else 1.0
        left = int(ticks[index])
        right = float(max(ticks[index] + 1, ticks[index + 1]))
        if right <= 0 or left >= raw.shape[0]:
            offset += sum(levels)
            continue
        for parts in levels:
            part_ticks = _ticks(left, right, parts)
            for i in range(parts):
                if part_ticks[i + 1] - part_ticks[i] >= 1:
                    block = raw[part_ticks[i]:part_ticks[i + 1], offset * score_len:(offset + 1) * score_len]
                    out += block.mean(dim=0) * scale
                offset += 1
    return out


def stpp_test(scores: torch.Tensor, proposal_ticks: torch.Tensor, scale_factors: torch.Tensor, *,
              num_classes: int, stpp_stage: Sequence[StageConfig], use_regression: bool = True
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-proposal ``(activity [N, K+1], completeness [N, K], regression [N, 2K] or None)`` from
    per-frame test scores ``[T, (K+1) + parts * K (+ parts * 2K)]`` (0.24's ``STPPTest``).

    Activity averages the course ticks ``[start, max(start + 1, end))``; completeness and
    regression go through the pyramid of each stage.
    """
    parts = num_parts(stpp_stage)
    complete_end = num_classes + 1 + parts * num_classes
    activity_raw = scores[:, :num_classes + 1]
    complete_raw = scores[:, num_classes + 1:complete_end]
    reg_raw = scores[:, complete_end:complete_end + parts * 2 * num_classes] if use_regression else None
    activity, complete, reg = [], [], []
    for ticks, scales in zip(proposal_ticks.tolist(), scale_factors.tolist()):
        activity.append(activity_raw[ticks[1]:max(ticks[1] + 1, ticks[2])].mean(dim=0))
        complete.append(_pyramid(complete_raw, ticks, scales, num_classes, stpp_stage))
        if reg_raw is not None:
            reg.append(_pyramid(reg_raw, ticks, scales, 2 * num_classes, stpp_stage))
    return torch.stack(activity), torch.stack(complete), torch.stack(reg) if reg_raw is not None else None
