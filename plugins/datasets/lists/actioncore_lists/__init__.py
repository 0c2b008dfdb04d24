"""Annotation lists in the MMAction2 and X-Temporal/CMR formats."""
from .lists import CmrList, RawframeList, UnlabeledVideoList, VideoList

__all__ = ["CmrList", "RawframeList", "UnlabeledVideoList", "VideoList"]
