"""The kernel's own components, registered like any plugin's under the distribution ``actioncore``.

Imports happen inside the hooks: the registry is collected only when a command needs it, so
``actioncore --help`` never pays for torch.
"""
from __future__ import annotations

from collections.abc import Mapping

from .. import hookimpl
from ..hookspecs import Factory


@hookimpl
def actioncore_models() -> Mapping[str, Factory]:
    from .models import Sequential

    return {"sequential": Sequential}


@hookimpl
def actioncore_decoders() -> Mapping[str, Factory]:
    from .decoders import FrameFolderDecoder, PyAVDecoder
    from .decoders.auto import AutoDecoder
    from .decoders.image import ImageDecoder

    return {"pyav": PyAVDecoder, "frame_folder": FrameFolderDecoder, "auto": AutoDecoder,
            "image": ImageDecoder}


@hookimpl
def actioncore_transforms() -> Mapping[str, Factory]:
    from . import samplers
    from .decode import Decode
    from .uniform_sampler import UniformSample
    from .transforms import TRANSFORMS

    return {
        "sample_frames": samplers.SampleFrames,
        "dense_sample_frames": samplers.DenseSampleFrames,
        "untrimmed_sample_frames": samplers.UntrimmedSampleFrames,
        "time_clip_sampler": samplers.TimeClipSampler,
        "uniform_sample": UniformSample,
        "decode": Decode,
        **TRANSFORMS,
    }


@hookimpl
def actioncore_synth() -> Mapping[str, Factory]:
    from .synth.recognition import synth_rawframes, synth_recognition

    return {"recognition": synth_recognition, "rawframes": synth_rawframes}


@hookimpl
def actioncore_converters() -> Mapping[str, Factory]:
    from .converters import convert_image_scores

    return {"image_scores": convert_image_scores}
