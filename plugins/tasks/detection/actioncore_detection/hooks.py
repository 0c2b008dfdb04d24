from collections.abc import Mapping

import actioncore
from actioncore.sdk import Factory

from .convert import convert_ava_proposals
from .dataset import AvaDataset
from .frame_map import AvaFrameMAP
from .sampling import SampleAVAFrames
from .synth import synth_detection
from .task import DetectionTask


@actioncore.hookimpl
def actioncore_tasks() -> Mapping[str, Factory]:
    return {"detection": DetectionTask}


@actioncore.hookimpl
def actioncore_datasets() -> Mapping[str, Factory]:
    return {"ava": AvaDataset}


@actioncore.hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    return {"sample_ava_frames": SampleAVAFrames}  # random_rescale is the kernel's


@actioncore.hookimpl
def actioncore_metrics() -> Mapping[str, Factory]:
    return {"ava_frame_map": AvaFrameMAP}


@actioncore.hookimpl
def actioncore_converters() -> Mapping[str, Factory]:
    return {"ava_proposals": convert_ava_proposals}


@actioncore.hookimpl
def actioncore_synth() -> Mapping[str, Factory]:
    return {"detection": synth_detection}
