"""Annotation lists in the MMAction2 and X-Temporal/CMR formats."""
from .lists import CmrList, RawframeList, VideoList

__all__ = ["CmrList", "RawframeList", "VideoList"]
