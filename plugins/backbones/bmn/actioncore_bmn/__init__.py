"""BMN, the Boundary-Matching Network, for actioncore's localization task."""
from .bm_layer import BoundaryMatchingLayer, sample_mask
from .bmn import BMN
from .loss import bmn_loss

__all__ = ["BMN", "BoundaryMatchingLayer", "bmn_loss", "sample_mask"]
