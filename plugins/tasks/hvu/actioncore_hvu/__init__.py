"""HVU multi-tag recognition: the HVU annotation format, ``HVULoss`` and per-category mAP."""
from .dataset import HVU_CATEGORIES, HVU_CATEGORY_NUMS, HVUDataset
from .loss import HVULoss
from .task import HVUAdapter, HVUMeanAveragePrecision, HVUTask

__all__ = ["HVU_CATEGORIES", "HVU_CATEGORY_NUMS", "HVUAdapter", "HVUDataset", "HVULoss", "HVUMeanAveragePrecision",
           "HVUTask"]
