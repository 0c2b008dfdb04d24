"""Pose data for actioncore: record stores, the MMAction2 pickle converter, layouts and pose steps."""
from .dataset import SEPARATOR, PoseRecords
from .layouts import COCO, LAYOUTS, NTU_RGBD, OPENPOSE, Layout, get_layout
from .records import PoseRecord, PoseStore, write_store

__all__ = ["COCO", "LAYOUTS", "NTU_RGBD", "OPENPOSE", "SEPARATOR", "Layout", "PoseRecord", "PoseRecords",
           "PoseStore", "get_layout", "write_store"]
