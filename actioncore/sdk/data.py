"""Types and helpers for dataset plugins and pipeline steps.

A dataset factory returns an object with ``records`` (a sequence of :class:`ClipRecord`) and a
``pipeline`` (:class:`Pipeline` of steps); the kernel wraps it in a :class:`ClipDataset` with the
experiment's decoder. A step is a callable ``VideoSample -> VideoSample`` (:class:`Step`).
"""
from __future__ import annotations

from typing import Any

from ..config.experiment import Experiment
from ..data import check as _check
from ..data import probe as _probe
from ..data import splits as _splits
from ..data.dataset import AnnotationSet, BadSample, ClipDataset, ClipRecord
from ..data.decoders.base import VideoReader
from ..data.loader import collate
from ..data.pickles import PICKLE_SUFFIXES, load_trusted_pickle
from ..data.pipeline import Pipeline, Step
from ..data.probe import probe
from ..data.sample import VideoSample
from ..data.splits import num_classes_of
from ..data.transforms import RandomResizedCrop, Resize, normalize_on_device
from ..plugin.host import current_host

__all__ = ["PICKLE_SUFFIXES", "AnnotationSet", "BadSample", "ClipDataset", "ClipRecord", "Pipeline", "Step",
           "VideoReader", "VideoSample", "build_decoder", "build_split", "check_splits", "collate",
           "load_trusted_pickle", "normalize_on_device", "num_classes_of", "probe", "split_pipeline", "synthesize",
           "RandomResizedCrop", "Resize"]


def split_pipeline(experiment: Experiment, split: str) -> Pipeline:
    """The built pipeline of ``data.<split>``."""
    return _probe.split_pipeline(experiment, split, current_host().registry)


def build_decoder(experiment: Experiment, default: str) -> Any:
    """The experiment's ``data.decoder``, or the decoder named ``default`` when it sets none."""
    return _splits.build_decoder(experiment, default, current_host().registry)


def build_split(experiment: Experiment, split: str) -> ClipDataset:
    """The dataset of ``data.<split>`` with its pipeline and the experiment's decoder."""
    return _splits.build_split(experiment, split, current_host().registry)


def check_splits(experiment: Experiment, **options: Any) -> Any:
    """What ``actioncore data check`` reports for the experiment's splits."""
    return _check.check_splits(experiment, current_host().registry, **options)


def synthesize(kind: str, out: Any, *, seed: int = 0, **options: Any) -> Any:
    """Write the embedded data set ``kind`` to ``out`` (what ``actioncore data synth`` does)."""
    from ..data.synth import synthesize as _synthesize

    return _synthesize(kind, out, seed=seed, **options)
