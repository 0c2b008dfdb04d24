from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .convert import convert_pose
from .dataset import PoseDecoder, PoseRecords
from .features import FormatGCNInput, GenSkeFeat
from .geometry import PoseCenterCrop, PoseCompact, PoseFlip, PoseRandomResizedCrop, PoseResize
from .heatmaps import FormatHeatmap, GeneratePoseTarget
from .normalize import PreNormalize2D, PreNormalize3D
from .sampling import PoseDecode, UniformSampleFrames
from .synth import synth_skeleton


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"pose_records": PoseRecords}


@actioncore.hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    return {"pose_records": PoseDecoder}


@actioncore.hookimpl
def actioncore_converters() -> Mapping[str, Factory]:
    return {"pose": convert_pose}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return {
        "uniform_sample_frames": UniformSampleFrames,
        "pose_decode": PoseDecode,
        "pre_normalize_2d": PreNormalize2D,
        "pre_normalize_3d": PreNormalize3D,
        "gen_ske_feat": GenSkeFeat,
        "format_gcn_input": FormatGCNInput,
        "pose_compact": PoseCompact,
        "pose_resize": PoseResize,
        "pose_random_resized_crop": PoseRandomResizedCrop,
        "pose_center_crop": PoseCenterCrop,
        "pose_flip": PoseFlip,
        "generate_pose_target": GeneratePoseTarget,
        "format_heatmap": FormatHeatmap,
    }


@actioncore.hookimpl
def actioncore_synth() -> Mapping[str, Factory]:
    return {"skeleton": synth_skeleton}
