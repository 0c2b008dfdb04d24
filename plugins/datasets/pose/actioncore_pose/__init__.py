"""Pose data for actioncore: record stores, the MMAction2 pickle converter, layouts and pose steps."""
from .layouts import COCO, LAYOUTS, NTU_RGBD, OPENPOSE, Layout, get_layout
from .records import PoseRecord, PoseStore, write_store

__all__ = ["COCO", "LAYOUTS", "NTU_RGBD", "OPENPOSE", "Layout", "PoseRecord", "PoseStore", "get_layout",
           "write_store"]
