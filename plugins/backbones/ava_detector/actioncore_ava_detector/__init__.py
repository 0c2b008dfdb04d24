"""Spatio-temporal action detection models (MMAction2's AVA detectors) for actioncore."""
from .acrn import ACRNHead
from .bbox_head import BBoxHeadAVA, focal_bce
from .detector import AVADetector
from .feature_bank import FeatureBank
from .lfb import FBOConfig, FBOHead, LFBConfig
from .roi_extractor import RoIExtractorConfig, SingleRoIExtractor3D

__all__ = ["ACRNHead", "AVADetector", "BBoxHeadAVA", "FBOConfig", "FBOHead", "FeatureBank",
           "LFBConfig", "RoIExtractorConfig", "SingleRoIExtractor3D", "focal_bce"]
