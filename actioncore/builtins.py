"""The kernel's own components, registered like any plugin's under the distribution ``actioncore``.

Imports happen inside the hooks: the registry is collected only when a command needs it, so
``actioncore --help`` never pays for torch.
"""
from __future__ import annotations

from collections.abc import Mapping

from . import hookimpl
from .hookspecs import Factory


@hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    from .compose import Sequential

    return {"sequential": Sequential}


@hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    from .data.decoders import FrameFolderDecoder, PyAVDecoder
    from .data.decoders.auto import AutoDecoder

    return {"pyav": PyAVDecoder, "frame_folder": FrameFolderDecoder, "auto": AutoDecoder}


@hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    from .data import sampling
    from .data.decode import Decode
    from .data.transforms import TRANSFORMS

    return {
        "sample_frames": sampling.SampleFrames,
        "dense_sample_frames": sampling.DenseSampleFrames,
        "untrimmed_sample_frames": sampling.UntrimmedSampleFrames,
        "time_clip_sampler": sampling.TimeClipSampler,
        "decode": Decode,
        **TRANSFORMS,
    }


@hookimpl
def actioncore_synth() -> Mapping[str, Factory]:
    from .data.synth.recognition import synth_rawframes, synth_recognition

    return {"recognition": synth_recognition, "rawframes": synth_rawframes}
