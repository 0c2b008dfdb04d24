"""Temporal action localization: ActivityNet features, proposal targets, soft-NMS, AR@AN, the task."""
from .annotations import VideoAnnotation, read_activitynet
from .dataset import ActivityNetDataset
from .detection_map import ACTIVITYNET_TIOU, THUMOS14_TIOU, Detection, DetectionMAP
from .features import LoadLocalizationFeature, LocalizationFeatureDecoder, read_feature_file, rescale_features
from .labels import bmn_targets, bmn_targets_batch, tem_targets, tem_targets_batch, temporal_iop, temporal_iou
from .losses import binary_logistic_regression_loss
from .metrics import ARatAN, average_recall_at_avg_proposals
from .postprocess import post_process, soft_nms
from .task import LocalizationTask

__all__ = [
    "ACTIVITYNET_TIOU", "ARatAN", "Detection", "DetectionMAP", "THUMOS14_TIOU", "ActivityNetDataset", "LoadLocalizationFeature", "LocalizationFeatureDecoder", "LocalizationTask",
    "VideoAnnotation", "average_recall_at_avg_proposals", "binary_logistic_regression_loss", "bmn_targets",
    "bmn_targets_batch", "post_process", "read_activitynet", "read_feature_file", "rescale_features",
    "soft_nms", "tem_targets", "tem_targets_batch", "temporal_iop", "temporal_iou",
]
