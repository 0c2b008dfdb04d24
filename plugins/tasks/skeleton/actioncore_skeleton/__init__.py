"""Skeleton-based action recognition: the ``skeleton`` task and the ``recognizer_gcn`` model."""
from .recognizer import RecognizerGCN
from .task import SkeletonTask

__all__ = ["RecognizerGCN", "SkeletonTask"]
