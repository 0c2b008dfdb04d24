"""Masked video pre-training for actioncore: VideoMAE's tube masking, normalised-pixel targets
and the ``masked_video_pretraining`` task that trains a masked autoencoder on unlabeled videos."""
from .masking import hidden_per_slice, tube_mask
from .targets import cube_pixels, pixel_targets
from .task import MaskedVideoAdapter, MaskedVideoPretrainingTask

__all__ = ["MaskedVideoAdapter", "MaskedVideoPretrainingTask", "cube_pixels", "hidden_per_slice", "pixel_targets",
           "tube_mask"]
