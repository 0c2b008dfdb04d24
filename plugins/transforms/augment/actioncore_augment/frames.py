"""Checks shared by the pixel steps: where in a pipeline they may run."""
from __future__ import annotations

import torch

from actioncore.sdk import ConfigError
from actioncore.sdk.data import VideoSample


def clip_frames(sample: VideoSample, step: str) -> torch.Tensor:
    """The sample's uint8 ``[N, H, W, 3]`` frames; a clear error where the step cannot run.

    The steps work on decoded, unformatted RGB frames of one view: before ``format_shape`` and
    before multi-view crops (whose views a per-clip draw would mix up).
    """
    if sample.frames is None:
        raise ConfigError(f"{step} needs decoded frames: put it after the decode step")
    if "input_format" in sample.meta:
        raise ConfigError(f"{step} must come before format_shape in the pipeline")
    if sample.num_crops != 1:
        raise ConfigError(f"{step} works on one view: put it before three_crop/ten_crop")
    frames = sample.frames
    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[-1] != 3:
        raise ConfigError(f"{step} needs uint8 RGB frames [N, H, W, 3], got {frames.dtype} "
                          f"{tuple(frames.shape)} (flow or formatted input?)")
    return frames
