"""Spatio-temporal action detection: AVA data, the detection task, frame-mAP."""
from .annotations import read_action_csv, read_exclusions, read_label_map, read_proposals
from .frame_map import AvaFrameMAP
from .task import DetectionTask

__all__ = ["AvaFrameMAP", "DetectionTask", "read_action_csv", "read_exclusions", "read_label_map", "read_proposals"]
